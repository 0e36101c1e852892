# SPDX-License-Identifier: MIT
# Kernel scenario probe-inflight: a breakpoint in flight: ftrace toggling a
# kprobe on the entry (+0, an ftrace-based probe) writes int3 there for a
# moment: busy, never "no ftrace NOP5"
# patches: cmdline
# timeout: 480

klog_add 'panic'
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
K=/sys/kernel/tracing
PROBES=0
echo 'p:ovup_e cmdline_proc_show' >$K/kprobe_events
PROBES=$((PROBES + 1))
# a bounded toggler, and a bounded wait for each run: under emulation on a
# loaded host an ftrace update can take long, and ovup finishes what it
# does on SIGTERM, so each run is bounded with SIGKILL (a dry run writes
# nothing: killing it must harm nothing either); the runs stop after 240 s
( j=0; while [ $j -lt 400 ]; do echo 1 >$K/events/kprobes/ovup_e/enable
	echo 0 >$K/events/kprobes/ovup_e/enable; j=$((j + 1)); done ) &
TOG=$!
busy=0 fail=0 okc=0 slow=0
i=0
start=$(date +%s)
while [ $i -lt 5 ] && [ $(($(date +%s) - start)) -lt 240 ]; do
	t0=$(date +%s)
	timeout -s KILL 90 ovup apply -k --dry-run /tmp/cmdline.o >/tmp/out 2>/tmp/err
	RC=$?
	echo "# dry run $i: exit $RC after $(($(date +%s) - t0)) s"
	case $RC in
	0) okc=$((okc + 1)) ;;
	3) busy=$((busy + 1)); last3=$(cat /tmp/err) ;;
	124|137|143) slow=$((slow + 1)) ;;
	*) fail=$((fail + 1)); last1=$(cat /tmp/err) ;;
	esac
	i=$((i + 1))
done
kill $TOG
wait $TOG 2>/dev/null
echo "# toggler stopped after $(($(date +%s) - start)) s"
echo 0 >$K/events/kprobes/ovup_e/enable
echo '-:ovup_e' >>$K/kprobe_events
echo "# while a probe on the entry toggled: $okc ok, $busy busy, $fail failed, $slow timed out"
is "$fail" 0 "$i dry runs while an entry probe toggles: none fails with exit 1"
[ -n "${last1:-}" ] && echo "# last failure: $last1"
[ $busy = 0 ] || like "$last3" "breakpoint \\(int3\\).*in flight; try again|changed while ovup read it" "busy says it is transient"
is "$(text "$FCMD")" "$T0" "kernel text as before"
echo "# probes tried: $PROBES"
umount /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug 2>/dev/null
