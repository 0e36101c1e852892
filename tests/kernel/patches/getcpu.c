// SPDX-License-Identifier: GPL-2.0
/* getcpu(2) writing its result with an inline user access
 * (tests/kernel/extable.t): user_access_begin() + unsafe_put_user(), so a
 * bad pointer faults inside the patch and its __ex_table entry turns the
 * fault into -EFAULT.  The CPU number comes back plus 1000, so the test
 * knows the patch ran. */
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <linux/smp.h>

long __x64_sys_getcpu(const struct pt_regs *regs)
{
	unsigned int __user *cpup = (unsigned int __user *)regs->di;
	unsigned int cpu = raw_smp_processor_id() + 1000;

	if (cpup) {
		if (!user_access_begin(cpup, sizeof(*cpup)))
			return -EFAULT;
		unsafe_put_user(cpu, cpup, efault);
		user_access_end();
	}
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}
