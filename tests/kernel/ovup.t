#!/bin/bash
# SPDX-License-Identifier: MIT
# `ovup -k` against Debian's kernel under QEMU: patches built on the host
# with `ovup build -k` (kbuild, the installed headers), applied, observed,
# reverted in the guest by tests/kernel/ovup-guest.sh.
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_build_helpers
tap_ok $? "guest helpers build"
files=()
for p in cmdline two stack1 stack2 module unknown ambiguous tiny version data wrap \
	../../../examples/kernel-cmdline; do
	"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$p.c" -o "$work/${p##*/}.o" >"$work/log" 2>&1
	rc=$?
	tap_ok $rc "ovup build -k patches/$p.c"
	[ $rc = 0 ] || sed 's/^/# /' "$work/log"
	files+=(--file "$work/${p##*/}.o")
done
# an object that claims another kernel build: apply must refuse it
printf 'ovup-build 1\ntarget kernel\nkernel-release 6.1.0-56-amd64\nkernel-version #1 SMP Debian 0.0-0 (1999-01-01)\n' >"$work/rec"
objcopy --update-section .ovup.build="$work/rec" "$work/cmdline.o" "$work/otherbuild.o"
tap_ok $? "an object recording another kernel build"
files+=(--file "$work/otherbuild.o")
"$VMRUN" "${files[@]}" --file "$KT_ROOT/tests/kernel/ovup-guest.sh" -- sh /tmp/ovup-guest.sh \
	>"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"
tap_end
