// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ovup_target.ko: a victim module for the kernel tests.  It shows a fixed
 * line in /proc/ovup_target, so a test can patch a *module* function
 * (ovup_target_show) and check that ovup pins the module while patched;
 * /proc/ovup_target_cross shows the one of target_cross.S, whose patch
 * site crosses a page boundary.  ovup_target_word() is for a patch of a
 * core kernel function to call (ovup must pin the module then), and
 * init_sleep_ms keeps the module loading (COMING) for a while.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

/* noinline: the tests patch it by name through /proc/kallsyms */
static noinline int ovup_target_show(struct seq_file *m, void *v)
{
	seq_puts(m, "target-original\n");
	return 0;
}

int ovup_target_cross_show(struct seq_file *m, void *v);

/* Called by tests/kernel/patches/deps.c; global so kallsyms names it
 * uniquely, noinline so it exists.  The string lies in this module too. */
noinline const char *ovup_target_word(void)
{
	return "from-ovup_target";
}

static unsigned int init_sleep_ms;
module_param(init_sleep_ms, uint, 0444);
MODULE_PARM_DESC(init_sleep_ms, "stay in init (state COMING) this long");

static int __init ovup_target_init(void)
{
	if (init_sleep_ms)
		msleep(init_sleep_ms);
	if (!proc_create_single("ovup_target", 0444, NULL, ovup_target_show))
		return -ENOMEM;
	if (!proc_create_single("ovup_target_cross", 0444, NULL, ovup_target_cross_show))
		goto remove_target;
	return 0;

remove_target:
	remove_proc_entry("ovup_target", NULL);
	return -ENOMEM;
}

static void __exit ovup_target_exit(void)
{
	remove_proc_entry("ovup_target_cross", NULL);
	remove_proc_entry("ovup_target", NULL);
}

module_init(ovup_target_init);
module_exit(ovup_target_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("victim module for ovup's kernel tests");
