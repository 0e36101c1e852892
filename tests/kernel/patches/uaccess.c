// SPDX-License-Identifier: GPL-2.0
/* An inline user-memory access: exception-table entries and stac/clac
 * alternatives (tests/kernel/refuse.t: it builds; extable.t runs one). */
#include <linux/seq_file.h>
#include <linux/uaccess.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	const int __user *p = (const int __user *)v;
	int x = 0;

	if (user_access_begin(p, sizeof(*p))) {
		unsafe_get_user(x, p, fault);
fault:
		user_access_end();
	}
	seq_printf(m, "ovup-uaccess %d\n", x);
	return 0;
}
