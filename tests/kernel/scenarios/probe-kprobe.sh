# SPDX-License-Identifier: MIT
# Kernel scenario probe-kprobe: kprobes in the displaced bytes
# (cmdline_proc_show+6), optimized or not, enabled or disabled
# patches: cmdline wrap
# timeout: 300

klog_add 'panic'
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
K=/sys/kernel/tracing
PROBES=0
hits() { awk '$1 == "ovup_t" { print $2 }' $K/kprobe_profile; }
for opt in 1 0; do
	echo $opt >/proc/sys/debug/kprobes-optimization
	echo 'p:ovup_t cmdline_proc_show+6' >$K/kprobe_events
	ok $? "opt=$opt: kprobe registered at cmdline_proc_show+6"
	PROBES=$((PROBES + 1))
	echo 1 >$K/events/kprobes/ovup_t/enable
	sleep 2 # the optimizer works after a delay
	L=$(cat /sys/kernel/debug/kprobes/list)
	if [ $opt = 1 ]; then
		like "$L" "cmdline_proc_show\+0x6 +\[OPTIMIZED\]" "opt=1: the probe is optimized (a jump)"
	else
		unlike "$L" "OPTIMIZED" "opt=0: the probe is an int3"
	fi
	TP=$(text "$FCMD")
	[ "$TP" != "$T0" ]; ok $? "opt=$opt: the probe changed the displaced bytes"
	H0=$(hits)
	for state in enabled disabled; do
		run apply -k /tmp/cmdline.o
		is "$RC" 1 "opt=$opt $state: apply refused (exit 1)"
		like "$ERR" "a kprobe at cmdline_proc_show\\+0x6.* lies in the bytes ovup's jump would replace.*remove the probe" "opt=$opt $state: the message names the probe and the fix"
		is "$(lines "$ERR")" 1 "opt=$opt $state: one line"
		is "$(cat /proc/cmdline)" "$CMDLINE" "opt=$opt $state: /proc/cmdline unchanged"
		run apply -k /tmp/wrap.o
		is "$RC" 1 "opt=$opt $state: an OVUP_ORIG patch is refused too (no int3 copied)"
		is "$(cat /proc/cmdline)" "$CMDLINE" "opt=$opt $state: /proc/cmdline still unchanged"
		if [ $state = enabled ]; then
			is "$(text "$FCMD")" "$TP" "opt=$opt: kernel text as the probe left it"
			H1=$(hits)
			[ "$H1" -gt "$H0" ]; ok $? "opt=$opt: the probe still fires ($H0 -> $H1 hits)"
			echo 0 >$K/events/kprobes/ovup_t/enable
		fi
	done
	like "$(cat /sys/kernel/debug/kprobes/list)" "cmdline_proc_show\+0x6 .*DISABLED" "opt=$opt: the disabled probe is listed as such"
	echo '-:ovup_t' >>$K/kprobe_events
	ok $? "opt=$opt: the probe is removed"
	sleep 1
	is "$(text "$FCMD")" "$T0" "opt=$opt: kernel text is back to the original"
done
echo 1 >/proc/sys/debug/kprobes-optimization
echo "# probes tried: $PROBES"
umount /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug 2>/dev/null
