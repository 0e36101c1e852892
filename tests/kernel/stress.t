#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# 100 apply/revert cycles on cmdline_proc_show while another process reads
# /proc/cmdline; every read must be the old or the new text, and the kernel
# log must stay free of BUG/Oops/WARNING.
. "$(dirname "$0")/lib.sh"

kt_build_helpers
tap_ok $? "make -C tests/kernel"

out=$("$VMRUN" -- kioctl stress 100)
rc=$?
tap_import <<<"$out"
tap_ok "$rc" "kioctl stress exits 0 in the guest (status $rc)"
tap_end
