// SPDX-License-Identifier: GPL-2.0
/* ovup's side of the kernel bench: the same body as lp_cmdline.c. */
#include <linux/seq_file.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "bench-patched\n");
	return 0;
}
