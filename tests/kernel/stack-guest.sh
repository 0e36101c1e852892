# SPDX-License-Identifier: MIT
# Runs inside the VM (tools/vmrun): revert of code that tasks, idle tasks
# included, are still in.  The sites switch back; the code stays allocated
# (retired), is listed, is never handed out again, and is freed once no
# task is in it.  Patch objects were built on the host.  Prints TAP.
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
is() { [ "$1" = "$2" ]; ok $? "$3"; [ "$1" = "$2" ] || { echo "#   got:  '$1'"; echo "#   want: '$2'"; }; }
like() { echo "$1" | grep -qE -- "$2"; r=$?; ok $r "$3"; [ $r = 0 ] || echo "$1" | sed 's/^/#   /'; }
unlike() { echo "$1" | grep -qE -- "$2"; r=$?; [ $r != 0 ]; ok $? "$3"; [ $r != 0 ] || echo "$1" | sed 's/^/#   /'; }
run() { ovup "$@" >/tmp/out 2>/tmp/err; RC=$?; OUT=$(cat /tmp/out); ERR=$(cat /tmp/err); }
# wait up to $1 seconds until `ovup list -k` shows no retired block
wait_freed() {
	i=0
	while [ $i -lt $(($1 * 5)) ]; do
		ovup list -k 2>/dev/null | grep -q '^retired' || return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
# the pages (hex, without the last 3 digits) of patch $1's retired blocks
retired_pages() { ovup list -k | sed -n "s/^    0x\([0-9a-f]*\)[0-9a-f]\{3\}  4 KiB of reverted patch '$1'.*/\1/p"; }

CMDLINE=$(cat /proc/cmdline)

# 1. sleepers with a return address in a wrapper of do_nanosleep
run apply -k /tmp/nanosleep.o
is "$RC" 0 "apply a non-tail-call wrapper of do_nanosleep"
sleep 1000 & S1=$!
sleep 1000 & S2=$!
sleep 0.5
run revert -k nanosleep
is "$RC" 0 "revert exits 0 while two tasks sleep in the wrapper"
unlike "$ERR" "is executing the bytes to be changed" "... with no claim that a sleeper executes the changed bytes"
like "$ERR" "patch 'nanosleep': 2 block\\(s\\) of its code retired, not freed: a thread may still return into them" \
	"... and a note that its blocks were retired, not freed"
run list -k
like "$OUT" "^retired \\(freed once no thread can return into them\\):" "list -k has a retired section"
like "$OUT" "0x[0-9a-f]+  4 KiB of reverted patch 'nanosleep': thread [0-9]+ \\(sleep\\) was found in it" \
	"... naming the patch and a sleeping task"
run list -k --json
like "$OUT" '"retired":\[\{"addr":"0x[0-9a-f]+","size":4096,"patch":"nanosleep","tid":[0-9]+,"comm":"sleep"' \
	"list -k --json lists the retired blocks"
kill $S1 $S2; wait $S1 $S2 2>/dev/null
wait_freed 15; ok $? "the module frees them once the sleepers are gone"
run list -k --json
like "$OUT" '"retired":\[\]' "... list -k --json shows none"

# 2. idle CPUs parked in a wrapper of schedule_idle (issue 8, K3)
run apply -k /tmp/idle.o
is "$RC" 0 "apply a wrapper of schedule_idle"
sh -c 'while :; do :; done' & B1=$!
sh -c 'while :; do :; done' & B2=$!
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
sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done' & sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'
wait
sleep 1

# 3. a wrapper of schedule(): on the stack of nearly every sleeping task
run apply -k /tmp/sched.o
is "$RC" 0 "apply a non-tail-call wrapper of schedule()"
sleep 0.5
run revert -k sched
is "$RC" 0 "revert exits 0 though most tasks will return into the wrapper"
unlike "$ERR" "is executing the bytes to be changed" "... no claim that they execute the changed bytes"
like "$ERR" "patch 'sched': [0-9]+ block\\(s\\) of its code retired, not freed" "... its blocks are retired"
run list -k
like "$OUT" "KiB of reverted patch 'sched': thread [0-9]+ \\(.*\\) was found in it" "list -k shows them with a task"
run apply -k /tmp/cmdline.o
is "$RC" 0 "apply works with tasks asleep in retired code"
run revert -k
is "$RC" 0 "... and revert"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"

dmesg >/tmp/dmesg
grep -E "BUG|Oops|WARNING|general protection|Kernel panic|Attempted to kill the idle task" /tmp/dmesg >/tmp/bad
[ ! -s /tmp/bad ]; ok $? "no BUG/Oops/WARNING/panic in the kernel log, no 'Attempted to kill the idle task'"
sed 's/^/#   /' /tmp/bad
grep -q "retired block(s) of 'idle' freed" /tmp/dmesg; ok $? "the module logged freeing the idle patch's block"
echo "1..$n"
exit $failed
