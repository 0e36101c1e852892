#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# User-memory access in kernel patch code (issue 10, item 2): a fault at
# an instruction of the patch's __ex_table is fixed up, with SMAP (QEMU's
# max CPU: stac/clac patched in) and without (qemu64).
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios extable
KT_VM=(--cpu max)
kt_scenarios extable
done_testing
