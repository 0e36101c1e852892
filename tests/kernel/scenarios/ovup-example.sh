# SPDX-License-Identifier: MIT
# Kernel scenario ovup-example: examples/kernel-cmdline.c applies and runs.
# patches: examples/kernel-cmdline

run apply -k /tmp/kernel-cmdline.o
is "$RC" 0 "examples/kernel-cmdline.c applies"
like "$(cat /proc/cmdline)" "^$CMDLINE \\[patched by ovup; read by cat, pid [0-9]+\\]$" "... and reads saved_command_line and current"
run revert -k
