#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# CPU alternatives and return sites in kernel patch code (issue 10, item 4,
# and the return thunks of item 5): applied by the tool as the module
# loader would for the guest's CPU.  Two guests: QEMU's qemu64 (no SMAP,
# plain returns) and max with the ITS mitigation forced (SMAP, returns
# through its_return_thunk where bit 5 of the address is clear).
. "$(dirname "$0")/lib.sh"
kt_workdir
ALT_SMAP=0 ALT_RET=plain
kt_scenarios alt
KT_VM=(--cpu max --append "spectre_v2=retpoline,generic indirect_target_selection=force")
ALT_SMAP=1 ALT_RET=its
kt_scenarios alt
done_testing
