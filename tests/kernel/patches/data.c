// SPDX-License-Identifier: GPL-2.0
/* A kernel patch with its own data: a counter, a constant table, a string
 * and a static helper, in ovup's blocks (data RW, constants RO, code RX). */
#include <linux/seq_file.h>

static int reads;
int ovup_added_total = 100;
static const char *const words[] = { "zero", "one", "two", "three" };

static const char *word(int n)
{
	return words[n & 3];
}

int cmdline_proc_show(struct seq_file *m, void *v)
{
	reads++;
	ovup_added_total++;
	seq_printf(m, "ovup-data reads=%d %s total=%d\n", reads, word(reads), ovup_added_total);
	return 0;
}
