// SPDX-License-Identifier: GPL-2.0
/* A cmdline_proc_show that sleeps 6 s inside the patch's code
 * (tests/kernel/orc.t): the sleeping reader's stack runs through it. */
#include <linux/delay.h>
#include <linux/seq_file.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	msleep(6000);
	seq_puts(m, "ovup-slept\n");
	return 0;
}
