#!/bin/bash
# SPDX-License-Identifier: MIT
# Stress in QEMU: 100 apply/revert cycles of a /proc function while two
# readers loop on the file (tests/kernel/ovup-stress-guest.sh).
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_build_helpers
tap_ok $? "guest helpers build"
"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/stress.c" -o "$work/stress.o" >"$work/log" 2>&1
tap_ok $? "ovup build -k patches/stress.c"
"$VMRUN" --timeout 1200 --file "$work/stress.o" --file "$KT_ROOT/tests/kernel/ovup-stress-guest.sh" \
	-- sh /tmp/ovup-stress-guest.sh >"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"
tap_end
