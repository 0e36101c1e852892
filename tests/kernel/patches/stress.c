// SPDX-License-Identifier: GPL-2.0
/* The stress test's patch: a fixed line for /proc/cmdline. */
#include <linux/seq_file.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-stress\n");
	return 0;
}
