#!/bin/bash
# A non-PIE executable whose functions start with endbr64 (the jump goes
# after it), and a function in a shared library found at its load bias.
. "$(dirname "$0")/lib.sh"

start_victim v "$V/victim-nopie"
is "$(ask v call compute 5)" 11 "non-PIE: compute(5) = 11"
patch fix <<'P'
int compute(int x) { return x * 100; }
P
run_ovup apply -p "$VPID" --dry-run "$WORK/fix.c"
like "$OUT" "after the kept entry bytes" "the branch goes after endbr64"
addr=$(sed -n 's/.*old 0x\([0-9a-f]*\),.*/\1/p' <<<"$OUT")
like "$addr" "^4[0-9a-f]{5}$" "non-PIE: the function is at its link-time address (0x4xxxxx)"
run_ovup apply -p "$VPID" "$WORK/fix.c"
is "$RC" 0 "apply to a non-PIE process"
is "$(ask v call compute 5)" 500 "compute(5) = 500 now"
entry=$("$H/peek" "$VPID" "0x$addr" 5)
is "$entry" "f30f1efae9" "endbr64 is still at the entry, followed by the jmp"
run_ovup revert -p "$VPID"
is "$(ask v call compute 5)" 11 "reverted: compute(5) = 11"
stop_victim v

start_victim w "$V/victim-pie"
is "$(ask w call lib_compute 5)" 22 "lib_compute(5) = 5*lib_scale+7 = 22"
patch lib <<'P'
extern int lib_scale;
int lib_compute(int x) { return x * lib_scale * 1000; }
P
run_ovup apply -p "$VPID" "$WORK/lib.c"
is "$RC" 0 "apply to a function in a shared library"
like "$OUT" "lib_compute +libvictim.so" "... found in libvictim.so"
is "$(ask w call lib_compute 5)" 15000 "lib_compute(5) = 15000, using the library's variable"
is "$(ask w call compute 5)" 11 "the executable's compute is untouched"
run_ovup revert -p "$VPID" lib
is "$(ask w call lib_compute 5)" 22 "reverted: lib_compute(5) = 22"
# a patch that calls into libc from the executable's neighbourhood: the
# GOT carries the far address
patch libc <<'P'
#include <stdlib.h>
#include <string.h>
int compute(int x)
{
	char buf[32];

	strcpy(buf, "4");
	return atoi(buf) + (int)strlen("abc") + x;
}
P
run_ovup apply -p "$VPID" "$WORK/libc.c"
is "$RC" 0 "a patch calling libc functions (far away, through the GOT)"
is "$(ask w call compute 5)" 12 "compute(5) = atoi(\"4\") + strlen(\"abc\") + 5 = 12"
run_ovup revert -p "$VPID"
stop_victim w
done_testing
