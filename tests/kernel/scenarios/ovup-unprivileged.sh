# SPDX-License-Identifier: MIT
# Kernel scenario ovup-unprivileged: a caller without privilege is told to
# run as root.

grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
su -s /bin/sh nobody -c 'ovup list -k' >/tmp/out 2>/tmp/err
RC=$?
is "$RC" 1 "a caller without privilege: exit 1"
like "$(cat /tmp/err)" "cannot open /dev/ovup: permission denied; run ovup as root" "... told to run as root"
