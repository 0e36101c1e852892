#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 8, K4 and rmmod -f: a kernel patch that calls into a module pins
# that module; `rmmod -f` of a module a patch needs or patches drops the
# patch and restores the kernel's text; `rmmod -f ovup` restores every
# patch before ovup.ko goes.  Patches built on the host, run in the guest
# by tests/kernel/deps-guest.sh.
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_build_helpers
tap_ok $? "guest helpers build"
files=()
for p in deps sleepy module two version stack1; do
	"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$p.c" -o "$work/$p.o" >"$work/log" 2>&1
	rc=$?
	tap_ok $rc "ovup build -k patches/$p.c"
	[ $rc = 0 ] || sed 's/^/# /' "$work/log"
	files+=(--file "$work/$p.o")
done
"$VMRUN" --timeout 900 "${files[@]}" --file "$KT_ROOT/tests/kernel/deps-guest.sh" \
	-- sh /tmp/deps-guest.sh >"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"
tap_end
