// SPDX-License-Identifier: GPL-2.0
/* Replaces the static cmdline_proc_show with code that calls a function of
 * the victim module ovup_target (tests/kernel/target): while this is
 * applied, ovup must keep that module loaded. */
#include <linux/seq_file.h>

const char *ovup_target_word(void);

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "ovup-deps %s\n", ovup_target_word());
	return 0;
}
