// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * OVUP_IOC_CPU: what the module loader patches in a module for this CPU
 * (module_finalize(): apply_returns(), apply_alternatives()), told to the
 * tool, which makes the same edits in a patch before it is loaded.  The
 * loader's own choice for returns is read back from a return site of this
 * module, so that no unexported symbol is needed.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/module.h>
#include <linux/string.h>
#include <asm/processor.h>
#include <asm/nospec-branch.h>
#include "ovup_internal.h"

/*
 * A return site that the loader rewrote when it loaded ovup.ko: 64-byte
 * aligned and without an ftrace call, so its first instruction is its
 * return, at an address with bit 5 clear, where each return-thunk
 * mitigation of this kernel (retbleed, SRSO, ITS) jumps to the thunk.
 */
static noinline notrace __aligned(64) void ovup_ret_probe(void)
{
}

long ovup_ioc_cpu(struct file *file, void *arg)
{
	struct ovup_k_cpu *c = arg;
	const u8 *p = (const u8 *)ovup_ret_probe;
	s32 rel;

	BUILD_BUG_ON(sizeof(boot_cpu_data.x86_capability) > sizeof(c->caps));
	memset(c, 0, sizeof(*c));
	c->nwords = sizeof(boot_cpu_data.x86_capability) / sizeof(u32);
	memcpy(c->caps, boot_cpu_data.x86_capability, sizeof(boot_cpu_data.x86_capability));
	c->ret_site = (unsigned long)p;
	if (p[0] == 0xc3) {
		c->ret_how = OVUP_RET_PLAIN;
	} else if (p[0] == 0xe9) {
		memcpy(&rel, p + 1, sizeof(rel));
		c->ret_how = OVUP_RET_THUNK;
		c->ret_thunk = (unsigned long)p + 5 + rel;
	} else {
		c->ret_how = OVUP_RET_UNKNOWN;
	}
#ifdef CONFIG_MITIGATION_ITS
	c->its_thunk = (unsigned long)its_return_thunk;
	if (cpu_feature_enabled(X86_FEATURE_INDIRECT_THUNK_ITS))
		c->flags |= OVUP_CPU_ITS_INDIRECT;
#endif
	return 0;
}
