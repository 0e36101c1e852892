# SPDX-License-Identifier: MIT
# Kernel scenario bug: WARN/BUG in patch code report as in a module, from
# ovup.ko's bug table: the report names the function (kallsyms:
# func.ovup_patch) and the patch's file:line, taints, _ONCE fires once per
# apply; the names leave kallsyms with the code
# patches: warn
# timeout: 150

# the warnings fired here are expected; anything else before them is not
dmesg | grep -v -i 'command line' | grep -E "$klog_bad" >/tmp/bad
is "$(wc -l </tmp/bad)" 0 "the kernel log is clean before the warnings"
# fire NAME: a task called NAME reads /proc/cmdline
fire() { sh -c "printf $1 >/proc/self/comm; read -r x </proc/cmdline; echo \"\$x\""; }
warnings() { since | grep -c "WARNING: CPU: [0-9]* PID: [0-9]* at $1"; }
F="[^ ]*tests/kernel/patches/warn.c"
mark
TABLES0=$(kpeek -t)
run apply -k /tmp/warn.o
is "$RC" 0 "a patch with WARN_ON_ONCE, WARN and BUG_ON applies${ERR:+ ($ERR)}"
ok $([ "$(kpeek -t)" != "$TABLES0" ]; echo $?) "... its entries join ovup.ko's tables ($(kpeek -t))"
like "$(grep 'cmdline_proc_show\.ovup_warn' /proc/kallsyms)" "^[0-9a-f]+ t cmdline_proc_show\\.ovup_warn	\\[ovup\\]" \
	"kallsyms names the patch's code cmdline_proc_show.ovup_warn [ovup]"
is "$(fire ovup-quiet)" ovup-warn "the patched function runs, no warning when none fires"
is "$(warnings "$F")" 0 "... none in the log"
is "$(fire ovup-warn)" ovup-warn "WARN_ON_ONCE fires: the task goes on"
is "$(warnings "$F:12 cmdline_proc_show.ovup_warn+0x[0-9a-f]*/0x[0-9a-f]* \\[ovup\\]")" 1 \
	"... reported at $F:12 in cmdline_proc_show.ovup_warn [ovup]"
like "$(since)" "RIP: 0010:cmdline_proc_show\\.ovup_warn\\+0x" "... RIP named too"
is "$(($(cat /proc/sys/kernel/tainted) >> 9 & 1))" 1 "... the kernel is tainted W"
fire ovup-warn >/dev/null
is "$(warnings "$F:12")" 1 "_ONCE: not again"
fire ovup-warn2 >/dev/null
fire ovup-warn2 >/dev/null
is "$(since | grep -c 'ovup: warned for ovup-warn2')" 2 "WARN fires every time, with its message"
is "$(since | grep -cE 'invalid opcode|Oops|BUG:|general protection')" 0 "no oops, no BUG"
# a kprobe on the patch's code, by its name: the revert must not free it
mount -t debugfs none /sys/kernel/debug 2>/dev/null
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
echo 'p:ovup_kp cmdline_proc_show.ovup_warn' >>/sys/kernel/tracing/kprobe_events
run revert -k warn
is "$RC" 1 "a revert while a kprobe sits on the patch's code: refused"
like "$ERR" "a kprobe at 0x[0-9a-f]+ \\(cmdline_proc_show\\.ovup_warn\\+0x0.*\\) lies in the code of patch 'warn'; remove it first" \
	"... naming the probe and the fix"
like "$(ovup list -k)" "warn" "... the patch stays applied"
echo '-:ovup_kp' >>/sys/kernel/tracing/kprobe_events
run revert -k warn
is "$RC" 0 "revert${ERR:+ ($ERR)}"
wait_freed 10
is "$(grep -c 'ovup_warn' /proc/kallsyms)" 0 "the names left kallsyms with the code"
run apply -k /tmp/warn.o
is "$RC" 0 "applied again${ERR:+ ($ERR)}"
mark
fire ovup-warn >/dev/null
is "$(warnings "$F:12")" 1 "a new apply's WARN_ON_ONCE fires again (fresh entries)"
run revert -k warn
is "$RC" 0 "revert${ERR:+ ($ERR)}"
wait_freed 10
mark
is "$(fire ovup-warn)" "$CMDLINE" "the original function is back"
is "$(since | grep -c WARNING)" 0 "... and warns about nothing"
# the expected reports leave the log, so the final check sees the rest
dmesg -c >/dev/null
ok $(wait_freed 15; echo $?) "the code is freed"
is "$(kpeek -t)" "$TABLES0" "ovup.ko's tables are back to their size: no entry for freed code ($TABLES0)"
