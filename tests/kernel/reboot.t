#!/bin/bash
# SPDX-License-Identifier: MIT
# A kernel patch that comes back after a reboot: installed in one guest,
# whose /var/lib/ovup is carried (as a tar) into a second boot of the same
# kernel, where the boot service's command applies it; a patch built for
# another kernel is skipped there with the reason.  /var/cache/ovup goes
# with it: the second boot's first apply takes the kernel's symbols the
# first boot kept, moved to where this boot (KASLR) put the kernel and
# its modules, without reading all of kallsyms.
. "$(dirname "$0")/lib.sh"
kt_workdir

"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/cmdline.c" -o "$work/cmdline.o" >"$work/log" 2>&1
ok $? "ovup build -k tests/kernel/patches/cmdline.c"
# the same patch, its record saying another kernel release
cp "$work/cmdline.o" "$work/other.o"
objcopy --dump-section .ovup.build="$work/rec" "$work/other.o"
sed 's/^kernel-release .*/kernel-release 5.10.0-99-amd64/' "$work/rec" >"$work/rec2"
objcopy --update-section .ovup.build="$work/rec2" "$work/other.o"
# what ovup.service runs at boot (modprobe is vmrun's insmod here)
start=$(sed -n 's/^ExecStart=@BINDIR@\///p' "$KT_ROOT/contrib/systemd/ovup.service")
is "$start" "ovup apply --installed -k" "ovup.service runs 'ovup apply --installed -k'"

# 1. the first boot: install, and the library goes out as a tar
cat >"$work/first.sh" <<'GUEST'
ovup install /tmp/cmdline.o >/dev/null || echo "install failed"
ovup install --name other /tmp/other.o >/dev/null || echo "install of other failed"
echo "cmdline: $(cat /proc/cmdline)"
ovup apply -k /tmp/cmdline.o >/dev/null && ovup revert -k >/dev/null || echo "apply failed"
tar -C / -cf - var/lib/ovup var/cache/ovup/symbols | base64
GUEST
"$VMRUN" --timeout 600 --file "$work/cmdline.o" --file "$work/other.o" --file "$work/first.sh" \
	-- sh /tmp/first.sh >"$work/out1" 2>"$work/err1"
ok $? "the first boot ran"
unlike "$(cat "$work/out1")" "failed" "... both patches installed"
unlike "$(cat "$work/out1")" "^cmdline: ovup-cmdline" "... and none applied: the running kernel is as it was"
grep -v '^cmdline: ' "$work/out1" | base64 -d >"$work/state.tar" 2>/dev/null
tar -tf "$work/state.tar" >"$work/list" 2>&1
like "$(cat "$work/list")" "var/lib/ovup/kernel/.*/cmdline.o" "... the library holds kernel/RELEASE/cmdline.o"
like "$(cat "$work/list")" "var/cache/ovup/symbols/kernel-[0-9a-f]*-objs" "... and the cache the kernel's symbols, kept by an apply"

# 2. the second boot: the library back in place, the boot service's command
cat >"$work/second.sh" <<GUEST
tar -C / -xf /tmp/state.tar
echo "was: \$(sed -n 2p /var/cache/ovup/symbols/kernel-*-objs)"
echo "now: \$(grep -m1 ' _text\$' /proc/kallsyms)"
echo "before: \$(cat /proc/cmdline)"
ovup apply -k -v --dry-run /tmp/cmdline.o 2>&1 | grep 'kernel: symbols'
echo "cached: \$(ovup symbols -k cmdline_proc_show) \$(ovup symbols -k ovup_ioctl)"
echo "kallsyms: \$(OVUP_CACHE_DIR= ovup symbols -k cmdline_proc_show) \$(OVUP_CACHE_DIR= ovup symbols -k ovup_ioctl)"
$start
echo "service: \$?"
echo "after: \$(cat /proc/cmdline)"
ovup list -k
echo "-- list"
ovup list
GUEST
"$VMRUN" --timeout 600 --file "$work/state.tar" --file "$work/cmdline.o" --file "$work/second.sh" \
	-- sh /tmp/second.sh >"$work/out2" 2>"$work/err2"
ok $? "the second boot ran"
out=$(cat "$work/out2")
unlike "$out" "^before: ovup-cmdline" "a fresh boot: cmdline_proc_show is the kernel's own"
like "$out" "^service: 0$" "the boot service's command exits 0"
like "$out" "^after: ovup-cmdline " "... and the installed patch is active after boot"
like "$out" "cmdline_proc_show +vmlinux .* active" "... list -k shows it"
like "$(sed -n '/^-- list$/,$p' <<<"$out")" "kernel .*: 1 patch applied" "... and so does list without a target"
like "$out" "other: skipped: built for kernel 5.10.0-99-amd64, this is " \
	"the patch built for another kernel is skipped, with the reason"
like "$out" "2 installed kernel patches: 1 applied, 0 failed, 1 for another kernel" "... and counted"
was=$(sed -n 's/^was: vmlinux //p' <<<"$out")
now=$(sed -n 's/^now: \([0-9a-f]*\) T _text$/\1/p' <<<"$out")
[ -n "$was" ] && [ -n "$now" ]; ok $? "vmlinux's place in both boots (_text $was, then $now)"
if [ "$was" != "$now" ]; then
	like "$out" "kernel: symbols from the cache \([0-9]+ objects, [1-9][0-9]* moved since\)" \
		"its first apply takes the symbols the first boot kept, moved (was: kallsyms read whole)"
else # KASLR picked the same place (about 1 in 500)
	like "$out" "kernel: symbols from the cache \([0-9]+ objects" \
		"its first apply takes the symbols the first boot kept (KASLR put vmlinux where it was)"
fi
cached=$(sed -n 's/^cached: //p' <<<"$out")
like "$cached" "cmdline_proc_show .*ovup_ioctl" "... they name vmlinux's and ovup.ko's functions"
is "$cached" "$(sed -n 's/^kallsyms: //p' <<<"$out")" "... at the addresses kallsyms gives in this boot"
[ "$tap_failed" = 0 ] || { sed 's/^/# out: /' "$work/out2"; sed 's/^/# err: /' "$work/err2"; }
done_testing
