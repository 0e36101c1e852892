// SPDX-License-Identifier: GPL-2.0
/* OVUP_ORIG on a module's function (tests/kernel/target). */
#include <linux/seq_file.h>
#include <ovup.h>

OVUP_OBJECT(ovup_target_show, "ovup_target");

int ovup_target_show(struct seq_file *m, void *v)
{
	seq_puts(m, "orig-wrap: ");
	return OVUP_ORIG(ovup_target_show)(m, v);
}
