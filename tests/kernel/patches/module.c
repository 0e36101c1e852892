// SPDX-License-Identifier: GPL-2.0
/* A function of a module (tests/kernel/target): labels include modules. */
#include <linux/seq_file.h>
#include <ovup.h>

OVUP_OBJECT(ovup_target_show, "ovup_target");

int ovup_target_show(struct seq_file *m, void *v)
{
	seq_puts(m, "target-patched\n");
	return 0;
}
