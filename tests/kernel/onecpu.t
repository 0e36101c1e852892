#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# A one-CPU kernel: ovup.ko used to refuse idle_threads there (init_task,
# CPU 0's idle task, did not show PF_IDLE), so nothing could be patched.
# A sleeper in patched code and the bug-table scenario, on one CPU.
. "$(dirname "$0")/lib.sh"
kt_workdir
KT_VM=(--smp 1)
kt_scenarios stack-nanosleep bug
done_testing
