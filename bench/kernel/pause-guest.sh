# SPDX-License-Identifier: MIT
# Inside the VM (--icount --smp 1: the guest clock counts instructions):
# the stop window of `ovup apply -k` and `revert -k` as the module measures
# it (first CPU into the stop_machine callback to the work done), with more
# and more sleeping tasks.  Prints one line per task count:
#   tasks=N apply_us=MEDIAN revert_us=MEDIAN apply_total_ms=MEDIAN
#   apply_rechecked=MEDIAN (tasks walked again inside the stop)
#   lp_ms=MEDIAN (the kernel's livepatch of the same function with the same
#   body: insmod until its transition is done, every task switched; it
#   stops no CPU, so this is its whole cost, not a window)
set -e
ROUNDS=${ROUNDS:-7}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ntasks() { ls -d /proc/[0-9]*/task/* 2>/dev/null | wc -l; }
base=$(ntasks)
for want in ${TASKS:-51 1051 5051}; do
	# the shell, this count's subshell and ovup itself come and go: aim at
	# `want` tasks while ovup runs (the idle task is counted by the module)
	extra=$((want - base - 1))
	[ $extra -ge 0 ] || extra=0
	rm -f /tmp/ready
	/tmp/sleepers $extra >/tmp/ready &
	pid=$!
	while [ "$(cat /tmp/ready 2>/dev/null)" != ready ]; do sleep 0.1; done
	have=$(ntasks)
	: >/tmp/a; : >/tmp/r; : >/tmp/t; : >/tmp/c; : >/tmp/l
	i=0
	while [ $i -lt "$ROUNDS" ]; do
		ovup apply -k --json /tmp/bench_cmdline.o >/tmp/aj
		sed -n 's/.*"pause":\([0-9]*\),"total":\([0-9]*\).*/\1/p' /tmp/aj >>/tmp/a
		sed -n 's/.*"pause":\([0-9]*\),"total":\([0-9]*\).*/\2/p' /tmp/aj >>/tmp/t
		sed -n 's/.*"stop":{"tasks":[0-9]*,"rechecked":\([0-9]*\)}.*/\1/p' /tmp/aj >>/tmp/c
		ovup revert -k --json >/tmp/rj
		sed -n 's/.*"pause_ns":\([0-9]*\).*/\1/p' /tmp/rj >>/tmp/r
		/tmp/readloop time sh -c 'insmod /tmp/lp_cmdline.ko &&
			while [ "$(cat /sys/kernel/livepatch/lp_cmdline/transition)" != 0 ]; do
				sleep 0.001
			done' >>/tmp/l
		echo 0 >/sys/kernel/livepatch/lp_cmdline/enabled
		while [ -e /sys/kernel/livepatch/lp_cmdline ]; do sleep 0.01; done
		rmmod lp_cmdline
		i=$((i + 1))
	done
	kill $pid
	wait $pid 2>/dev/null || true
	echo "tasks=$have apply_us=$(median </tmp/a | awk '{ printf "%.1f", $1 / 1e3 }')" \
		"revert_us=$(median </tmp/r | awk '{ printf "%.1f", $1 / 1e3 }')" \
		"apply_total_ms=$(median </tmp/t | awk '{ printf "%.1f", $1 / 1e6 }')" \
		"apply_rechecked=$(median </tmp/c)" "lp_ms=$(median </tmp/l)"
done
