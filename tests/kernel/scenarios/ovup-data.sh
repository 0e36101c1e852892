# SPDX-License-Identifier: MIT
# Kernel scenario ovup-data: patch-local data and a helper: the variables
# keep their writes.
# patches: data

run apply -k /tmp/data.o
is "$RC" 0 "a kernel patch with its own data and helper"
is "$(cat /proc/cmdline)" "ovup-data reads=1 one total=101" "first read: counter, constant table, string"
is "$(cat /proc/cmdline)" "ovup-data reads=2 two total=102" "second read: its variables kept their writes"
run revert -k
