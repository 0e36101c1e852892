// SPDX-License-Identifier: GPL-2.0
/* A cmdline_proc_show that calls into the victim module ovup_target, then
 * sleeps 8 s inside the patch's code: `rmmod -f ovup_target` meanwhile
 * must wait for the reader to leave that code (up to its bound). */
#include <linux/delay.h>
#include <linux/seq_file.h>

const char *ovup_target_word(void);

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "ovup-sleepy %s\n", ovup_target_word());
	msleep(8000);
	return 0;
}
