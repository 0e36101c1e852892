# SPDX-License-Identifier: MIT
# Kernel scenario deps-pin: a patch of a core function that calls into a
# module pins that module
# patches: deps
# timeout: 150

insmod $KO
run apply -k /tmp/deps.o
is "$RC" 0 "apply a cmdline_proc_show that calls ovup_target_word() of ovup_target"
is "$(cat /proc/cmdline)" "ovup-deps from-ovup_target" "... it runs, calling into the module"
is "$(refcnt ovup_target)" 1 "... ovup_target is pinned (refcnt 1)"
rmmod ovup_target 2>/tmp/err
[ $? != 0 ]; ok $? "rmmod ovup_target is refused while the patch is applied"
like "$(cat /tmp/err)" "in use|Resource temporarily unavailable" "... as in use"
loaded ovup_target; ok $? "... the module is still loaded"
is "$(cat /proc/cmdline)" "ovup-deps from-ovup_target" "... and /proc/cmdline still works"
run revert -k deps
is "$RC" 0 "revert"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original again"
is "$(refcnt ovup_target)" 0 "... ovup_target is no longer pinned"
rmmod ovup_target
ok $? "rmmod ovup_target succeeds after the revert"
