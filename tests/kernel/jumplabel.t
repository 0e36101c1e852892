#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Static keys and tracepoints in kernel patch code (issue 10, item 3): each
# site is a jump to a stub that reads its key.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios jumplabel
done_testing
