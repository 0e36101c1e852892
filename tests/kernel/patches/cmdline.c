// SPDX-License-Identifier: GPL-2.0
/* Replaces the static cmdline_proc_show (/proc/cmdline): calls kernel
 * functions and reads kernel variables, the per-CPU `current` included. */
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/jiffies.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "ovup-cmdline pid=%d comm=%s ticking=%d\n", current->pid, current->comm,
		   jiffies != 0);
	return 0;
}
