#!/bin/bash
# SPDX-License-Identifier: MIT
# `ovup -k` against Debian's kernel under QEMU: patches built on the host
# with `ovup build -k` (kbuild, the installed headers), applied, observed,
# reverted in the guest by tests/kernel/ovup-guest.sh.
. "$(dirname "$0")/lib.sh"
OVUP=$KT_ROOT/build/ovup
work=$(mktemp -d /tmp/ovup-kt.XXXXXX)
trap 'rm -rf "$work"' EXIT

kt_build_helpers
tap_ok $? "guest helpers build"
files=()
for p in cmdline two stack1 stack2 module unknown ambiguous tiny version; do
	"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$p.c" -o "$work/$p.o" >"$work/log" 2>&1
	rc=$?
	tap_ok $rc "ovup build -k patches/$p.c"
	[ $rc = 0 ] || sed 's/^/# /' "$work/log"
	files+=(--file "$work/$p.o")
done
"$VMRUN" "${files[@]}" --file "$KT_ROOT/tests/kernel/ovup-guest.sh" -- sh /tmp/ovup-guest.sh \
	>"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"
tap_end
