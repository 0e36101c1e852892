# SPDX-License-Identifier: MIT
# Kernel scenario probe-files: the file check: a module against its .ko,
# vmlinux against the image
# patches: module orig-module cmdline retsite
# timeout: 180

klog_add 'panic'
insmod /lib/ovup/ovup_target.ko
is "$(cat /proc/ovup_target)" "target-original" "the victim module is loaded"
FT=$(addr ovup_target_show ovup_target)
M0=$(text "$FT")
OVUP_MODULE_DIR=/tmp run apply -k /tmp/module.o
is "$RC" 1 "a .ko whose bytes differ from the loaded code: refused"
like "$ERR" "function 'ovup_target_show' at 0x[0-9a-f]+: the bytes ovup's jump would replace are 48 c7 c6 .*, but /tmp/ovup_target.ko holds 48 c7 c7 " "... showing both"
is "$(text "$FT")" "$M0" "... module text untouched"
run apply -k /tmp/orig-module.o
is "$RC" 0 "OVUP_ORIG on the module function, checked against /lib/modules/\$(uname -r)/ovup/ovup_target.ko"
[ "$RC" = 0 ] || echo "# $ERR"
is "$(cat /proc/ovup_target)" "orig-wrap: target-original" "... and its trampoline (with a relocated mov) runs"
run revert -k
is "$(text "$FT")" "$M0" "... reverted byte-for-byte"
# the decompressed vmlinux (ovup's cache: ELF + relocations) with the byte
# at cmdline_proc_show+5 changed in place; .text is at file offset 0x200000,
# and both addresses share their upper 32 bits
# the cached image, made by any apply that checks vmlinux
ls /var/cache/ovup/vmlinux-* >/dev/null 2>&1 || { ovup apply -k /tmp/cmdline.o && ovup revert -k; } >/dev/null 2>&1
C=$(ls /var/cache/ovup/vmlinux-* | head -n 1)
TEXT=$(awk '$3 == "_text" { print $1; exit }' /proc/kallsyms)
OFF=$(( 0x$(echo "$FCMD" | tail -c 9) - 0x$(echo "$TEXT" | tail -c 9) + 0x200000 + 5 ))
B=$(dd if="$C" bs=1 skip=$OFF count=1 2>/dev/null | od -An -tx1 | tr -d ' ')
printf '\001' | dd of="$C" bs=1 seek=$OFF conv=notrunc 2>/dev/null
OVUP_VMLINUX=$C run apply -k /tmp/cmdline.o
is "$RC" 1 "a vmlinux whose bytes differ from the running code: refused"
like "$ERR" "function 'cmdline_proc_show' at $FCMD: the bytes ovup's jump would replace are $B .*, but $C holds 01 " "... showing both"
printf "\\$(printf %o 0x$B)" | dd of="$C" bs=1 seek=$OFF conv=notrunc 2>/dev/null
run apply -k --dry-run /tmp/cmdline.o
is "$RC" 0 "... and with the byte restored, it verifies again"
# a site the kernel rewrote at boot in the displaced bytes
FNOOP=$(addr noop_fsync vmlinux)
N0=$(text "$FNOOP")
like "$N0" "^0f1f44000031c0(c3|e9)" "noop_fsync is NOP5, xor %eax,%eax, then its return (ret, or jmp to the thunk)"
run apply -k /tmp/retsite.o
is "$RC" 1 "a return-thunk site among the displaced bytes: refused"
like "$ERR" "function 'noop_fsync': the bytes ovup's jump would replace \\(noop_fsync\\+0x5\\.\\.\\+0xb\\) hold a return-thunk site, which the kernel rewrites itself" "... naming the kind of site"
is "$(text "$FNOOP")" "$N0" "... noop_fsync untouched"
OVUP_VMLINUX=/nonexistent run apply -k /tmp/cmdline.o
is "$RC" 1 "no kernel image: refused"
like "$ERR" "cannot read /nonexistent .*point OVUP_VMLINUX" "... naming the path tried and the fix"
OVUP_VMLINUX=/lib/ovup/ovup.ko run apply -k /tmp/cmdline.o
is "$RC" 1 "a file that is no vmlinux: refused"
like "$ERR" "is not an x86-64 vmlinux" "... saying so"
is "$(text "$FCMD")" "$T0" "kernel text untouched"
