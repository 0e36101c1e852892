// SPDX-License-Identifier: GPL-2.0
/* The K1 race (tests/kernel/gate.t): the other of two patches of /proc/version. */
#include <linux/seq_file.h>

int version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "ovup-gate-b\n");
	return 0;
}
