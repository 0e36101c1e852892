// SPDX-License-Identifier: GPL-2.0
/* Uses a kernel symbol that does not exist. */
#include <linux/seq_file.h>

extern int no_such_kernel_symbol;

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", no_such_kernel_symbol);
	return 0;
}
