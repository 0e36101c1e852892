#!/bin/bash
# SPDX-License-Identifier: MIT
# One writer at a time (K1), the ioctl surface no stronger than ovup needs
# (K5), lockdown (K6): the gate-* scenarios in one guest, then a
# guest booted with lockdown=integrity, where unsigned ovup.ko cannot load.
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_scenarios gate-k5 gate-k1 gate-stray gate-lockdown

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
ok $rc "lockdown=integrity: the guest ran (status $rc)"
grep -q '^lockdown: none \[integrity\] confidentiality' <<<"$out"
ok $? "lockdown=integrity: the kernel says [integrity]"
grep -q 'vmrun-guest: insmod /lib/ovup/ovup.ko failed' <<<"$err"
ok $? "lockdown=integrity: insmod of the unsigned ovup.ko fails, and vmrun says so"
grep -q '^dev: absent' <<<"$out"
ok $? "lockdown=integrity: no /dev/ovup"
grep -q '^apply: 1$' <<<"$out"
ok $? "lockdown=integrity: ovup apply -k exits 1"
grep -q "^ovup: kernel: /dev/ovup does not exist: the ovup module is not loaded, and the kernel is locked down (integrity), so an unsigned ovup.ko cannot be loaded" <<<"$err"
ok $? "lockdown=integrity: ovup says the module is missing because of lockdown"
[ $rc = 0 ] && [ "$tap_failed" = 0 ] || { echo "$out" | sed 's/^/# out: /'; echo "$err" | sed 's/^/# err: /'; }
done_testing
