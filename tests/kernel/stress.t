#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# 100 apply/revert cycles on cmdline_proc_show while another process reads
# /proc/cmdline; every read must be the old or the new text, and the kernel
# log must stay free of BUG/Oops/WARNING.  Run under voluntary preemption
# (Debian's default) and under preempt=full, where tasks are preempted at
# any instruction and the stack check meets interrupt frames.
. "$(dirname "$0")/lib.sh"

kt_build_helpers
ok $? "make -C tests/kernel"

for mode in voluntary full; do
	echo "# preempt=$mode"
	out=$("$VMRUN" --append "preempt=$mode" -- \
		'dmesg | grep -o "Dynamic Preempt: [a-z]*"; kioctl stress 100')
	rc=$?
	ok $(grep -qx "Dynamic Preempt: $mode" <<<"$out"; echo $?) "guest runs with preempt=$mode"
	kt_import < <(grep -v '^Dynamic Preempt' <<<"$out")
	ok "$rc" "kioctl stress exits 0 under preempt=$mode (status $rc)"
done
done_testing
