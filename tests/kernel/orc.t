#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Unwinding through kernel patch code (issue 10, item 6): ORC rows of the
# patch in ovup.ko's table.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios orc
done_testing
