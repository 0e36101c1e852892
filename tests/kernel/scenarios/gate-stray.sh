# SPDX-License-Identifier: MIT
# Kernel scenario gate-stray: a jump into ovup's area that no record of the
# tool's accounts for
# patches: gate_a

klog_add 'Call Trace'
kio stray
T1=$(text "$FVER")
run apply -k /tmp/gate_a.o
is "$RC" 1 "apply over a jump into ovup's area without a record: exit 1"
like "$ERR" "is already hooked by someone else: a jmp into ovup.ko's own area \\(0x[0-9a-f]+\\) that no patch applied by ovup accounts for" "... says the jump is ovup's, unaccounted for"
is "$(text "$FVER")" "$T1" "... and the text is unchanged"
kio unstray
is "$(text "$FVER")" "$V0" "the blobless patch is reverted"
