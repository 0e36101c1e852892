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

refused dyndbg __dyndbg 'pr_debug\(\)/dynamic debug descriptors are registered at module load' \
	"pr_debug()"
refused percpu .data..percpu 'a patch cannot add per-CPU variables' "DEFINE_PER_CPU()"
refused traceprintk __trace_printk_fmt 'trace_printk\(\) formats are registered at module load' \
	"trace_printk()"

# the same check passes a patch without those sections
build cmdline
is "$RC" 0 "a patch without them builds${ERR:+ ($ERR)}"
ok $([ -s "$OUT" ]; echo $?) "... into an object"
# and those with what ovup now honours, where it refused them before:
# CPU alternatives and return sites (alt.t), static branches and a
# tracepoint (jumplabel.t), a static call and paravirt inlines (staticcall.t),
# WARN/BUG (bug.t), user-memory access (extable.t)
for p in alt jumplabel tracepoint staticcall warn uaccess getcpu; do
	build $p
	is "$RC" 0 "$p.c builds${ERR:+ ($ERR)}"
	ok $([ -s "$OUT" ]; echo $?) "... into an object"
done
# a static branch is a 5-byte jump ovup can redirect, never objtool's NOP
# or a 2-byte jump (include/kernel/ovup_jump_label.h): the instruction at
# each __jump_table entry's code offset (its first field's relocation)
build jumplabel
n=0 five=0
while read -r off _ _ _ sec _ addend; do
	[ $((0x$off % 16)) = 0 ] && [ "$sec" = .text ] || continue
	n=$((n + 1))
	objdump -d --start-address=$((0x$addend)) --stop-address=$((0x$addend + 5)) "$OUT" |
		grep -qE "^ +$addend:\s+e9( [0-9a-f]{2}){4}\s+jmp" && five=$((five + 1))
done < <(readelf -rW "$OUT" | sed -n '/\.rela__jump_table/,/^$/p' | grep R_X86_64_PC32)
ok $([ $n -ge 2 ] && [ $five = $n ]; echo $?) "each static branch is a 5-byte jmp ($five of $n)"
done_testing
