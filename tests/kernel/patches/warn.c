// SPDX-License-Identifier: GPL-2.0
/* A WARN_ON_ONCE in a patch: __bug_table, which ovup cannot honour yet. */
#include <linux/seq_file.h>
#include <linux/bug.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	WARN_ON_ONCE(!v);
	seq_puts(m, "ovup-warn\n");
	return 0;
}
