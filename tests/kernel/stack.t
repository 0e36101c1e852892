#!/bin/bash
# SPDX-License-Identifier: MIT
# Revert of code tasks are still in (issue 8, K3 and the schedule()
# wrapper): idle tasks parked in a wrapper of schedule_idle, sleepers in
# wrappers of do_nanosleep and schedule().  tests/kernel/stack-guest.sh.
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_build_helpers
tap_ok $? "guest helpers build"
files=()
for p in idle sched nanosleep cmdline; do
	"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$p.c" -o "$work/$p.o" >"$work/log" 2>&1
	rc=$?
	tap_ok $rc "ovup build -k patches/$p.c"
	[ $rc = 0 ] || sed 's/^/# /' "$work/log"
	files+=(--file "$work/$p.o")
done
"$VMRUN" --timeout 600 "${files[@]}" --file "$KT_ROOT/tests/kernel/stack-guest.sh" -- \
	sh /tmp/stack-guest.sh >"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"
tap_end
