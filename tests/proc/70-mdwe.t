#!/bin/bash
# A process that forbids itself to gain exec permission (PR_SET_MDWE):
# ovup maps its code read+exec from the start and fills it through
# /proc/PID/mem, so the patch still applies, and nothing is ever W+X.
. "$(dirname "$0")/lib.sh"

start_victim v "$V/victim-pie"
r=$(ask v mdwe)
if [ "$r" != ok ]; then
	pass "# SKIP this kernel has no PR_SET_MDWE ($r)"
	done_testing
fi
pass "the victim refuses exec gains from now on (PR_SET_MDWE)"
patch fix <<'P'
static int table[4] = { 10, 20, 30, 40 };
static const char name[] = "mdwe";
int compute(int x) { table[x & 3] += 1; return table[x & 3] + (int)sizeof(name); }
P
run_ovup apply -p "$VPID" "$WORK/fix.c"
is "$RC" 0 "apply succeeds under MDWE"
is "$(ask v call compute 1)" 26 "new code with writable data: 20+1+5 = 26"
is "$(ask v call compute 1)" 27 "... the data block is writable (27)"
maps=$(cat /proc/$VPID/maps)
unlike "$maps" "rwx" "no mapping is writable and executable"
like "$maps" "r-xp 00000000 [0-9a-f:]+ [0-9]+ +/memfd:ovup-patch:fix" "ovup's code is mapped r-x"
run_ovup revert -p "$VPID"
is "$(ask v call compute 1)" 3 "reverted: compute(1) = 3"
stop_victim v
done_testing
