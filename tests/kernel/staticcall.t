#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Static calls and paravirt inlines in kernel patch code (issue 10, item 5):
# calls through the trampoline follow static_call_update().
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios staticcall
done_testing
