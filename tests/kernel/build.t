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
# build -k replays the commands kbuild ran once (cached in ~/.cache/ovup)
# instead of running make each time: the same compiler command and flags,
# the same code, objtool's sections, as make gives
work=$(mktemp -d /tmp/ovup-kbuild.XXXXXX)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache
OVUP=$KT_ROOT/build/ovup
P=$KT_ROOT/tests/kernel/patches/warn.c
"$OVUP" build -q -k "$P" -o "$work/replay1.o" >/dev/null 2>"$work/err1"
ok $? "build -k with an empty cache (kbuild runs once, its commands recorded)"
ok $([ "$(ls "$work/cache/ovup" | grep -c '^kbuild-')" = 1 ]; echo $?) "... and kept in \$XDG_CACHE_HOME/ovup"
"$OVUP" build -q -k "$P" -o "$work/replay.o" >/dev/null 2>"$work/err2"
ok $? "build -k again: the commands replayed from the cache"
OVUP_KBUILD_MAKE=1 "$OVUP" build -q -k "$P" -o "$work/make.o" >/dev/null 2>"$work/err3"
ok $? "build -k with make, as before (OVUP_KBUILD_MAKE=1)"
code() { objdump -dr "$1" | tail -n +4; }
producer() { readelf --debug-dump=info "$1" | grep -m1 DW_AT_producer | sed 's/.*): //'; }
secs() { readelf -SW "$1" | awk '/^ *\[ *[0-9]+\]/ && $2 !~ /debug|ovup.build/ {print $2, $6}' | sed 's/^\[[0-9 ]*\] //'; }
ok $([ "$(code "$work/replay.o")" = "$(code "$work/make.o")" ]; echo $?) "the replayed build's code and relocations are make's"
ok $([ "$(code "$work/replay1.o")" = "$(code "$work/make.o")" ]; echo $?) "... the recording run's too"
like "$(producer "$work/replay.o")" "^GNU C11 .* -mfentry .*" "the compiler's recorded switches are kbuild's ($(producer "$work/replay.o" | cut -c1-40)...)"
ok $([ "$(producer "$work/replay.o")" = "$(producer "$work/make.o")" ]; echo $?) "... the same as make's, switch for switch"
ok $([ "$(secs "$work/replay.o")" = "$(secs "$work/make.o")" ] && secs "$work/replay.o" | grep -q '^.orc_unwind '; echo $?) \
	"the same sections, objtool's ORC among them"
echo garbage >"$(ls -d "$work"/cache/ovup/kbuild-*)"
"$OVUP" build -q -k "$P" -o "$work/again.o" >/dev/null 2>&1
ok $([ $? = 0 ] && [ "$(code "$work/again.o")" = "$(code "$work/make.o")" ]; echo $?) "a damaged cache entry is recorded again, not trusted"
done_testing
