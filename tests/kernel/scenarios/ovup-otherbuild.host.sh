# SPDX-License-Identifier: MIT
# Host half of the ovup-otherbuild scenario (sourced by tests/kernel/lib.sh
# after the patches are built): cmdline.o with a build record that names
# another kernel build.
printf 'ovup-build 1\ntarget kernel\nkernel-release 6.1.0-56-amd64\nkernel-version #1 SMP Debian 0.0-0 (1999-01-01)\n' >"$work/rec"
objcopy --update-section .ovup.build="$work/rec" "$work/cmdline.o" "$work/otherbuild.o"
ok $? "an object recording another kernel build"
kt_file "$work/otherbuild.o"
