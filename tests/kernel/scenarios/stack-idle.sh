# SPDX-License-Identifier: MIT
# Kernel scenario stack-idle: idle CPUs parked in a wrapper of schedule_idle
# (issue 8, K3)
# patches: idle cmdline
# timeout: 150

klog_add 'Attempted to kill the idle task'
# the pages (hex, without the last 3 digits) of patch $1's retired blocks
retired_pages() { ovup list -k | sed -n "s/^    0x\([0-9a-f]*\)[0-9a-f]\{3\}  4 KiB of reverted patch '$1'.*/\1/p"; }

run apply -k /tmp/idle.o
is "$RC" 0 "apply a wrapper of schedule_idle"
# one busy loop pinned to each CPU: neither idle task runs (and leaves the
# wrapper) until they stop; unpinned, the scheduler may put both on one
# CPU for a moment, and the other CPU's idle task would run
taskset 1 sh -c 'while :; do :; done' & B1=$!
taskset 2 sh -c 'while :; do :; done' & B2=$!
sleep 1
run revert -k idle
is "$RC" 0 "revert -k exits 0 while both idle tasks are switched out in the wrapper"
like "$ERR" "patch 'idle': [0-9]+ block\\(s\\) of its code retired, not freed" "... its blocks are retired, not freed"
run list -k
like "$OUT" "KiB of reverted patch 'idle': thread 0 \\(swapper/[0-9]+\\) was found in it" \
	"list -k names an idle task (pid 0, swapper/N) in the retired code"
RPAGES=$(retired_pages idle)
[ -n "$RPAGES" ]; ok $? "list -k gives the retired blocks' addresses ($(echo $RPAGES))"
run apply -k /tmp/cmdline.o
is "$RC" 0 "another patch applies while the idle tasks are in retired code"
is "$(cat /proc/cmdline | cut -c1-12)" "ovup-cmdline" "... and runs"
NEW=$(ovup list -k | sed -n 's/.*cmdline_proc_show .* -> 0x\([0-9a-f]*\)[0-9a-f]\{3\} .*/\1/p')
[ -n "$NEW" ] && ! echo "$RPAGES" | grep -qx "$NEW"
ok $? "... from a page that is not retired (new code in page ${NEW}000)"
run revert -k cmdline
is "$RC" 0 "... and reverts"
ovup list -k | grep -q "reverted patch 'idle'"; ok $? "the idle patch's block is still retired while the loops run"
kill $B1 $B2; wait $B1 $B2 2>/dev/null
wait_freed 15; ok $? "the busy loops stopped: the retired block is freed"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
# run something on every CPU a while, to give any stale idle frame the
# chance to crash (it would be "Attempted to kill the idle task")
sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done' &
P=$!
sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'
wait $P
sleep 1
dmesg | grep -q "retired block(s) of 'idle' freed"; ok $? "the module logged freeing the idle patch's block"
