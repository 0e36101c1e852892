#!/bin/bash
# Threads calling the function in a tight loop while it is replaced and
# restored: after the switch only the new result is seen, and after the
# revert only the old one.
. "$(dirname "$0")/lib.sh"

patch fix <<'P'
int compute(int x) { return x * 1000; }
P
for n in 4 100; do
	start_victim v "$V/victim-pie" -t "$n"
	is "$(ls /proc/$VPID/task | wc -l)" $((n + 1)) "$n worker threads running"
	ask v reset >/dev/null
	sleep 0.2
	like "$(ask v stats)" "^43:[0-9]+$" "$n threads: only the old result 43 before"
	run_ovup apply -p "$VPID" "$WORK/fix.c"
	is "$RC" 0 "$n threads: apply while they call compute"
	ask v reset >/dev/null
	sleep 0.3
	st=$(ask v stats)
	like "$st" "^21000:[0-9]+$" "$n threads: only the new result 21000 after apply"
	unlike "$st" "(^| )43:" "$n threads: the old result is gone"
	run_ovup revert -p "$VPID"
	is "$RC" 0 "$n threads: revert while they call compute"
	ask v reset >/dev/null
	sleep 0.3
	like "$(ask v stats)" "^43:[0-9]+$" "$n threads: only the old result after revert"
	# the threads keep running: the process survived both switches
	is "$(ls /proc/$VPID/task | wc -l)" $((n + 1)) "$n threads: all threads still alive"
	stop_victim v
done

# ovup's own priority: the run at nice -20 (a target that keeps every CPU
# busy cannot starve it), SCHED_FIFO exactly while the threads are held
# (set before the first interrupt of the switch, back to SCHED_OTHER after
# the last thread is released, never passed to a child), and nothing of
# it with OVUP_SCHED=keep
start_victim v "$V/victim-pie" -t 4
strace -f -qq -o "$WORK/sched" -e trace=setpriority,sched_setscheduler,ptrace \
	"$OVUP" apply -p "$VPID" "$WORK/fix.c" >/dev/null 2>&1
ok $? "apply under strace"
like "$(grep setpriority "$WORK/sched")" "setpriority\(PRIO_PROCESS, 0, -20\) += 0" \
	"the run raised itself to nice -20"
fifo=$(grep -n 'sched_setscheduler(0, 0x40000001' "$WORK/sched" | cut -d: -f1)
back=$(grep -n 'sched_setscheduler(0, SCHED_OTHER' "$WORK/sched" | cut -d: -f1)
like "$fifo" "^[0-9]+$" "SCHED_FIFO with SCHED_RESET_ON_FORK, once"
like "$back" "^[0-9]+$" "back to SCHED_OTHER, once"
held=$(sed -n "${fifo:-1},${back:-1}p" "$WORK/sched")
is "$(grep -c PTRACE_INTERRUPT <<<"$held")" 5 "every one of the 5 threads interrupted while real-time"
is "$(grep -c PTRACE_DETACH <<<"$held")" 5 "and every one released before the policy went back"
is "$(sed -n "$((${back:-1} + 1)),\$p" "$WORK/sched" | grep -c 'PTRACE_DETACH')" 0 \
	"no thread released after it"
ask v reset >/dev/null
sleep 0.2
like "$(ask v stats)" "^21000:[0-9]+$" "the patch applied at that priority works"
OVUP_SCHED=keep strace -f -qq -o "$WORK/keep" -e trace=setpriority,sched_setscheduler,ptrace \
	"$OVUP" revert -p "$VPID" >/dev/null 2>&1
ok $? "revert with OVUP_SCHED=keep"
is "$(grep -cE 'setpriority|sched_setscheduler' "$WORK/keep")" 0 \
	"OVUP_SCHED=keep: no priority change at all"
like "$(grep -c PTRACE_DETACH "$WORK/keep")" "^([5-9]|[1-9][0-9]+)$" "(the trace saw the revert release its 5 threads)"
stop_victim v

# real-time only against running threads: with every thread asleep a
# real-time tracer only turns each stop into a wake-up of another CPU
# (bench/pause: 100 idle threads 0.26 ms under SCHED_FIFO, 0.10 ms
# without); the stop-all switch of 5 sleeping threads, then the live
# switch of 40 sleeping and of 40 busy ones
start_victim v "$V/victim-pie" -s 4
strace -f -qq -o "$WORK/idle" -e trace=sched_setscheduler,ptrace \
	"$OVUP" apply -p "$VPID" "$WORK/fix.c" >/dev/null 2>&1
ok $? "apply to 5 sleeping threads under strace"
like "$(grep -c PTRACE_INTERRUPT "$WORK/idle")" "^([5-9]|[1-9][0-9]+)$" "(the switch interrupted all 5)"
is "$(grep -c 'sched_setscheduler(0, 0x40000001' "$WORK/idle")" 0 "no SCHED_FIFO: none was running"
run_ovup revert -p "$VPID"
is "$RC" 0 "revert"
stop_victim v
start_victim v "$V/victim-pie" -s 39
strace -f -qq -o "$WORK/idle" -e trace=sched_setscheduler,rt_sigaction \
	"$OVUP" apply -v -p "$VPID" "$WORK/fix.c" >"$WORK/idle.out" 2>&1
ok $? "apply to 40 sleeping threads under strace"
like "$(cat "$WORK/idle.out")" "live switch: 40 threads, 1 held" "(the live switch, one thread borrowed)"
is "$(grep -c 'sched_setscheduler(0, 0x40000001' "$WORK/idle")" 0 "live switch: no SCHED_FIFO either"
run_ovup revert -p "$VPID"
stop_victim v
start_victim v "$V/victim-pie" -t 39
strace -f -qq -o "$WORK/busy" -e trace=sched_setscheduler \
	"$OVUP" apply -v -p "$VPID" "$WORK/fix.c" >"$WORK/busy.out" 2>&1
ok $? "apply to 39 busy threads under strace"
like "$(cat "$WORK/busy.out")" "live switch: 40 threads, [1-9][0-9]* held" "(the live switch, running threads held)"
is "$(grep -c 'sched_setscheduler(0, 0x40000001' "$WORK/busy")" 1 "live switch with running threads: SCHED_FIFO, once"
ask v reset >/dev/null
sleep 0.2
like "$(ask v stats)" "^21000:[0-9]+$" "the patch applied that way works"
run_ovup revert -p "$VPID"
stop_victim v
done_testing
