// SPDX-License-Identifier: GPL-2.0
/* A CPU alternative the module loader could not move either: its
 * replacement reads memory relative to its own address (tests/kernel/alt.t:
 * refused, kernel text unchanged). */
#include <linux/seq_file.h>
#include <linux/jiffies.h>
#include <asm/alternative.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	unsigned long j = 0;

	asm volatile(ALTERNATIVE("", "mov jiffies(%%rip), %0", X86_FEATURE_ALWAYS) : "+r"(j));
	seq_printf(m, "ovup-altbad %lu\n", j);
	return 0;
}
