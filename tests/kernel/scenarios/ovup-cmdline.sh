# SPDX-License-Identifier: MIT
# Kernel scenario ovup-cmdline: a static kernel function reachable from
# /proc
# patches: cmdline

run apply -k --dry-run /tmp/cmdline.o
is "$RC" 0 "dry run"
like "$OUT" "old $FCMD, [0-9]+ bytes; branch at 0x[0-9a-f]+ \\(after the kept entry bytes\\)" "dry run: the branch goes after the ftrace NOP5"
like "$OUT" "jump e9( [0-9a-f]{2}){4}" "dry run: shows the jump bytes"
is "$(text "$FCMD")" "$T0" "dry run: kernel text untouched"
is "$(cat /proc/cmdline)" "$CMDLINE" "dry run: /proc/cmdline unchanged"
run apply -k --dry-run --json /tmp/cmdline.o
like "$OUT" '"registers":\{"contract":"unchecked","wrapper":null\}' \
	"dry run: kernel callers assume only the ABI (-pg): no register contract, no wrapper"
run apply -k /tmp/cmdline.o
is "$RC" 0 "apply: static cmdline_proc_show replaced live"
like "$OUT" "cmdline_proc_show +vmlinux" "apply names the function"
got=$(cat /proc/cmdline)
like "$got" "^ovup-cmdline pid=[0-9]+ comm=cat ticking=1$" "new code calls seq_printf, reads current->pid/comm (per-CPU) and jiffies"
[ "$got" != "$CMDLINE" ]; ok $? "the old /proc/cmdline is gone"
run list -k
like "$OUT" "cmdline +\(seq [0-9]+" "list -k shows the patch (kept by the module)"
like "$OUT" "cmdline_proc_show +vmlinux .* active" "... with the function active"
rmmod ovup 2>/dev/null
[ -e /dev/ovup ]; ok $? "rmmod ovup is refused while a patch is active"
run revert -k
is "$RC" 0 "revert -k"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
is "$(text "$FCMD")" "$T0" "kernel text is byte-for-byte as before"
