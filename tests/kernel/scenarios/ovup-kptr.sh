# SPDX-License-Identifier: MIT
# Kernel scenario ovup-kptr: kptr_restrict=2 hides kernel addresses:
# refused, the cause named.
# patches: cmdline

echo 2 >/proc/sys/kernel/kptr_restrict
run apply -k /tmp/cmdline.o
is "$RC" 1 "kptr_restrict=2 hides kernel addresses: exit 1"
like "$ERR" "shows every address as 0 \\(kernel.kptr_restrict" "... and the cause is named"
echo 0 >/proc/sys/kernel/kptr_restrict
is "$(cat /proc/cmdline)" "$CMDLINE" "... nothing changed"
