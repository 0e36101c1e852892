# SPDX-License-Identifier: MIT
# Kernel scenario probe-jump: without the probe, apply works; while applied
# no kprobe fits at +6
# patches: cmdline wrap
# timeout: 180

klog_add 'panic'
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
K=/sys/kernel/tracing
PROBES=0
t0=$(date +%s)
run apply -k /tmp/cmdline.o
echo "# apply with the vmlinux check took $(($(date +%s) - t0)) s"
is "$RC" 0 "apply works once the probe is gone"
like "$(cat /proc/cmdline)" "^ovup-cmdline" "... and the new code runs"
TA=$(text "$FCMD")
echo 'p:ovup_t cmdline_proc_show+6' >$K/kprobe_events 2>/dev/null
[ $? != 0 ]; ok $? "the kernel refuses a kprobe at +6 inside ovup's jump"
PROBES=$((PROBES + 1))
is "$(text "$FCMD")" "$TA" "... and the jump is intact"
run revert -k
is "$RC" 0 "revert"
is "$(text "$FCMD")" "$T0" "revert restores the text byte-for-byte"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
ls /var/cache/ovup/vmlinux-* >/dev/null 2>&1
ok $? "the decompressed image is kept in /var/cache/ovup"
t0=$(date +%s)
run apply -k /tmp/wrap.o
echo "# apply with the vmlinux check, from the cache, took $(($(date +%s) - t0)) s"
is "$RC" 0 "an OVUP_ORIG patch without a probe applies"
is "$(cat /proc/cmdline)" "ovup-wrap: $CMDLINE" "... and its trampoline runs the original bytes"
run revert -k
is "$(text "$FCMD")" "$T0" "... reverted byte-for-byte"
echo "# probes tried: $PROBES"
umount /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug 2>/dev/null
