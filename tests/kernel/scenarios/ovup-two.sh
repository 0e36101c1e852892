# SPDX-License-Identifier: MIT
# Kernel scenario ovup-two: two functions switched together
# patches: two

run apply -k /tmp/two.o
is "$RC" 0 "a patch with two functions"
is "$(cat /proc/cmdline)" "ovup-two cmdline" "... /proc/cmdline switched"
is "$(cat /proc/version)" "ovup-two version" "... /proc/version switched with it"
run revert -k two
is "$(cat /proc/cmdline)$(cat /proc/version)" "$CMDLINE$VERSION" "both reverted together"
