// SPDX-License-Identifier: GPL-2.0
/* WARN/BUG in a patch (tests/kernel/bug.t): a WARN_ON_ONCE that fires when
 * a task named "ovup-warn" reads /proc/cmdline, a WARN that fires each
 * time for "ovup-warn2", and a BUG_ON that never fires. */
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/bug.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	WARN_ON_ONCE(!strcmp(current->comm, "ovup-warn"));
	WARN(!strcmp(current->comm, "ovup-warn2"), "ovup: warned for %s\n", current->comm);
	BUG_ON(!m);
	seq_puts(m, "ovup-warn\n");
	return 0;
}
