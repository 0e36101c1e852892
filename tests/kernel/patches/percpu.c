// SPDX-License-Identifier: GPL-2.0
/* A per-CPU variable defined by a patch: only the module loader can place
 * one (tests/kernel/refuse.t). */
#include <linux/seq_file.h>
#include <linux/percpu.h>

static DEFINE_PER_CPU(int, ovup_reads);

int cmdline_proc_show(struct seq_file *m, void *v)
{
	this_cpu_inc(ovup_reads);
	seq_printf(m, "ovup-percpu %d\n", this_cpu_read(ovup_reads));
	return 0;
}
