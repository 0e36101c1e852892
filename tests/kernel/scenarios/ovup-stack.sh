# SPDX-License-Identifier: MIT
# Kernel scenario ovup-stack: two stacked patches on one function, reverted
# in order
# patches: stack1 stack2

run apply -k /tmp/stack1.o
run apply -k /tmp/stack2.o
is "$RC" 0 "a second patch stacks on the first"
is "$(cat /proc/cmdline)" "ovup-stack-2" "the newest runs"
run list -k
like "$OUT" "cmdline_proc_show: stack2 stack1" "list shows the stack, newest first"
run revert -k stack1
is "$RC" 1 "reverting the older one first is refused"
like "$ERR" "patch 'stack1' is under patch 'stack2' on function 'cmdline_proc_show'; revert 'stack2' first" "... with the reason"
is "$(cat /proc/cmdline)" "ovup-stack-2" "... and nothing changed"
run revert -k
is "$(cat /proc/cmdline)" "ovup-stack-1" "revert the newest: the older runs again"
run revert -k
is "$(cat /proc/cmdline)" "$CMDLINE" "revert the older: the original runs again"
is "$(text "$FCMD")" "$T0" "kernel text is as before"
