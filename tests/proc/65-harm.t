#!/bin/bash
# Whatever the target does, ovup does it no harm: a restore that fails,
# threads coming and going, a flood of signals, fork, exec, a thread id
# for a pid, a syscall about to restart inside the replaced bytes, a
# coroutine suspended in patch code, and records that lie.
. "$(dirname "$0")/lib.sh"

patch two <<'P'
int compute(int x) { return x * 3; }
int secret(int x) { return x + 2000; }
P
patch fix <<'P'
int compute(int x) { return x * 3; }
P
ovup_left() { echo "$(grep -c memfd:ovup /proc/$1/maps) maps, $(ls -l /proc/$1/fd | grep -c memfd:ovup) fds"; }

# --- B5: the undo of a failed switch fails too ---------------------------
start_victim v "$V/victim-pie"
P=$VPID
OVUP_FAULT=pawrite:2,pawrite-undo run_ovup apply -p "$P" "$WORK/two.c"
is "$RC" 4 "the second write fails and so does undoing the first: exit 4"
sleep 0.2
is "$(ask v call compute 5)/$(ask v call secret 5)" "15/1006" \
	"the target runs on, compute switched, secret not (its memory is kept)"
run_ovup list -p "$P"
is "$RC" 0 "the next run settles it"
like "$ERR" "rolled back patch 'two', which an earlier ovup left half-applied" "... and says so"
is "$(ask v call compute 5)/$(ask v call secret 5)" "11/1006" "... rolling back to the old code"
is "$(ovup_left "$P")" "0 maps, 0 fds" "... and releasing the memory"
stop_victim v

# --- B7: threads created and destroyed hundreds of times a second ---------
start_victim v "$V/victim-pie"
P=$VPID
is "$(ask v churn)" ok "a thread creates and joins 4 threads every millisecond"
fails=0
for i in $(seq 1 15); do
	run_ovup apply -p "$P" "$WORK/fix.c"
	[ "$RC" = 0 ] || { fails=$((fails + 1)); echo "# apply: $ERR"; }
	[ "$(ask v call compute 5)" = 15 ] || fails=$((fails + 1))
	run_ovup revert -p "$P"
	[ "$RC" = 0 ] || { fails=$((fails + 1)); echo "# revert: $ERR"; }
	[ "$(ask v call compute 5)" = 11 ] || fails=$((fails + 1))
	[ "$(ovup_left "$P")" = "0 maps, 0 fds" ] || { fails=$((fails + 1)); echo "# left $(ovup_left "$P")"; }
done
is "$fails" 0 "15 apply/revert cycles under thread churn: all succeed, nothing left"
stop_victim v

# --- B8: a flood of real-time signals during apply/revert cycles ----------
start_victim v "$V/victim-pie" -s 2
P=$VPID
run_ovup build -p "$P" "$WORK/fix.c" -o "$WORK/fix.o"
is "$(ask v rtsig)" ok "the main thread counts SIGRTMIN+1 and checks their order"
# batches of 1,000 numbered signals until the cycles are done
flood_start "$P"
fails=0
for cycles in $(seq 1 100); do
	run_ovup apply -p "$P" "$WORK/fix.o"
	[ "$RC" = 0 ] || { fails=$((fails + 1)); echo "# apply: $ERR"; }
	run_ovup revert -p "$P"
	[ "$RC" = 0 ] || { fails=$((fails + 1)); echo "# revert: $ERR"; }
done
flood_stop
sent=$SENT
sleep 0.5
set -- $(ask v rtsig-count)
echo "# $cycles cycles, $sent signals sent, $1 received, $2 out of order"
is "$fails" 0 "every apply and revert under the flood succeeds"
is "$1" "$sent" "no signal is lost ($sent sent)"
is "$2" 0 "... and none arrives out of order"
stop_victim v

# --- B10: a fork child carries the patches; a thread id means its process
export VICTIM_CHILD_OUT=$WORK/child.out
start_victim v "$V/victim-pie"
P=$VPID
run_ovup apply -p "$P" "$WORK/fix.c"
C=$(ask v fork)
track "$C"
sleep 0.3
is "$(cat "$WORK/child.out")" 15 "a child forked after apply runs the new code"
run_ovup list -p "$C"
like "$OUT" "compute .* active" "list on the child shows the patch it inherited"
run_ovup revert -p "$C"
is "$RC" 0 "revert on the child"
sleep 0.3
is "$(cat "$WORK/child.out")" 11 "... the child runs the old code"
is "$(ask v call compute 5)" 15 "... and the parent still the new"
is "$(ovup_left "$C")" "0 maps, 0 fds" "... and nothing of ovup's is left in the child"
run_ovup apply -p "$C" "$WORK/fix.c"
is "$RC" 0 "the child can be patched again"
kill -9 "$C"
TID=$(ask v tid)
run_ovup revert -p "$TID"
is "$RC" 0 "revert -p TID (a thread of the parent)"
like "$ERR" "pid $TID is a thread of process $P: working on the process" "... says it works on the process"
is "$(ask v call compute 5)" 11 "... and reverted the process"
exec {lk}</proc/$P/mem
flock -n "$lk"
run_ovup apply -p "$TID" "$WORK/fix.c"
is "$RC" 3 "a run on a thread id takes the process's lock"
exec {lk}<&-

# --- B12: the target execs itself ------------------------------------------
run_ovup apply -p "$P" "$WORK/fix.c"
eval "echo exec >&\$v_w"
eval "read -r -t 10 line <&\$v_r"
is "$line" "ready $P" "the target execs itself (same pid)"
run_ovup list -p "$P"
is "$RC" 0 "list after exec"
like "$OUT" "no patches applied" "... the new image has no patch (exec wiped it)"
run_ovup apply -p "$P" "$WORK/fix.c"
is "$RC" 0 "... and can be patched again"
is "$(ask v call compute 5)" 15 "... and runs it"
run_ovup revert -p "$P"
stop_victim v

# --- a process stopped by job control is patched and stays stopped -------
start_victim v "$V/victim-pie" -t 2
P=$VPID
kill -STOP "$P"
sleep 0.2
run_ovup apply -p "$P" "$WORK/fix.c"
is "$RC" 0 "apply to a process stopped with SIGSTOP"
sleep 0.2
is "$(awk '{ print $3 }' /proc/$P/stat)" T "... it is still stopped"
kill -CONT "$P"
is "$(ask v call compute 5)" 15 "... and once continued runs the new code"
kill -STOP "$P"
sleep 0.2
run_ovup revert -p "$P"
is "$RC" 0 "revert while stopped"
is "$(awk '{ print $3 }' /proc/$P/stat)" T "... still stopped"
kill -CONT "$P"
is "$(ask v call compute 5)" 11 "... and the old code runs"
# a worker stopped inside the new code kept it mapped; running again, it
# has left it, and the next run releases it
run_ovup list -p "$P"
is "$(ovup_left "$P")" "0 maps, 0 fds" "... nothing left"
stop_victim v

# --- B11: a syscall that would restart inside the replaced bytes ----------
start_victim v "$V/victim-pie"
P=$VPID
is "$(ask v block-late)" ok "a thread asleep in pause(), its syscall instruction at late_entry+3"
patch late <<'P'
void late_entry(void) { }
P
before=$(snap "$P")
run_ovup apply -p "$P" --retries 2 "$WORK/late.c"
is "$RC" 3 "busy: the interrupted syscall would restart inside the jump"
like "$ERR" "thread [0-9]+ \(late\) is executing the bytes to be changed at late_entry\+0x3" \
	"... naming the thread and where it would resume"
same_mem "$before" "$(snap "$P")" "... and the target is untouched"
is "$(ask v call compute 5)" 11 "the target is alive"
stop_victim v

# --- B13: a coroutine suspended inside patch code at revert ----------------
start_victim v "$V/victim-pie"
P=$VPID
is "$(ask v coro)" 2 "a coroutine computes coro_step(0) = 2 and yields"
patch coro <<'P'
extern void coro_yield(void);
int coro_step(int x)
{
	coro_yield(); /* suspended here, inside the patch's code */
	return x + 100;
}
P
run_ovup apply -p "$P" "$WORK/coro.c"
is "$(ask v coro)" 2 "resumed, it enters the new coro_step and yields inside it"
run_ovup revert -p "$P"
is "$RC" 0 "revert while the coroutine is suspended in the new code"
like "$ERR" "kept the patch's memory at 0x[0-9a-f]+ mapped: a pointer to 0x[0-9a-f]+ is stored at" \
	"the code is kept: a return address into it lies on the coroutine's stack"
run_ovup list -p "$P"
like "$OUT" "kept \(a later run releases it\):" "list shows the memory kept"
like "$OUT" "[0-9]+ KiB of code: a pointer" "... with its size"
OVUP_FAULT=crash-before-branch run_ovup apply -p "$P" "$WORK/fix.c"
like "$(cat /proc/$P/maps)" "memfd:ovup-patch:fix " "an ovup that died left patch 'fix''s memory too"
run_ovup list -p "$P"
unlike "$(cat /proc/$P/maps)" "memfd:ovup-patch:fix " "... the next run releases it, though 'coro''s is kept"
like "$(cat /proc/$P/maps)" "memfd:ovup-patch:coro " "... and 'coro''s still is"
is "$(ask v coro)" 102 "the coroutine resumes in the kept code and returns through it"
is "$(ask v coro)" 104 "... then runs the old coro_step again"
stop_victim v

# --- B14: a record that lies is checked against the target ---------------
start_victim v "$V/victim-pie"
P=$VPID
# a state directory another user can write changes nothing: ovup keeps
# no record in files
mkdir -p "$WORK/state/process"
chmod 777 "$WORK/state" "$WORK/state/process"
echo precious >"$WORK/precious"
ln -s "$WORK/precious" "$WORK/state/process/$P.state.tmp"
ln -s "$WORK/precious" "$WORK/state/process/$P.state"
mkdir -p "$WORK/tmp/ovup.99999999.x" && ln -s "$WORK" "$WORK/tmp/ovup.99999998.y"
TMPDIR=$WORK/tmp run_ovup apply -p "$P" "$WORK/fix.c"
is "$RC" 0 "apply with planted files and links"
is "$(cat "$WORK/precious")" precious "... a linked file is not written"
[ -d "$WORK" ] && [ -e "$WORK/precious" ]
is "$?" 0 "... the scratch-directory sweep follows no link"
run_ovup revert -p "$P"
# a forged record inside the target: it names the program's .data as a
# block and asks to "restore" chosen bytes over compute()
data=$(awk '/victim-pie/ && $2 ~ /^rw/ { split($1, a, "-"); print a[1], a[2]; exit }' /proc/$P/maps)
set -- $data
site=$(printf '0x%x' $((0x$(awk '/victim-pie/ { split($1, a, "-"); print a[1]; exit }' /proc/$P/maps) + 0x$(nm "$V/victim-pie" | awk '$3 == "compute" { print $1 }'))))
cur=$("$H/peek" "$P" "$site" 5 | tr -d ' ')
is "$(ask v forge "$site" "$cur" "0x$1" "$((0x$2 - 0x$1))")" ok "the target holds a forged record"
before=$(snap "$P")
run_ovup revert -p "$P"
is "$RC" 1 "revert of the forged patch: refused"
like "$ERR" "saved bytes|no memory of ovup's" "... because its bytes or blocks are not what the target holds"
run_ovup list -p "$P"
same_mem "$before" "$(snap "$P")" "... and neither run changed the target (its .data is still mapped)"
stop_victim v
done_testing
