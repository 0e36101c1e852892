// SPDX-License-Identifier: GPL-2.0
/* CPU alternatives and return sites in a patch (tests/kernel/alt.t): each
 * line says what the patched code selected next to what the boot CPU has,
 * so the test compares them in guests with different CPUs.
 *   stac()/clac():       "" or stac/clac (SMAP), no fix-up
 *   static_cpu_has():    ALTERNATIVE_TERNARY: a 5-byte jmp re-targeted, or
 *                        NOPs; .altinstr_aux tests the bit until patched
 *   clear_page():        alternative_call_2 (REP_GOOD, ERMS): a call fixed up
 *   access_ok():         TASK_SIZE_MAX, a movabs chosen by LA57
 * and a helper, so that returns lie at several addresses (the ITS rule).
 */
#include <linux/seq_file.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/smap.h>

static noinline int alt_page_clears(void)
{
	unsigned long p = __get_free_page(GFP_KERNEL);
	const unsigned long *w = (const unsigned long *)p;
	int i, ok = 1;

	if (!p)
		return -1;
	memset((void *)p, 0xa5, PAGE_SIZE);
	clear_page((void *)p);
	for (i = 0; i < PAGE_SIZE / sizeof(long); i++)
		ok &= w[i] == 0;
	free_page(p);
	return ok;
}

static noinline int alt_user_5level(void)
{
	/* a user address only 5-level paging has */
	return access_ok((void __user *)(1UL << 50), 8);
}

int cmdline_proc_show(struct seq_file *m, void *v)
{
	stac();
	clac();
	seq_printf(m, "ovup-alt smap=%d/%d erms=%d/%d la57=%d/%d clear=%d\n",
		   static_cpu_has(X86_FEATURE_SMAP) ? 1 : 0, boot_cpu_has(X86_FEATURE_SMAP) ? 1 : 0,
		   static_cpu_has(X86_FEATURE_ERMS) ? 1 : 0, boot_cpu_has(X86_FEATURE_ERMS) ? 1 : 0,
		   alt_user_5level(), pgtable_l5_enabled() ? 1 : 0, alt_page_clears());
	return 0;
}
