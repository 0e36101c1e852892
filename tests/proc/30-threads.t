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
done_testing
