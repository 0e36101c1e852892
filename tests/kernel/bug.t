#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# WARN/BUG and names of kernel patch code (issue 10, items 1 and 7):
# ovup.ko's bug table and kallsyms hold the patch's entries while its
# code lives.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios bug
done_testing
