// SPDX-License-Identifier: GPL-2.0
/* Stacked patch 2 on cmdline_proc_show. */
#include <linux/seq_file.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-stack-2\n");
	return 0;
}
