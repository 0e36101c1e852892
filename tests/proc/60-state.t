#!/bin/bash
# The record of applied patches: kept in the process itself across ovup
# runs, never taken from a file, repaired after ovup dies half-way, locked
# against a concurrent ovup; stacked patches; build-ids.
. "$(dirname "$0")/lib.sh"

patch fix <<'P'
int compute(int x) { return x * 3; }
P
patch fix2 <<'P'
int compute(int x) { return x * 4; }
P

start_victim a "$V/victim-pie"
A=$VPID
start_victim b "$V/victim-pie"
B=$VPID
run_ovup apply -p "$A" "$WORK/fix.c"
is "$RC" 0 "apply to process A"
like "$(cat /proc/$A/maps)" "/memfd:ovup-record" "the record lives in the process (a memfd mapping)"
like "$(cat /proc/$A/maps)" "/memfd:ovup-patch:fix " "... next to the patch's own memory, named after it"
# files claiming a patch for B (as a state directory of an earlier ovup
# would hold) are not a record: nothing is read from them
mkdir -p "$WORK/state/process"
printf 'ovup-state 1 process %s 0 x\npatch fix 1 0 applied x\nend\n' "$B" >"$WORK/state/process/$B.state"
run_ovup list -p "$B"
like "$OUT" "no patches applied" "a file claiming a patch for another process is no record"
run_ovup revert -p "$B"
is "$RC" 1 "... and there is nothing to revert there"
like "$ERR" "nothing to revert" "... says so"
is "$(ask b call compute 5)" 11 "... and B is untouched"
is "$(ask a call compute 5)" 15 "A is still patched"

# stacking: fix2 over fix on the same function
run_ovup apply -p "$A" "$WORK/fix2.c"
is "$RC" 0 "a second patch on the same function stacks"
like "$OUT" "compute .*\(over 'fix'\)" "... and says what it stacks on"
is "$(ask a call compute 5)" 20 "the newest patch runs"
run_ovup list -p "$A"
like "$OUT" "stacks \(newest first\):" "list shows the stack"
like "$OUT" "compute: fix2 fix" "... compute: fix2 over fix"
like "$OUT" "fix .*seq 1" "list shows the older patch"
like "$OUT" "under a newer patch" "... as under a newer patch"
run_ovup revert -p "$A" fix
is "$RC" 1 "reverting the older patch underneath is refused"
like "$ERR" "patch 'fix' is under patch 'fix2' on function 'compute'; revert 'fix2' first" \
	"... with the reason"
is "$(ask a call compute 5)" 20 "... and nothing changed"
run_ovup revert -p "$A"
is "$(ask a call compute 5)" 15 "revert the newest: the older patch runs again"
run_ovup revert -p "$A"
is "$(ask a call compute 5)" 11 "revert the older: the original runs again"
run_ovup apply -p "$A" "$WORK/fix.c"
run_ovup apply -p "$A" "$WORK/fix.c"
is "$RC" 1 "applying the same patch name twice is refused"
like "$ERR" "patch 'fix' is already applied \(seq [0-9]+\); revert it first or pick another --name" "... saying it is applied"
run_ovup apply -p "$A" --name fix-again "$WORK/fix.c"
is "$RC" 0 "--name gives the same file another name"
run_ovup revert -p "$A" fix-again
run_ovup revert -p "$A" fix

# ovup dies after recording, before switching: the next run notices the
# branch never happened and releases the memory
before=$(snap "$A")
OVUP_FAULT=crash-before-branch run_ovup apply -p "$A" "$WORK/fix.c"
is "$RC" 134 "ovup killed between record and switch (test hook)"
like "$(cat /proc/$A/maps)" "/memfd:ovup-patch:fix " "its memory is in the target"
run_ovup list -p "$A"
like "$OUT" "no patches applied" "the next run drops the patch that never switched"
same_mem "$before" "$(snap "$A")" "... and unmaps its memory: the target is as before"
# ovup dies after switching, before confirming
OVUP_FAULT=crash-after-branch run_ovup apply -p "$A" "$WORK/fix.c"
is "$(ask a call compute 5)" 15 "ovup killed right after the switch: the patch runs"
run_ovup list -p "$A"
like "$OUT" "compute .* active" "the next run confirms it from the target's bytes"
run_ovup revert -p "$A"
is "$RC" 0 "... and can revert it"
is "$(ask a call compute 5)" 11 "... back to the original"
# ovup dies during a revert, before and after switching back
run_ovup apply -p "$A" "$WORK/fix.c"
OVUP_FAULT=crash-before-revert run_ovup revert -p "$A"
is "$RC" 134 "ovup killed after journaling a revert, before switching (test hook)"
run_ovup list -p "$A"
like "$OUT" "compute .* active" "the revert never began: the patch is still applied"
OVUP_FAULT=crash-after-revert run_ovup revert -p "$A"
is "$(ask a call compute 5)" 11 "ovup killed right after switching back: the old code runs"
run_ovup list -p "$A"
like "$OUT" "no patches applied" "the next run finishes the revert"
unlike "$(cat /proc/$A/maps)" "ovup" "... and releases the memory: nothing of ovup's is left in the target"

# a second ovup on the same process while one holds it: the lock is on
# the process's own /proc/PID/mem, whatever the user or state directory
exec {lk}</proc/$A/mem
flock -n "$lk"
run_ovup apply -p "$A" "$WORK/fix.c"
is "$RC" 3 "another ovup holds the process: exit 3 (busy)"
like "$ERR" "another ovup is working on this process; try again" "... says so"
exec {lk}<&-

# build records build-ids; apply refuses another build
run_ovup build -p "$A" "$WORK/fix.c" -o "$WORK/fix.o"
is "$RC" 0 "build writes an object"
like "$OUT" "built 'fix' for pid $A" "... and says so"
readelf -p .ovup.build "$WORK/fix.o" >"$WORK/rec" 2>&1
like "$(cat "$WORK/rec")" "object .*victim-pie [0-9a-f]{40}" "the object records the victim's build-id"
run_ovup apply -p "$A" "$WORK/fix.o"
is "$RC" 0 "apply accepts the built object"
is "$(ask a call compute 5)" 15 "... and it runs"
run_ovup revert -p "$A"
start_victim c "$V/victim-nopie"
run_ovup apply -p "$VPID" "$WORK/fix.o"
is "$RC" 1 "the object is refused for a process running another build"
like "$ERR" "built for .*victim-pie \(build-id [0-9a-f]{40}\), which pid $VPID has not loaded" \
	"... naming the build it was made for"
stop_victim c
start_victim d "$V/alt/victim-pie"
run_ovup apply -p "$VPID" "$WORK/fix.o"
is "$RC" 1 "the object is refused for another build of the same program"
like "$ERR" "built for .*/victim-pie with build-id ([0-9a-f]{40}), but pid $VPID runs build-id [0-9a-f]{40}; rebuild" \
	"... naming both build-ids"
is "$(ask d call compute 5)" 12 "... and that process is untouched"
stop_victim d

# a revert while a thread still runs in the patch's code: the jump goes,
# the memory stays until nothing can return into it, then a later run
# releases it
start_victim e "$V/victim-pie"
E=$VPID
is "$(ask e nap)" ok "a thread calls napper() in a loop"
anon() { grep -c 'r-xp .*/memfd:ovup-patch:' /proc/$E/maps; }
base=$(anon)
patch sleepy <<'P'
#include <time.h>
int napper(int ms)
{
	struct timespec ts = { 2, 0 };

	nanosleep(&ts, 0);
	return ms;
}
P
run_ovup apply -p "$E" "$WORK/sleepy.c"
is "$RC" 0 "a replacement that sleeps 2 s"
sleep 0.5
is "$(anon)" $((base + 1)) "the patch's code is mapped"
run_ovup revert -p "$E"
is "$RC" 0 "revert while the thread sleeps inside the new code"
like "$ERR" "kept the patch's memory at 0x[0-9a-f]+ mapped: thread [0-9]+ \(napper\) may still return into it" \
	"the memory is kept, naming the thread"
is "$(anon)" $((base + 1)) "the code is still mapped (the thread returns through it)"
sleep 2.5
is "$(ls /proc/$E/task | wc -l)" 2 "the thread woke and returned through the kept code"
run_ovup revert -p "$E"
is "$(anon)" "$base" "the next ovup run released the memory"
stop_victim e
stop_victim a
stop_victim b
done_testing
