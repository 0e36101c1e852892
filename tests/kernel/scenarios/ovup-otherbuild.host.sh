# SPDX-License-Identifier: MIT
# Host half of the ovup-otherbuild scenario (sourced by tests/kernel/lib.sh
# after the patches are built): cmdline.o with a build record that names
# another build of the same kernel release (the release is cmdline.o's own:
# Debian's linux-image-amd64 moves on).
objcopy --dump-section .ovup.build="$work/rec.real" "$work/cmdline.o" "$work/dump.o"
sed 's/^kernel-version .*/kernel-version #1 SMP Debian 0.0-0 (1999-01-01)/' "$work/rec.real" >"$work/rec"
grep -q '^kernel-release ' "$work/rec" && ! cmp -s "$work/rec" "$work/rec.real"
ok $? "a build record naming another build of cmdline.o's kernel release"
objcopy --update-section .ovup.build="$work/rec" "$work/cmdline.o" "$work/otherbuild.o"
ok $? "an object recording another kernel build"
kt_file "$work/otherbuild.o"
