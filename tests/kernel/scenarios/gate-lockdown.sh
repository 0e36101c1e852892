# SPDX-License-Identifier: MIT
# Kernel scenario gate-lockdown: lockdown raised after ovup.ko was loaded
# patches: gate_a gate_b
# last: lockdown cannot be lowered again in this boot

klog_add 'Call Trace'
run apply -k /tmp/gate_a.o
is "$RC" 0 "apply before lockdown"
kio lockdown
T1=$(text "$FVER")
run apply -k /tmp/gate_b.o
is "$RC" 1 "integrity: ovup apply -k exits 1"
like "$ERR" "^ovup: kernel: the kernel is locked down \\(integrity\\): ovup.ko refuses to load or switch to patch code; " "integrity: one line says lockdown refuses it"
is "$(echo "$ERR" | wc -l)" 1 "... one line"
is "$(text "$FVER")" "$T1" "integrity: the text is unchanged"
is "$(cat /proc/version)" "ovup-gate-a" "integrity: the patch applied before lockdown is still live"
run revert -k
is "$RC" 0 "integrity: the patch applied before lockdown can be reverted"
is "$(text "$FVER")" "$V0" "integrity: the text is the kernel's again"
is "$(cat /proc/version)" "$VERSION" "integrity: /proc/version is the kernel's again"
kio confidentiality
run apply -k --dry-run /tmp/gate_a.o
is "$RC" 1 "confidentiality: a dry run (which reads kernel text) exits 1"
like "$ERR" "^ovup: kernel: the kernel is locked down \\(confidentiality\\): ovup.ko refuses to read kernel text" "confidentiality: says why"
