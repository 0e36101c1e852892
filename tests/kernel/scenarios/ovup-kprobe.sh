# SPDX-License-Identifier: MIT
# Kernel scenario ovup-kprobe: a site hooked by a kprobe, plain (int3) or
# optimized (jmp), is refused.
# patches: version

mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
# first as a plain int3, then let the kernel optimize the kprobe into a
# jmp to its detour buffer: both are someone else's hook
echo 0 >/proc/sys/debug/kprobes-optimization 2>/dev/null
if echo 'p:ovuptest version_proc_show+5' >/sys/kernel/tracing/kprobe_events 2>/dev/null &&
	echo 1 >/sys/kernel/tracing/events/kprobes/ovuptest/enable; then
	V1=$(text "$FVER")
	run apply -k /tmp/version.o
	is "$RC" 1 "a site hooked by a kprobe (int3) is refused"
	like "$ERR" "function 'version_proc_show': a kprobe at version_proc_show\\+0x5 +lies in the bytes ovup's jump would replace" "... saying so"
	is "$(text "$FVER")" "$V1" "... and the kprobe's bytes are untouched"
	echo 1 >/proc/sys/debug/kprobes-optimization
	for i in 1 2 3 4 5 6 7 8 9 10; do
		case $(text "$FVER") in 0f1f440000e9*) break ;; esac
		sleep 0.5
	done
	V2=$(text "$FVER")
	like "$V2" "^0f1f440000e9" "the kernel optimized the kprobe into a jmp"
	run apply -k /tmp/version.o
	is "$RC" 1 "a site hooked by an optimized kprobe (jmp) is refused"
	like "$ERR" "function 'version_proc_show': a kprobe at version_proc_show\\+0x5 \\[OPTIMIZED\\] lies in the bytes ovup's jump would replace" "... naming the optimized probe"
	is "$(text "$FVER")" "$V2" "... and its bytes are untouched"
	echo 0 >/sys/kernel/tracing/events/kprobes/ovuptest/enable
	echo '-:ovuptest' >>/sys/kernel/tracing/kprobe_events
else
	ok 1 "could not place a kprobe to test a hooked site"
fi
is "$(text "$FVER")" "$V0" "/proc/version's function is as before"
run list -k --json
like "$OUT" '"patches":\[\]' "no patch is left applied"
umount /sys/kernel/tracing 2>/dev/null
