# SPDX-License-Identifier: MIT
# Kernel scenario ovup-module: a function of a module
# patches: module

insmod /lib/ovup/ovup_target.ko 2>/dev/null
is "$(cat /proc/ovup_target)" "target-original" "the victim module is loaded"
run apply -k /tmp/module.o
is "$RC" 0 "a module function (ovup_target_show in ovup_target) is replaced"
is "$(cat /proc/ovup_target)" "target-patched" "... and runs"
run revert -k
is "$(cat /proc/ovup_target)" "target-original" "... and is reverted"
rmmod ovup_target 2>/dev/null
