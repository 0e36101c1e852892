# SPDX-License-Identifier: MIT
# Kernel scenario staticcall: a static call in patch code goes through its
# trampoline, whose target tracefs changes while the patch is live (no
# probe: the iterator; one: that probe; two: the iterator), and the patch's
# paravirt inline runs natively (.static_call_sites, .parainstructions)
# patches: staticcall
# timeout: 150

mount -t tracefs none /sys/kernel/tracing 2>/dev/null
K=/sys/kernel/tracing
E=events/task/task_rename/enable
sym() { awk -v s="$1" '$3 == s {print "0x" $1; exit}' /proc/kallsyms; }
TRAMP=$(sym __SCT__tp_func_task_rename)
ITER=$(sym __traceiter_task_rename)
PROBE=$(sym trace_event_raw_event_task_rename)
# events NAME: how many task_rename events the patch made in buffer NAME
events() { grep -c 'newcomm=ovup-sc' "$1"; }

echo >$K/trace
run apply -k /tmp/staticcall.o
is "$RC" 0 "a patch with a static call and a paravirt inline applies${ERR:+ ($ERR)}"
is "$(cat /proc/cmdline)" "ovup-staticcall 0" "no probe: the patch finds no function to call"
is "$(kpeek -b "$TRAMP")" "jmp $ITER" "... the trampoline goes to the iterator"
# local_irq_save/restore: three `call *pv_ops.x(%rip)` (ff 15) in the
# function's first 0x24 bytes, each with its native inline as alternative
NEW=$(ovup list -k | awk '/cmdline_proc_show/ && /->/ {print $(NF - 1); exit}')
PV=" $(kpeek "$NEW" 36 | cut -d' ' -f2 | sed 's/../& /g')"
case $PV in *" ff 15 "*) pv=call ;; *" 9c 58 "*) pv=native ;; *) pv=other ;; esac
is "$pv" native "the paravirt calls became the native pushf/pop, cli, sti (${PV# })"

echo 1 >$K/$E
is "$(kpeek -b "$TRAMP")" "jmp $PROBE" "one probe: static_call_update points the trampoline at it"
is "$(cat /proc/cmdline)" "ovup-staticcall 1" "... the patch calls through the trampoline"
is "$(events $K/trace)" 1 "... and the event is in the trace buffer"

mkdir $K/instances/ovup
echo 1 >$K/instances/ovup/$E
is "$(kpeek -b "$TRAMP")" "jmp $ITER" "two probes (a second trace instance): the iterator again"
cat /proc/cmdline >/dev/null
is "$(events $K/trace)/$(events $K/instances/ovup/trace)" 2/1 "... the event reaches both buffers"

echo 0 >$K/$E
is "$(kpeek -b "$TRAMP")" "jmp $PROBE" "the first disabled: the trampoline goes to the other probe"
cat /proc/cmdline >/dev/null
is "$(events $K/trace)/$(events $K/instances/ovup/trace)" 2/2 "... only the instance gets the event"

echo 0 >$K/instances/ovup/$E
is "$(cat /proc/cmdline)" "ovup-staticcall 0" "none enabled: no call"
is "$(events $K/trace)/$(events $K/instances/ovup/trace)" 2/2 "... no event"
rmdir $K/instances/ovup

run revert -k staticcall
is "$RC" 0 "revert${ERR:+ ($ERR)}"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
wait_freed 10
umount /sys/kernel/tracing 2>/dev/null
