#!/bin/bash
# SPDX-License-Identifier: MIT
# One writer at a time (K1), the ioctl surface no stronger than ovup needs
# (K5), lockdown (K6): tests/kernel/gate-guest.sh in one guest, then a
# guest booted with lockdown=integrity, where unsigned ovup.ko cannot load.
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_build_helpers
tap_ok $? "guest helpers build"
for p in gate_a gate_b; do
	"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$p.c" -o "$work/$p.o" >"$work/log" 2>&1
	rc=$?
	tap_ok $rc "ovup build -k patches/$p.c"
	[ $rc = 0 ] || sed 's/^/# /' "$work/log"
done
"$VMRUN" --timeout 1500 --file "$work/gate_a.o" --file "$work/gate_b.o" \
	--file "$KT_ROOT/tests/kernel/gate-guest.sh" -- sh /tmp/gate-guest.sh >"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"

# booted locked down: insmod of the unsigned module fails, vmrun goes on
cat >"$work/locked.sh" <<'GUEST'
mkdir -p /sys/kernel/security
mount -t securityfs securityfs /sys/kernel/security
echo "lockdown: $(cat /sys/kernel/security/lockdown)"
[ -e /dev/ovup ] && echo "dev: present" || echo "dev: absent"
ovup apply -k /tmp/gate_a.o
echo "apply: $?"
GUEST
"$VMRUN" --timeout 600 --append lockdown=integrity --file "$work/gate_a.o" \
	--file "$work/locked.sh" -- sh /tmp/locked.sh >"$work/out" 2>"$work/err"
rc=$?
out=$(cat "$work/out")
err=$(cat "$work/err")
tap_ok $rc "lockdown=integrity: the guest ran (status $rc)"
grep -q '^lockdown: none \[integrity\] confidentiality' <<<"$out"
tap_ok $? "lockdown=integrity: the kernel says [integrity]"
grep -q 'vmrun-guest: insmod /lib/ovup/ovup.ko failed' <<<"$err"
tap_ok $? "lockdown=integrity: insmod of the unsigned ovup.ko fails, and vmrun says so"
grep -q '^dev: absent' <<<"$out"
tap_ok $? "lockdown=integrity: no /dev/ovup"
grep -q '^apply: 1$' <<<"$out"
tap_ok $? "lockdown=integrity: ovup apply -k exits 1"
grep -q "^ovup: kernel: /dev/ovup does not exist: the ovup module is not loaded, and the kernel is locked down (integrity), so an unsigned ovup.ko cannot be loaded" <<<"$err"
tap_ok $? "lockdown=integrity: ovup says the module is missing because of lockdown"
[ $rc = 0 ] && [ "$tap_failed" = 0 ] || { echo "$out" | sed 's/^/# out: /'; echo "$err" | sed 's/^/# err: /'; }
tap_end
