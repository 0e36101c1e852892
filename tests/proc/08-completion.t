#!/bin/bash
# The bash completion (tools/completion/ovup.bash), sourced into this
# shell and called as bash would: verbs, each verb's options as its --help
# prints them, running pids after -p, and after `revert -p PID` the name
# of a patch applied to that victim, gone again once it is reverted.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/completion/ovup.bash"

# comp WORD...: complete the last word (may be empty) of "ovup WORD...";
# prints COMPREPLY one per line, sorted
comp() {
	COMP_WORDS=("$OVUP" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	_ovup
	[ ${#COMPREPLY[@]} -gt 0 ] && printf '%s\n' "${COMPREPLY[@]}" | sort
}
# words of the text, sorted, on one line
words() { tr ' ' '\n' | grep . | sort | tr '\n' ' '; }

is "$(complete -p ovup)" "complete -F _ovup ovup" "the completion is registered for ovup"

# the verbs: exactly those of `ovup --help`
want=$("$OVUP" --help | sed -n '/^verbs:/,/^$/p' | awk 'NF { print $1 }' | grep -v '^verbs:$' | words)
is "$(comp '' | words)" "$want" "ovup <TAB>: the verbs of 'ovup --help'"
like "$want" "apply .*revert" "... which include apply and revert"
is "$(comp re | words)" "revert " "ovup re<TAB>: revert"
is "$(comp help '' | words)" "$want" "ovup help <TAB>: the verbs"
is "$(comp --h | words)" "--help " "ovup --h<TAB>: --help"

# a verb's options: every option word of its --help, and the common ones
for verb in apply build revert list symbols info; do
	got=$(comp "$verb" - | words)
	missing=
	for o in $("$OVUP" "$verb" --help | grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,' | sort -u); do
		case " $got " in *" $o "*) ;; *) missing="$missing $o" ;; esac
	done
	is "$missing" "" "ovup $verb -<TAB>: every option of 'ovup $verb --help'"
done
got=$(comp apply - | words)
like "$got" "(^| )--dry-run .*--pid " "apply -<TAB> has --dry-run and --pid"
like "$got" "(^| )-k " "... and -k (the kernel target)"
like "$got" "(^| )--verbose " "... and the common --verbose"
unlike "$got" "(^| )(-o|--output) " "... but not build's --output"
is "$(comp build --o | words)" "--object --output " "build --o<TAB>: --object and --output"
is "$(comp build --ou | words)" "--output " "build --ou<TAB>: --output"
is "$(comp list --j | words)" "--json " "list --j<TAB>: --json"

start_victim v "$V/victim-pie"
like "$(comp list -p '')" "^$VPID$" "-p <TAB>: the running victim's pid is offered"
like "$(comp apply -np "${VPID:0:2}")" "^$VPID$" "-np ${VPID:0:2}<TAB>: combined short options, a pid prefix"
like "$(comp list --pid = '')" "^$VPID$" "--pid=<TAB> (split at '=' by bash): pids"
unlike "$(comp list -p '')" "^[^0-9]" "... only pids"

# patch files after apply, not after list
mkdir "$WORK/files" && cd "$WORK/files" || exit 1
touch fix.c fix.o notes.txt
is "$(comp apply -p "$VPID" f | words)" "fix.c fix.o " "apply -p PID f<TAB>: the .c and the .o"
is "$(comp build -p "$VPID" f | words)" "fix.c " "build -p PID f<TAB>: the .c"
is "$(comp build -p "$VPID" fix.c -o f | words)" "fix.o " "build ... -o f<TAB>: an object"
is "$(comp info f | words)" "fix.o " "info f<TAB>: the object only"
is "$(comp list -p "$VPID" f)" "" "list -p PID f<TAB>: nothing (list takes no file)"
is "$(comp apply -p "$VPID" fix.c -- -I)" "" "after --: compiler flags, nothing offered"
cd "$ROOT" || exit 1

patch cmpl_fix <<'P'
int compute(int x) { return x * 3; }
P
run_ovup apply -p "$VPID" "$WORK/cmpl_fix.c"
is "$RC" 0 "a patch is applied"
is "$(comp revert -p "$VPID" '')" "cmpl_fix" "revert -p PID <TAB>: the applied patch's name (and no function name)"
is "$(comp revert -p "$VPID" cm)" "cmpl_fix" "revert -p PID cm<TAB>: the same"
is "$(comp revert -p "$VPID" x)" "" "revert -p PID x<TAB>: no match, nothing"
is "$(comp forget -p "$VPID" '')" "cmpl_fix" "forget -p PID <TAB>: the applied patch's name too"
is "$(comp revert -p "$VPID" --f)" "--force" "revert --f<TAB>: --force"
is "$(comp revert '')" "" "revert <TAB> without a target: nothing (no process guessed)"
run_ovup revert -p "$VPID" cmpl_fix
is "$RC" 0 "reverted"
is "$(comp revert -p "$VPID" '')" "" "revert -p PID <TAB> once reverted: nothing"
is "$(ask v call compute 5)" 11 "the victim answers as before"
stop_victim v
done_testing
