# SPDX-License-Identifier: MIT
# Kernel scenario ovup-unload: with no patch active ovup.ko unloads; without
# it, ovup says how to load it.

rmmod ovup_target 2>/dev/null
rmmod ovup
[ ! -e /dev/ovup ]; ok $? "with no patch active the module unloads"
run list -k
is "$RC" 1 "module not loaded: exit 1"
like "$ERR" "/dev/ovup does not exist: the ovup module is not loaded; load it with 'insmod ovup.ko'" "module not loaded: says how to load it"
insmod /lib/ovup/ovup.ko
