// SPDX-License-Identifier: GPL-2.0
/*
 * The peer, for bench/kernel-run: the kernel's own livepatch replacing
 * cmdline_proc_show with the same body as ovup's bench patch, so the two
 * redirects can be timed side by side in one VM.
 */
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int bench_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "bench-patched\n");
	return 0;
}

static struct klp_func bench_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = bench_cmdline_proc_show },
	{}
};

static struct klp_object bench_objs[] = {
	{ .funcs = bench_funcs }, /* .name NULL: vmlinux */
	{}
};

static struct klp_patch bench_patch = {
	.mod = THIS_MODULE,
	.objs = bench_objs,
};

static int __init bench_init(void)
{
	return klp_enable_patch(&bench_patch);
}

static void __exit bench_exit(void)
{
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
