// SPDX-License-Identifier: GPL-2.0
/* A kernel fix that adds a line and then runs the original function. */
#include <linux/seq_file.h>
#include <ovup.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-wrap: ");
	return OVUP_ORIG(cmdline_proc_show)(m, v);
}
