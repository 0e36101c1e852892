// SPDX-License-Identifier: GPL-2.0
/* trace_printk() in a patch: its format is registered at module load, and
 * the trace buffer would keep pointers into the patch after a revert
 * (tests/kernel/refuse.t). */
#include <linux/seq_file.h>
#include <linux/kernel.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	trace_printk("ovup: cmdline read by %p\n", m);
	seq_puts(m, "ovup-traceprintk\n");
	return 0;
}
