#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# 20000 ioctls with random, structure-aware arguments (kioctl fuzz): every
# one must get an errno or succeed without an oops; afterwards nothing is
# left applied, the module unloads (no leaked block or reference) and the
# kernel log is clean.  FUZZ_CALLS=N runs longer.
. "$(dirname "$0")/lib.sh"

kt_build_helpers
ok $? "make -C tests/kernel"

calls=${FUZZ_CALLS:-20000}
out=$("$VMRUN" --timeout 900 -- kioctl fuzz "$calls")
rc=$?
kt_import <<<"$out"
ok "$rc" "kioctl fuzz $calls exits 0 in the guest (status $rc)"
done_testing
