#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Every /dev/ovup ioctl, driven by kioctl inside the QEMU guest: valid use,
# bad arguments, privileges, a real patch of cmdline_proc_show observed in
# /proc/cmdline, stacking, the stack check, fd cleanup, module pinning.
. "$(dirname "$0")/lib.sh"

kt_build_helpers
ok $? "make -C tests/kernel (kioctl, ovup_target.ko)"

out=$("$VMRUN" -- kioctl all)
rc=$?
kt_import <<<"$out"
ok "$rc" "kioctl all exits 0 in the guest (status $rc)"
done_testing
