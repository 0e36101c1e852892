# SPDX-License-Identifier: MIT
# Kernel scenario deps-patched-module: rmmod -f of a module whose own
# function is patched, with another patch that calls into it, and an
# unrelated patch that stays
# patches: module deps version
# timeout: 150

insmod $KO
FTGT=$(addr ovup_target_show ovup_target)
TT0=$(text "$FTGT")
run apply -k /tmp/module.o
is "$RC" 0 "ovup_target_show of ovup_target is patched"
run apply -k /tmp/deps.o
is "$RC" 0 "... and deps, which calls into ovup_target too"
run apply -k /tmp/version.o
is "$RC" 0 "... and version_proc_show, which needs no module"
VP=$(cat /proc/version)
is "$(cat /proc/ovup_target)" "target-patched" "the module's function runs patched"
rmmod ovup_target 2>/dev/null
loaded ovup_target; ok $? "plain rmmod of the patched module is refused"
mark
rmmod -f ovup_target
ok $? "rmmod -f ovup_target"
loaded ovup_target; [ $? != 0 ]; ok $? "... the module is gone"
run list -k
unlike "$OUT" "(module|deps) +\(seq" "... both records that needed it are dropped"
like "$OUT" "version +\(seq" "... the unrelated one stays"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
is "$(text "$FCMD")" "$T0" "cmdline_proc_show's text is as before"
is "$(cat /proc/version)" "$VP" "/proc/version is still patched"
is "$(since | grep -c 'is being force-unloaded: dropped patch')" 2 "one warning per dropped patch"
run revert -k version
is "$RC" 0 "the unrelated patch reverts normally"
is "$(text "$FVER")" "$V0" "version_proc_show's text is as before"
retired_gone; ok $? "the dropped records' retired code is freed"
rmmod ovup
ok $? "ovup.ko unloads afterwards (no reference left behind)"
[ ! -e /dev/ovup ]; ok $? "... /dev/ovup is gone"
insmod /lib/ovup/ovup.ko
ok $? "ovup.ko loads again"
