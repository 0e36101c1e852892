// SPDX-License-Identifier: GPL-2.0
/* pr_debug() in a patch: a dynamic-debug descriptor, which only module
 * loading registers (tests/kernel/refuse.t). */
#include <linux/seq_file.h>
#include <linux/printk.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	pr_debug("ovup: cmdline read\n");
	seq_puts(m, "ovup-dyndbg\n");
	return 0;
}
