#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Host-only checks of the module build: -Werror clean against the installed
# headers, built for the kernel the VM boots, the two @nobits areas laid
# out as ovup.ko's allocator expects, only exported symbols used, and a
# clear error for a kernel that is not installed.
. "$(dirname "$0")/lib.sh"
ko=$KT_ROOT/kmod/ovup.ko

log=$(make -C "$KT_ROOT/kmod" 2>&1)
rc=$?
ok $rc "make -C kmod succeeds (-Wall -Werror)"
[ $rc = 0 ] || printf '%s\n' "$log" | tail -n 20 | sed 's/^/# /'
ok $(! grep -q 'warning:' <<<"$log"; echo $?) "no compiler warnings"

vermagic=$(strings "$ko" | sed -n 's/^vermagic=\([^ ]*\).*/\1/p')
ok $([ -f "/boot/vmlinuz-$vermagic" ] && [ -d "/usr/src/linux-headers-$vermagic" ]; echo $?) \
	"ovup.ko is built for an installed, bootable kernel ($vermagic)"

sec() { readelf -SW "$ko" | awk -v n="$1" '$2 == n { print $3, $6, $8, $9, $NF }'; }
ok $([ "$(sec .ovup.text)" = "NOBITS 200000 AX 0 4096" ]; echo $?) \
	".ovup.text is a 2 MiB page-aligned ax @nobits section ($(sec .ovup.text))"
ok $([ "$(sec .ovup.data)" = "NOBITS 200000 WA 0 4096" ]; echo $?) \
	".ovup.data is a 2 MiB page-aligned aw @nobits section ($(sec .ovup.data))"

symvers=/usr/src/linux-headers-$vermagic/Module.symvers
missing=$(nm -u "$ko" | awk '{ print $2 }' | while read -r s; do
	grep -qP "\t$s\t" "$symvers" || echo "$s"; done)
ok $([ -z "$missing" ]; echo $?) "every undefined symbol is exported by the kernel${missing:+ (missing: $missing)}"
ok $([ "$(modinfo -F license "$ko" 2>/dev/null || strings "$ko" | sed -n 's/^license=//p')" = "Dual MIT/GPL" ]; echo $?) \
	"license is GPL-compatible (needed for stop_machine and the unwinder)"

out=$(make -C "$KT_ROOT/kmod" KVER=0.0-not-installed 2>&1)
rc=$?
ok $([ $rc != 0 ] && grep -q 'no kernel build tree for 0.0-not-installed' <<<"$out"; echo $?) \
	"an uninstalled KVER fails with a clear message"
done_testing
