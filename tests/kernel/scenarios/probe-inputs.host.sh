# SPDX-License-Identifier: MIT
# Host half of the probe-inputs scenario (sourced by tests/kernel/lib.sh
# after the patches are built): damaged inputs, from no .ovup.build to cut
# short at several places to random bytes.
objcopy -R .ovup.build "$work/cmdline.o" "$work/nobuild.o"
ok $? "an object with its .ovup.build section removed"
size=$(stat -c %s "$work/cmdline.o")
for cut in 64 1000 $((size / 2)) $((size - 100)); do
	head -c "$cut" "$work/cmdline.o" >"$work/cut$cut.o"
	kt_file "$work/cut$cut.o"
done
head -c 5000 /dev/urandom >"$work/random.o"
head -c 5000 /dev/urandom >"$work/random.c"
kt_file "$work/nobuild.o"
kt_file "$work/random.o"
kt_file "$work/random.c"
