# SPDX-License-Identifier: MIT
# Kernel scenario ovup-wrap: a fix calling the original (OVUP_ORIG), and a
# patch stacked over it.
# patches: wrap stack1

run apply -k /tmp/wrap.o
is "$RC" 0 "a kernel fix calling the original (OVUP_ORIG)"
is "$(cat /proc/cmdline)" "ovup-wrap: $CMDLINE" "it adds its text, then the original prints the command line"
run apply -k /tmp/stack1.o
is "$(cat /proc/cmdline)" "ovup-stack-1" "a patch stacked over the wrapper"
run revert -k
is "$(cat /proc/cmdline)" "ovup-wrap: $CMDLINE" "... reverted: the wrapper again"
run revert -k
is "$(text "$FCMD")" "$T0" "the wrapper reverted: kernel text as before"
