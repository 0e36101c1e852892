// SPDX-License-Identifier: GPL-2.0
/* Static branches in a patch (tests/kernel/jumplabel.t): one key, read
 * both ways, so both kinds of site are there: static_branch_unlikely() (a
 * jump when the key is on) and static_branch_likely() on the same
 * false-by-default key (a jump when it is off).  The key is the kernel's
 * sched_schedstats, which /proc/sys/kernel/sched_schedstats flips. */
#include <linux/seq_file.h>
#include <linux/jump_label.h>

DECLARE_STATIC_KEY_FALSE(sched_schedstats); /* kernel/sched/stats.h */

int cmdline_proc_show(struct seq_file *m, void *v)
{
	int on = 0, off = 0;

	if (static_branch_unlikely(&sched_schedstats))
		on = 1;
	if (!static_branch_likely(&sched_schedstats))
		off = 1;
	seq_printf(m, "ovup-jumplabel on=%d off=%d\n", on, off);
	return 0;
}
