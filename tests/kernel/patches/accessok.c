// SPDX-License-Identifier: GPL-2.0
/* access_ok() in a patch: CPU alternatives, which ovup cannot apply yet. */
#include <linux/seq_file.h>
#include <linux/uaccess.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "ovup-access-ok %d\n", access_ok((void __user *)v, 4) ? 1 : 0);
	return 0;
}
