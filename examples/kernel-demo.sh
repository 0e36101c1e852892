# SPDX-License-Identifier: MIT
# Runs inside the VM started by examples/demo.sh.
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say "inside a VM running Debian's kernel $(uname -r); /proc/cmdline says:"
cat /proc/cmdline
say "ovup apply -k kernel-cmdline.o   (replaces the static cmdline_proc_show)"
ovup apply -k /tmp/kernel-cmdline.o
cat /proc/cmdline
say "ovup list -k"
ovup list -k
say "ovup revert -k"
ovup revert -k
cat /proc/cmdline
