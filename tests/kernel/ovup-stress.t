#!/bin/bash
# SPDX-License-Identifier: MIT
# Stress in QEMU: 100 apply/revert cycles of a /proc function while two
# readers loop on the file (scenario ovup-stress).
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios ovup-stress
done_testing
