# SPDX-License-Identifier: MIT
# Runs inside the VM (tools/vmrun) for probe.t: ovup -k refuses to displace
# bytes that are not the function's own.  Prints TAP; PROBES counts the
# kprobes tried.
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
is() { [ "$1" = "$2" ]; ok $? "$3"; [ "$1" = "$2" ] || { echo "#   got:  '$1'"; echo "#   want: '$2'"; }; }
like() { echo "$1" | grep -qE -- "$2"; r=$?; ok $r "$3"; [ $r = 0 ] || echo "$1" | sed 's/^/#   /'; }
unlike() { echo "$1" | grep -qE -- "$2"; r=$?; [ $r != 0 ]; ok $? "$3"; [ $r != 0 ] || echo "$1" | sed 's/^/#   /'; }
run() { ovup "$@" >/tmp/out 2>/tmp/err; RC=$?; OUT=$(cat /tmp/out); ERR=$(cat /tmp/err); }
addr() { ovup symbols -k "$1" | awk -v o="$2" '$NF == o || $(NF) ~ "^"o {print "0x"$1; exit}'; }
text() { kpeek "$1" 32 | cut -d' ' -f2; }
lines() { echo "$1" | grep -c .; }
PROBES=0

CMDLINE=$(cat /proc/cmdline)
FCMD=$(addr cmdline_proc_show vmlinux)
T0=$(text "$FCMD")

# 1. functions ftrace does not list, with neither debugfs nor tracefs
# mounted: ovup mounts them in its own namespace only
mount | grep -qE 'debugfs|tracefs'
[ $? != 0 ]; ok $? "neither debugfs nor tracefs is mounted"
for f in memcpy:memcpy getpid:__x64_sys_getpid label:ftrace_caller_op_ptr; do
	run apply -k "/tmp/untraced-${f%%:*}.o"
	is "$RC" 1 "${f#*:}: refused (exit 1)"
	like "$ERR" "'${f#*:}' in vmlinux is not an ftrace site \\(notrace, or not a function entry\\): ftrace does not list it" "${f#*:}: the message says it is no ftrace site"
	is "$(lines "$ERR")" 1 "${f#*:}: one line"
done
mount | grep -qE 'debugfs|tracefs'
[ $? != 0 ]; ok $? "the system's mounts are unchanged (ovup mounted in its own namespace)"
run list -k
unlike "$OUT" "memcpy|getpid|ftrace_caller" "none of them was applied"

# 2. inputs
run apply -k /tmp/nobuild.o
is "$RC" 1 "an object without .ovup.build: refused"
like "$ERR" "has no .ovup.build section.*build it with 'ovup build -k'" "... saying to build it with ovup build -k"
for f in /tmp/cut*.o; do
	run apply -k "$f"
	is "$RC" 1 "$f (truncated): refused"
	like "$ERR" "truncated" "... called truncated"
	unlike "$ERR" "defines no function|kernel headers" "... not 'no function' or 'no headers'"
done
for f in /tmp/random.o /tmp/random.c; do
	run apply -k "$f"
	is "$RC" 1 "$f (random bytes): refused"
	like "$ERR" "neither C.* nor an ELF object" "... called neither C nor ELF"
	unlike "$ERR" "kernel headers" "... not 'no kernel headers'"
done
is "$(text "$FCMD")" "$T0" "kernel text untouched by the refused inputs"

# 3. kprobes in the displaced bytes (cmdline_proc_show+6), optimized or not,
# enabled or disabled
mount -t debugfs none /sys/kernel/debug
mount -t tracefs none /sys/kernel/tracing
K=/sys/kernel/tracing
hits() { awk '$1 == "ovup_t" { print $2 }' $K/kprobe_profile; }
for opt in 1 0; do
	echo $opt >/proc/sys/debug/kprobes-optimization
	echo 'p:ovup_t cmdline_proc_show+6' >$K/kprobe_events
	ok $? "opt=$opt: kprobe registered at cmdline_proc_show+6"
	PROBES=$((PROBES + 1))
	echo 1 >$K/events/kprobes/ovup_t/enable
	sleep 2 # the optimizer works after a delay
	L=$(cat /sys/kernel/debug/kprobes/list)
	if [ $opt = 1 ]; then
		like "$L" "cmdline_proc_show\+0x6 +\[OPTIMIZED\]" "opt=1: the probe is optimized (a jump)"
	else
		unlike "$L" "OPTIMIZED" "opt=0: the probe is an int3"
	fi
	TP=$(text "$FCMD")
	[ "$TP" != "$T0" ]; ok $? "opt=$opt: the probe changed the displaced bytes"
	H0=$(hits)
	for state in enabled disabled; do
		run apply -k /tmp/cmdline.o
		is "$RC" 1 "opt=$opt $state: apply refused (exit 1)"
		like "$ERR" "a kprobe at cmdline_proc_show\\+0x6.* lies in the bytes ovup's jump would replace.*remove the probe" "opt=$opt $state: the message names the probe and the fix"
		is "$(lines "$ERR")" 1 "opt=$opt $state: one line"
		is "$(cat /proc/cmdline)" "$CMDLINE" "opt=$opt $state: /proc/cmdline unchanged"
		run apply -k /tmp/wrap.o
		is "$RC" 1 "opt=$opt $state: an OVUP_ORIG patch is refused too (no int3 copied)"
		is "$(cat /proc/cmdline)" "$CMDLINE" "opt=$opt $state: /proc/cmdline still unchanged"
		if [ $state = enabled ]; then
			is "$(text "$FCMD")" "$TP" "opt=$opt: kernel text as the probe left it"
			H1=$(hits)
			[ "$H1" -gt "$H0" ]; ok $? "opt=$opt: the probe still fires ($H0 -> $H1 hits)"
			echo 0 >$K/events/kprobes/ovup_t/enable
		fi
	done
	like "$(cat /sys/kernel/debug/kprobes/list)" "cmdline_proc_show\+0x6 .*DISABLED" "opt=$opt: the disabled probe is listed as such"
	echo '-:ovup_t' >>$K/kprobe_events
	ok $? "opt=$opt: the probe is removed"
	sleep 1
	is "$(text "$FCMD")" "$T0" "opt=$opt: kernel text is back to the original"
done
echo 1 >/proc/sys/debug/kprobes-optimization

# 4. without the probe, apply works; while applied no kprobe fits at +6
t0=$(date +%s)
run apply -k /tmp/cmdline.o
echo "# apply with the vmlinux check took $(($(date +%s) - t0)) s"
is "$RC" 0 "apply works once the probe is gone"
like "$(cat /proc/cmdline)" "^ovup-cmdline" "... and the new code runs"
TA=$(text "$FCMD")
echo 'p:ovup_t cmdline_proc_show+6' >$K/kprobe_events 2>/dev/null
[ $? != 0 ]; ok $? "the kernel refuses a kprobe at +6 inside ovup's jump"
PROBES=$((PROBES + 1))
is "$(text "$FCMD")" "$TA" "... and the jump is intact"
run revert -k
is "$RC" 0 "revert"
is "$(text "$FCMD")" "$T0" "revert restores the text byte-for-byte"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
ls /var/cache/ovup/vmlinux-* >/dev/null 2>&1
ok $? "the decompressed image is kept in /var/cache/ovup"
t0=$(date +%s)
run apply -k /tmp/wrap.o
echo "# apply with the vmlinux check, from the cache, took $(($(date +%s) - t0)) s"
is "$RC" 0 "an OVUP_ORIG patch without a probe applies"
is "$(cat /proc/cmdline)" "ovup-wrap: $CMDLINE" "... and its trampoline runs the original bytes"
run revert -k
is "$(text "$FCMD")" "$T0" "... reverted byte-for-byte"

# 5. the file check: a module against its .ko, vmlinux against the image
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

# 6. a breakpoint in flight: ftrace toggling a kprobe on the entry (+0,
# an ftrace-based probe) writes int3 there for a moment: busy, never
# "no ftrace NOP5"
echo 'p:ovup_e cmdline_proc_show' >$K/kprobe_events
PROBES=$((PROBES + 1))
# a bounded toggler, and a bounded wait for each run: under emulation an
# ftrace update can take long
( j=0; while [ $j -lt 400 ]; do echo 1 >$K/events/kprobes/ovup_e/enable
	echo 0 >$K/events/kprobes/ovup_e/enable; j=$((j + 1)); done ) &
TOG=$!
busy=0 fail=0 okc=0 slow=0
i=0
while [ $i -lt 5 ]; do
	timeout 60 ovup apply -k --dry-run /tmp/cmdline.o >/tmp/out 2>/tmp/err
	RC=$?
	case $RC in
	0) okc=$((okc + 1)) ;;
	3) busy=$((busy + 1)); last3=$(cat /tmp/err) ;;
	124|143) slow=$((slow + 1)) ;;
	*) fail=$((fail + 1)); last1=$(cat /tmp/err) ;;
	esac
	i=$((i + 1))
done
kill $TOG
wait $TOG 2>/dev/null
echo 0 >$K/events/kprobes/ovup_e/enable
echo '-:ovup_e' >>$K/kprobe_events
echo "# while a probe on the entry toggled: $okc ok, $busy busy, $fail failed, $slow timed out"
is "$fail" 0 "5 dry runs while an entry probe toggles: none fails with exit 1"
[ -n "${last1:-}" ] && echo "# last failure: $last1"
[ $busy = 0 ] || like "$last3" "breakpoint \\(int3\\).*in flight; try again|changed while ovup read it" "busy says it is transient"
is "$(text "$FCMD")" "$T0" "kernel text as before"

D=$(dmesg | grep -v -i 'command line' | grep -E 'BUG|Oops|WARNING|panic|general protection')
is "$D" "" "dmesg is free of BUG/Oops/WARNING/panic"
echo "# probes tried: $PROBES"
echo "1..$n"
exit $failed
