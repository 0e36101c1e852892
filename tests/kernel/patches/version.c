// SPDX-License-Identifier: GPL-2.0
/* For the hooked-site test: /proc/version. */
#include <linux/seq_file.h>

int version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-version\n");
	return 0;
}
