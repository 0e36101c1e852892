// SPDX-License-Identifier: GPL-2.0
/*
 * A live patch for the running kernel: /proc/cmdline is produced by the
 * static function cmdline_proc_show; this version also says who asked.
 *   ovup build -k examples/kernel-cmdline.c -o cmdline.o   (build machine)
 *   ovup apply -k cmdline.o                                (target, root)
 */
#include <linux/sched.h>
#include <linux/seq_file.h>

extern char *saved_command_line; /* a kernel variable, by name */

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s [patched by ovup; read by %s, pid %d]\n", saved_command_line,
		   current->comm, current->pid);
	return 0;
}
