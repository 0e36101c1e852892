# SPDX-License-Identifier: MIT
# Kernel scenario deps-rmmod-f: rmmod -f of a module a patch refers to: the
# patch is dropped, and so is a patch stacked on it (its saved bytes are the
# dropped one's jump)
# patches: deps stack1
# timeout: 150

loaded ovup_target || insmod $KO
run apply -k /tmp/deps.o
is "$RC" 0 "deps applied again"
run apply -k /tmp/stack1.o
is "$RC" 0 "stack1 stacked on deps"
is "$(cat /proc/cmdline)" "ovup-stack-1" "... and runs"
mark
# a reader keeps calling the patch while the module goes
( while :; do cat /proc/cmdline >/dev/null; done ) &
READER=$!
rmmod -f ovup_target
ok $? "rmmod -f ovup_target while the patch is applied"
sleep 1
kill $READER
wait $READER 2>/dev/null
loaded ovup_target; [ $? != 0 ]; ok $? "... the module is gone"
run list -k
is "$RC" 0 "list -k works"
unlike "$OUT" "(deps|stack1) +\(seq" "... and shows neither 'deps' nor 'stack1' (both records dropped)"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
is "$(text "$FCMD")" "$T0" "cmdline_proc_show's text is byte-for-byte as before"
like "$(since)" "module ovup_target is being force-unloaded: dropped patch 'stack1' \(seq [0-9]+\), which is stacked on a patch that needs it" "a warning names the stacked patch, dropped first"
like "$(since)" "module ovup_target is being force-unloaded: dropped patch 'deps' \(seq [0-9]+\), which needs it" "... and one the patch that needs the module"
retired_gone; ok $? "the dropped records' code, retired, is freed once no task is in it"
like "$(since)" "retired block\(s\) of 'deps' freed" "... the module says so"
is "$(refcnt ovup)" 0 "ovup.ko holds no reference for the dropped record"
