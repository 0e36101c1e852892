#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# A kernel patch from an upstream diff (issue 13): build -k --diff over
# Debian's kernel source, applied to the guest's kernel, the fixed
# behaviour seen, reverted; what it cannot express refused on the host.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios diff
done_testing
