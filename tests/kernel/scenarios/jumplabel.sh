# SPDX-License-Identifier: MIT
# Kernel scenario jumplabel: static branches in patch code follow their
# keys: the state at apply and every later change, both kinds of branch
# (a key flipped by a sysctl), and a patched function that keeps its
# tracepoint (enabled and disabled in tracefs after the apply)
# patches: jumplabel tracepoint
# timeout: 180

S=/proc/sys/kernel/sched_schedstats
S0=$(cat $S)
new_of() { ovup list -k | awk -v f="$1" '$1 == f && /->/ {print $(NF - 1); exit}'; }
for first in 1 0; do
	echo $first >$S
	run apply -k /tmp/jumplabel.o
	is "$RC" 0 "a patch with static branches applies, key $first${ERR:+ ($ERR)}"
	want() { [ "$1" = 1 ] && echo "ovup-jumplabel on=1 off=0" || echo "ovup-jumplabel on=0 off=1"; }
	is "$(cat /proc/cmdline)" "$(want $first)" "... both branches see the key as it was at apply ($first)"
	other=$((1 - first))
	echo $other >$S
	is "$(cat /proc/cmdline)" "$(want $other)" "... and follow it when the sysctl flips it ($other)"
	echo $first >$S
	is "$(cat /proc/cmdline)" "$(want $first)" "... and back ($first)"
	if [ $first = 1 ]; then
		# the first site (after the ftrace NOP) jumps to a stub in the block
		new=$(new_of cmdline_proc_show)
		set -- $(kpeek -b "$(printf '0x%x' $((new + 5)))")
		to=${2:-0}
		ok $([ "${1:-}" = jmp ] && [ $((to - new)) -gt 0 ] && [ $((to - new)) -lt 4096 ]; echo $?) \
			"the site is a jmp to a stub in the patch's block ($* from $new)"
	fi
	run revert -k jumplabel
	is "$RC" 0 "revert${ERR:+ ($ERR)}"
	wait_freed 10
done
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
echo "$S0" >$S

mount -t tracefs none /sys/kernel/tracing 2>/dev/null
K=/sys/kernel/tracing
E=$K/events/task/task_rename/enable
# rename: a shell renames itself to ovup-tp-old and says what it became
rename() { sh -c 'printf ovup-tp-old >/proc/self/comm; read -r c </proc/self/comm; echo "$c"'; }
events() { grep -c 'newcomm=ovup-tp-new' $K/trace; }
echo 0 >$E
echo >$K/trace
run apply -k /tmp/tracepoint.o
is "$RC" 0 "__set_task_comm with its tracepoint applies${ERR:+ ($ERR)}"
is "$(rename)" ovup-tp-new "the patched function runs"
is "$(events)" 0 "... the event is off: nothing traced"
echo 1 >$E
is "$(rename)" ovup-tp-new "the event enabled after the apply"
is "$(events)" 1 "... its tracepoint in the patch fires"
echo 0 >$E
rename >/dev/null
is "$(events)" 1 "disabled again: no more events"
run revert -k tracepoint
is "$RC" 0 "revert${ERR:+ ($ERR)}"
is "$(rename)" ovup-tp-old "the original __set_task_comm is back"
wait_freed 10
umount /sys/kernel/tracing 2>/dev/null
