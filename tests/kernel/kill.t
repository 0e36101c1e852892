#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# ovup killed at every ioctl of a kernel apply and revert (the tables of
# issue 10 included): the kernel is left wholly old or wholly new, and the
# next run settles it.  strace runs in the guest (tools/vmrun packs it).
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios kill
done_testing
