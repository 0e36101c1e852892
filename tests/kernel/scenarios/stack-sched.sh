# SPDX-License-Identifier: MIT
# Kernel scenario stack-sched: a wrapper of schedule(): on the stack of
# nearly every sleeping task
# patches: sched cmdline
# timeout: 150

klog_add 'Attempted to kill the idle task'
run apply -k /tmp/sched.o
is "$RC" 0 "apply a non-tail-call wrapper of schedule()"
sleep 0.5
run revert -k sched
is "$RC" 0 "revert exits 0 though most tasks will return into the wrapper"
unlike "$ERR" "is executing the bytes to be changed" "... no claim that they execute the changed bytes"
like "$ERR" "patch 'sched': [0-9]+ block\\(s\\) of its code retired, not freed" "... its blocks are retired"
run list -k
like "$OUT" "KiB of reverted patch 'sched': thread [0-9]+ \\(.*\\) was found in it" "list -k shows them with a task"
run apply -k /tmp/cmdline.o
is "$RC" 0 "apply works with tasks asleep in retired code"
run revert -k
is "$RC" 0 "... and revert"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
