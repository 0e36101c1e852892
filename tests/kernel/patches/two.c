// SPDX-License-Identifier: GPL-2.0
/* Two functions that must switch together: /proc/cmdline and /proc/version. */
#include <linux/seq_file.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-two cmdline\n");
	return 0;
}

int version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-two version\n");
	return 0;
}
