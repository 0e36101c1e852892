# SPDX-License-Identifier: MIT
# Inside the VM: ovup against the kernel's livepatch on cmdline_proc_show,
# both with the same replacement body.  Calls are timed for ovup, then
# livepatch, then ovup again, to expose drift of the emulated machine.
set -e
R=/tmp/readloop
N=${N:-20000}
ROUNDS=${ROUNDS:-9}
calls() { $R calls /proc/cmdline "$N" "$ROUNDS"; }
# the directory goes away once a disabled patch finished its transition
lp_wait() {
	while [ -e /sys/kernel/livepatch/lp_cmdline ] &&
		[ "$(cat /sys/kernel/livepatch/lp_cmdline/transition 2>/dev/null)" != 0 ]; do
		sleep 0.01
	done
}
base=$(calls)
t_ovup=$($R time ovup apply -k /tmp/bench_cmdline.o)
[ "$(cat /proc/cmdline)" = bench-patched ]
c_ovup1=$(calls)
t_ovup_revert=$($R time ovup revert -k)
pause=$(ovup apply -k -v /tmp/bench_cmdline.o 2>&1 | sed -n 's/^ovup: timing:.*pause \([0-9.]*\) us.*/\1/p')
ovup revert -k >/dev/null
# a later apply of the same boot (the first decompressed the kernel image
# and read kallsyms and ftrace's list, which a boot keeps): median of 5
later=$(for i in 1 2 3 4 5; do
	$R time ovup apply -k /tmp/bench_cmdline.o
	ovup revert -k >/dev/null
done | sort -n | sed -n 3p)
[ "$(cat /proc/cmdline)" != bench-patched ]
# KEEP=1: what ovup kept of this kernel (before livepatch's module makes
# the module list another), for a later boot (bench/kernel-run)
[ -z "${KEEP:-}" ] || tar -C / -cf /tmp/kept.tar var/cache/ovup/symbols
t_lp=$($R time sh -c 'insmod /tmp/lp_cmdline.ko && while [ "$(cat /sys/kernel/livepatch/lp_cmdline/transition)" != 0 ]; do sleep 0.005; done')
[ "$(cat /proc/cmdline)" = bench-patched ]
c_lp=$(calls)
echo 0 >/sys/kernel/livepatch/lp_cmdline/enabled
lp_wait
ovup apply -k /tmp/bench_cmdline.o >/dev/null
c_ovup2=$(calls)
ovup revert -k >/dev/null
if [ -n "${KEEP:-}" ]; then
	echo "@@KEPT"
	base64 </tmp/kept.tar
	echo "@@END"
fi
echo "base_ns=$base ovup1_ns=$c_ovup1 lp_ns=$c_lp ovup2_ns=$c_ovup2 ovup_apply_ms=$t_ovup ovup_later_ms=$later ovup_pause_us=$pause ovup_revert_ms=$t_ovup_revert lp_apply_ms=$t_lp"
