# SPDX-License-Identifier: MIT
# Kernel scenario diff: the upstream eventfd fix, built on the host from its
# diff (diff.host.sh), applied to the running kernel: a write(2) of 16
# bytes to an eventfd, accepted before (8 bytes taken), is EINVAL with the
# patch, and accepted again after the revert; 8 bytes work throughout.
# timeout: 90

is "$(keventfd 16)" "8 0 0x1122334455667788" "before: a 16-byte write to an eventfd adds its first 8 bytes (the bug)"
run apply -k /tmp/eventfd.o
is "$RC" 0 "the patch built from the upstream diff applies${ERR:+ ($ERR)}"
like "$(ovup list -k)" "eventfd_write +vmlinux 0x[0-9a-f]+ -> 0x[0-9a-f]+ +active" "... and is listed, eventfd_write active"
is "$(keventfd 16)" "-1 22 0x0" "with it: the 16-byte write is EINVAL and adds nothing (the fix)"
is "$(keventfd 7)" "-1 22 0x0" "... a short one stays EINVAL"
is "$(keventfd 8)" "8 0 0x1122334455667788" "... an 8-byte write still adds its value"
run revert -k eventfd
is "$RC" 0 "revert${ERR:+ ($ERR)}"
is "$(keventfd 16)" "8 0 0x1122334455667788" "after the revert: the old behaviour is back"
