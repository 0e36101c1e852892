# SPDX-License-Identifier: MIT
# Kernel scenario ovup-otherbuild: an object recording another kernel build
# is refused (ovup-otherbuild.host.sh makes it on the host).
# patches: cmdline

run apply -k /tmp/otherbuild.o
is "$RC" 1 "an object built for another kernel build is refused"
like "$ERR" "built for kernel build '#1 SMP Debian 0.0-0 \\(1999-01-01\\)', but the running kernel is build '#1 SMP" "... naming both builds"
