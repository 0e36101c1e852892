#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Host-only: what `apply -k` would refuse in a patch's object, `build -k`
# refuses already, with the same one line naming the section and why, and
# writes no object.  (docs/kernel.md: what a kernel patch cannot contain.)
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build PATCH: runs `ovup build -k` on tests/kernel/patches/PATCH.c
build() {
	OUT="$work/$1.o"
	ERR=$("$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$1.c" -o "$OUT" 2>&1 >/dev/null)
	RC=$?
}

refused() { # PATCH SECTION REASON-REGEX WHAT
	build "$1"
	is "$RC" 1 "$4: build -k exits 1"
	like "$ERR" "^ovup: [^ ]*/$1\\.c: section '$2' is not supported in a kernel patch: $3" \
		"... naming the section '$2' and why"
	is "$(grep -c '^ovup:' <<<"$ERR")" 1 "... in one line"
	ok $([ ! -e "$OUT" ]; echo $?) "... and writes no object"
}

refused warn __bug_table 'BUG\(\)/WARN\(\) need bug-table entries' "WARN_ON_ONCE()"
refused statickey __jump_table 'static keys \(static_branch_\*\(\), tracepoints\)' \
	"static_branch_unlikely()"
refused uaccess __ex_table 'user-memory access \(copy_from_user\(\), get_user\(\)\) needs exception-table entries' \
	"unsafe_get_user()"

# the same check passes a patch without those sections
build cmdline
is "$RC" 0 "a patch without them builds${ERR:+ ($ERR)}"
ok $([ -s "$OUT" ]; echo $?) "... into an object"
# and one with CPU alternatives and return sites, which ovup now applies
# (tests/kernel/alt.t), where it refused them before
build alt
is "$RC" 0 "a patch with .altinstructions and .return_sites builds${ERR:+ ($ERR)}"
ok $([ -s "$OUT" ]; echo $?) "... into an object"
done_testing
