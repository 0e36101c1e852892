#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# tools/vmrun itself: exact stdout, separate stderr, the command's exit
# status, --file, argument quoting, what the guest holds (/dev/ovup, ld,
# ovup), kernel messages kept out of the output, the initramfs cache, and
# exit 125 with one clear line when the VM fails or times out.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d) || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

# usage errors never boot
"$VMRUN" >/dev/null 2>"$tmp/err"
ok $([ $? = 125 ] && grep -q 'no command' "$tmp/err"; echo $?) "no command: exit 125"
"$VMRUN" --mem lots -- true >/dev/null 2>"$tmp/err"
ok $([ $? = 125 ] && grep -q "'lots' is not a positive number" "$tmp/err"; echo $?) \
	"bad --mem: exit 125"
"$VMRUN" --file "$tmp/missing" -- true >/dev/null 2>"$tmp/err"
ok $([ $? = 125 ] && grep -q 'no such file' "$tmp/err"; echo $?) "missing --file: exit 125"

# stdout byte-exact, stderr apart, status passed through
start=$EPOCHREALTIME
"$VMRUN" -- 'printf "line1\n\nlast-without-newline"; echo to-stderr >&2; exit 7' \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
ok $([ $rc = 7 ]; echo $?) "exit status 7 comes back (got $rc)"
printf 'line1\n\nlast-without-newline' >"$tmp/want"
cmp -s "$tmp/out" "$tmp/want"
ok $? "stdout is byte-exact (no markers, no CR, no kernel log)"
ok $([ "$(cat "$tmp/err")" = to-stderr ]; echo $?) "stderr arrives separately"
diag "boot+run+poweroff took ${secs}s"

# --file, several arguments quoted as words
printf 'payload %s\n' "$RANDOM" >"$tmp/data.txt"
"$VMRUN" --file "$tmp/data.txt" -- sh -c 'cat /tmp/data.txt; printf "%s|" "$@"' sh \
	"a b" "c'd" '$HOME' '' >"$tmp/out" 2>"$tmp/err"
rc=$?
{ cat "$tmp/data.txt"; printf '%s|' "a b" "c'd" '$HOME' ''; } >"$tmp/want"
cmp -s "$tmp/out" "$tmp/want"
ok $? "--file lands in /tmp and multi-word arguments keep their quoting (status $rc)"

# what the guest holds; kernel messages stay out of stdout
guest='
ls -l /dev/ovup | cut -c1-10
grep -q "^ovup " /proc/modules && echo module-loaded
ld --version | head -n 1 | cut -d" " -f1-2
echo "<2>vmrun-kernel-noise" >/dev/kmsg
dmesg | grep -c vmrun-kernel-noise
if [ -x "$(command -v ovup)" ]; then ovup --help >/dev/null 2>&1; echo "ovup-runs=$?"; else echo ovup-absent; fi
'
"$VMRUN" -- "$guest" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $rc "guest script ran (status $rc)"
ok $(grep -qx 'crw-------' "$tmp/out"; echo $?) "/dev/ovup exists with mode 0600"
ok $(grep -qx 'module-loaded' "$tmp/out"; echo $?) "ovup.ko is loaded at boot"
ok $(grep -qx 'GNU ld' "$tmp/out"; echo $?) "GNU ld runs in the guest (its libraries are packed)"
ok $( [ "$(grep -c vmrun-kernel-noise "$tmp/out")" = 0 ] && grep -qx 1 "$tmp/out"; echo $?) \
	"a critical kernel message is logged but does not reach stdout"
ovup_bin=${OVUP_BIN:-$KT_ROOT/build/ovup}
if [ -x "$ovup_bin" ]; then
	ok $(grep -qx 'ovup-runs=0' "$tmp/out"; echo $?) "ovup is in the guest's PATH and runs"
else
	ok $(grep -qx 'ovup-absent' "$tmp/out"; echo $?) "no build/ovup yet: the guest has none"
fi

# The initramfs is cached, and rebuilt when an input changes.  A private
# OVUP_BIN is the input changed here: touching shared files would disturb
# (and be disturbed by) other vmrun users running at the same time.
if [ -x "$ovup_bin" ]; then cp -p "$ovup_bin" "$tmp/ovup"; else cp -p /bin/true "$tmp/ovup"; fi
export OVUP_BIN=$tmp/ovup VMRUN_VERBOSE=1
"$VMRUN" -- true >/dev/null 2>"$tmp/err1"
"$VMRUN" -- true >/dev/null 2>"$tmp/err2"
img=$(sed -n 's/^vmrun: \(built\|cached\) //p' "$tmp/err1")
ok $([ -n "$img" ] && grep -qx "vmrun: cached $img" "$tmp/err2"; echo $?) \
	"an unchanged input set reuses $(basename "${img:-none}")"
touch -d '1 minute ago' "$tmp/ovup"
"$VMRUN" -- true >/dev/null 2>"$tmp/err3"
ok $(grep -q '^vmrun: built ' "$tmp/err3" && ! grep -qx "vmrun: built $img" "$tmp/err3"; echo $?) \
	"a changed ovup binary rebuilds it ($(sed -n 's/^vmrun: built //p' "$tmp/err3" | xargs -r basename))"
unset OVUP_BIN VMRUN_VERBOSE

# --ko PATH boots with that module instead of kmod/ovup.ko, and the file is
# an input of the cached initramfs (tests/proc/17-deb.t boots the module
# DKMS built and checks in the guest that it is the one loaded)
"$VMRUN" --ko "$tmp/missing.ko" -- true >/dev/null 2>"$tmp/err"
ok $([ $? = 125 ] && grep -q -- "--ko $tmp/missing.ko: no such file" "$tmp/err"; echo $?) \
	"missing --ko file: exit 125"
"$VMRUN" --ko /bin/true -- true >/dev/null 2>"$tmp/err"
ok $([ $? = 125 ] && grep -q "/bin/true is built for ''" "$tmp/err"; echo $?) \
	"--ko a file that is no module for the guest's kernel: exit 125, named"
kver=$("$VMRUN" --print-kver)
ok $([ -f "/boot/vmlinuz-$kver" ] && [ -f "/usr/src/linux-headers-$kver/Module.symvers" ]; echo $?) \
	"--print-kver: $kver, which has an image and headers"
cp -p "$KT_ROOT/kmod/ovup.ko" "$tmp/other.ko"
export VMRUN_VERBOSE=1
"$VMRUN" -- true >/dev/null 2>"$tmp/err4"
"$VMRUN" --ko "$tmp/other.ko" -- 'grep -c "^ovup " /proc/modules' >"$tmp/out" 2>"$tmp/err5"
img4=$(sed -n 's/^vmrun: \(built\|cached\) //p' "$tmp/err4")
img5=$(sed -n 's/^vmrun: \(built\|cached\) //p' "$tmp/err5")
ok $([ -n "$img4" ] && [ -n "$img5" ] && [ "$img4" != "$img5" ] && grep -qx 1 "$tmp/out"; echo $?) \
	"--ko another file: another initramfs ($(basename "${img5:-none}")), and ovup is loaded from it"
unset VMRUN_VERBOSE

# the VM's own failures: exit 125 and say why
"$VMRUN" --timeout 10 -- sleep 600 >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc = 125 ] && grep -q 'timed out after 10s' "$tmp/err"; echo $?) \
	"a hung command: exit 125 after --timeout (status $rc)"
"$VMRUN" -- 'poweroff -f' >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc = 125 ] && grep -q 'without an exit status' "$tmp/err"; echo $?) \
	"a VM that dies under the command: exit 125 (status $rc)"
done_testing
