#!/bin/bash
# The manual pages (build/man, from docs/man/*.scd by `make man`): man -l
# renders them without a groff warning, and ovup(1) documents what ovup
# itself says it has — every verb, and each verb's options in its own
# section, from --help; every exit code; every environment variable the
# sources read — and ovup-patch(5) every macro of include/ovup.h.
. "$(dirname "$0")/lib.sh"

MAN1=$ROOT/build/man/ovup.1
MAN5=$ROOT/build/man/ovup-patch.5
# test hooks: named in the ENVIRONMENT's "For testing only" note, not
# given an entry a user would take for a setting
TEST_ONLY="OVUP_FAULT OVUP_DEVICE OVUP_KALLSYMS OVUP_TEST_SYNC"
# the macros of ovup.h that are helpers of the others, not for patches
MACRO_HELPERS="OVUP_PATCH_H OVUP_CAT OVUP_STR"

for f in "$MAN1" "$MAN5"; do
	if [ ! -s "$f" ]; then
		fail "$f is missing: run 'make man'"
		done_testing
	fi
done

# 1. man -l renders each page, with all of groff's warnings on, and
# stays silent on stderr
for f in "$MAN1" "$MAN5"; do
	MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings=w -l "$f" >"$WORK/render" 2>"$WORK/warn"
	ok $? "man -l $(basename "$f") renders"
	is "$(cat "$WORK/warn")" "" "... without a warning"
	like "$(cat "$WORK/render")" "^SYNOPSIS" "... into a page with a SYNOPSIS"
done

# The text the checks read: wide, so that few lines break, and with the
# words groff hyphenated at a line end (U+2010) joined again.
text() {
	MANWIDTH=1000 LC_ALL=C.UTF-8 man -l "$1" 2>/dev/null | sed -e ':a' -e '/‐$/{N;s/‐\n *//;ba}'
}
PAGE1=$(text "$MAN1")
PAGE5=$(text "$MAN5")

# section NAME: the lines of a section (a heading at column 0) of ovup(1)
section() {
	awk -v h="$1" '/^[^ ]/ { on = ($0 == h); next } on' <<<"$PAGE1"
}
# subsection NAME: the lines of a subsection (a heading at column 3)
subsection() {
	awk -v h="   $1" '/^[^ ]/ || /^   [^ ]/ { on = ($0 == h); next } on' <<<"$PAGE1"
}
# has TEXT WORD: WORD (an option, a variable) as a whole word of TEXT
has() {
	grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|$)" <<<"$1"
}
# options HELP: the options of an option table in --help text: the words
# of an option line ('  -p, --pid PID  the target...') up to its prose
options() {
	awk '/^ +-/ {
		for (i = 1; i <= NF; i++) {
			w = $i; sub(/,$/, "", w)
			if (w ~ /^--?[A-Za-z][A-Za-z-]*$/) print w
			else if (w != "--" && w !~ /^[A-Z.]+$/) break
		}
	}' <<<"$1"
}

# 2. the verbs of 'ovup --help', each a subsection of VERBS with its
# options
run_ovup --help
is "$RC" 0 "ovup --help exits 0"
HELP=$OUT
VERBS=$(awk '/^verbs:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' <<<"$HELP")
like "$VERBS" "^apply$" "the verbs are read from --help"
VERB_SECTION=$(section VERBS)
for v in $VERBS; do
	if grep -qx "   $v" <<<"$VERB_SECTION"; then pass "verb '$v' has its subsection in VERBS"; else
		fail "verb '$v' has its subsection in VERBS"
	fi
	run_ovup "$v" --help
	is "$RC" 0 "ovup $v --help exits 0"
	SUB=$(subsection "$v")
	like "$SUB" "ovup $v" "... its subsection shows 'ovup $v'"
	# an entry of its own, not a mention in the synopsis or the prose
	ITEMS=$(grep -E '^       --?[A-Za-z]' <<<"$SUB")
	for o in $(options "$OUT"); do
		if has "$ITEMS" "$o"; then pass "ovup $v $o has an entry under $v"; else
			fail "ovup $v $o has an entry under $v"
		fi
	done
done
# the subsections are exactly the verbs: no page for a verb ovup lost
is "$(grep -E '^   [^ ]' <<<"$VERB_SECTION" | sed 's/^ *//' | sort)" "$(sort <<<"$VERBS")" \
	"VERBS has a subsection for each verb and no other"

# 3. the common options of 'ovup --help'
COMMON=$(section "COMMON OPTIONS" | grep -E '^       --?[A-Za-z]')
n=0
for o in $(options "$(awk '/^common options:/ { on = 1; next } /^$/ { on = 0 } on' <<<"$HELP")"); do
	n=$((n + 1))
	if has "$COMMON" "$o"; then pass "common option $o has an entry in COMMON OPTIONS"; else
		fail "common option $o has an entry in COMMON OPTIONS"
	fi
done
ok $((n < 4)) "the common options are read from --help ($n)"

# 4. the exit codes: those of --help, those of the enum in core.h, and
# those of EXIT STATUS are the same list
HELP_CODES=$(sed -n '/^exit codes:/,/^$/p' <<<"$HELP" | grep -oE '(^|[:;]) +[0-9]+ ' | tr -dc '0-9\n' |
	sort -n)
ENUM_CODES=$(grep -oE 'OVUP_EXIT_[A-Z]+ = [0-9]+' "$ROOT/src/core/core.h" | sed 's/.* = //' | sort -n)
PAGE_CODES=$(section "EXIT STATUS" | grep -E '^ +[0-9]+$' | tr -d ' ' | sort -n)
like "$HELP_CODES" "^4$" "the exit codes are read from --help"
is "$PAGE_CODES" "$HELP_CODES" "EXIT STATUS lists the exit codes of --help"
is "$PAGE_CODES" "$ENUM_CODES" "... which are those of the enum in src/core/core.h"

# 5. every environment variable the sources read or set is in ENVIRONMENT
ENVIRON=$(section ENVIRONMENT)
TEST_HOOKS=$(grep -E '^       For testing only' <<<"$ENVIRON")
ENVIRON=$(grep -E '^       [A-Z_]+$' <<<"$ENVIRON")
VARS=$(grep -rhoE '(getenv|setenv)\("[A-Za-z_0-9]+"' "$ROOT/src" | sed -E 's/.*\("//; s/"$//' | sort -u)
like "$VARS" "^OVUP_DEBUG_ROOT$" "the environment variables are read from the sources"
for e in $VARS; do
	case " $TEST_ONLY " in
	*" $e "*)
		has "$TEST_HOOKS" "$e"
		ok $? "\$$e (a test hook) is named in the testing note of ENVIRONMENT"
		;;
	*)
		has "$ENVIRON" "$e"
		ok $? "\$$e has an entry in ENVIRONMENT"
		;;
	esac
done

# 6. ovup-patch(5): every macro of include/ovup.h a patch may use
MACROS=$(grep -oE '^#define OVUP_[A-Z]+\b' "$ROOT/include/ovup.h" | sed 's/#define //' | sort -u)
like "$MACROS" "^OVUP_SYMPOS$" "the macros are read from include/ovup.h"
for m in $MACROS; do
	case " $MACRO_HELPERS " in *" $m "*) continue ;; esac
	if has "$PAGE5" "$m"; then pass "$m is documented in ovup-patch(5)"; else
		fail "$m is documented in ovup-patch(5)"
	fi
done

done_testing
