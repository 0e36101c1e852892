// SPDX-License-Identifier: GPL-2.0
/* A static branch in a patch: __jump_table, which ovup cannot honour yet. */
#include <linux/seq_file.h>
#include <linux/jump_label.h>

DECLARE_STATIC_KEY_FALSE(sched_schedstats); /* kernel/sched/stats.h */

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "ovup-schedstats %d\n", static_branch_unlikely(&sched_schedstats) ? 1 : 0);
	return 0;
}
