# SPDX-License-Identifier: MIT
# Kernel scenario deps-rmmod-ovup: rmmod -f ovup with patches applied: every
# site is restored first
# patches: two module stack1
# timeout: 150

insmod $KO
FTGT=$(addr ovup_target_show ovup_target)
TT0=$(text "$FTGT")
run apply -k /tmp/two.o
is "$RC" 0 "two (cmdline and version) applied"
run apply -k /tmp/module.o
is "$RC" 0 "module (ovup_target_show) applied"
run apply -k /tmp/stack1.o
is "$RC" 0 "stack1 stacked on two's cmdline_proc_show"
is "$(cat /proc/cmdline) $(cat /proc/version) $(cat /proc/ovup_target)" \
	"ovup-stack-1 ovup-two version target-patched" "all three run"
rmmod ovup 2>/dev/null
[ -e /dev/ovup ]; ok $? "plain rmmod ovup is refused"
mark
# a process still holds /dev/ovup open: ovup.ko must wait for it
exec 3</dev/ovup
rmmod -f ovup 3<&- &
RM=$!
sleep 3
like "$(grep '^ovup ' /proc/modules)" "Unloading" "rmmod -f ovup with /dev/ovup open: ovup.ko waits (Unloading)"
is "$(cat /proc/cmdline)" "ovup-stack-1" "... with its patches still applied"
exec 3<&-
wait $RM
ok $? "rmmod -f ovup with three patches applied finishes once the file is closed"
[ ! -e /dev/ovup ] && ! loaded ovup; ok $? "... ovup.ko is gone"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
is "$(cat /proc/version)" "$VERSION" "/proc/version is the original"
is "$(cat /proc/ovup_target)" "target-original" "/proc/ovup_target is the original"
like "$(since)" "force-unloaded with 3 patch\(es\) applied" "ovup says what it found"
like "$(since)" "every patch is restored and no task is in its code" "... and what it did"
is "$(refcnt ovup_target)" 0 "ovup_target is no longer pinned"
insmod /lib/ovup/ovup.ko
ok $? "ovup.ko loads again"
is "$(text "$FCMD") $(text "$FVER") $(text "$FTGT")" "$T0 $V0 $TT0" \
	"read through the new ovup.ko: all three functions' text is byte-for-byte as before"
rmmod ovup_target
ok $? "ovup_target unloads normally"
