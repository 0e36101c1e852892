// SPDX-License-Identifier: MIT
/*
 * The patch site at a kernel function's entry: after the ftrace NOP5, so
 * ftrace and kprobes on the entry keep working; and whose branch is there
 * now, where no pristine copy of the kernel's text says what was: a
 * trampoline's (kprobes, ftrace, BPF), ovup.ko's, or the function's own.
 * The checks against the object file are verify.c's.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "kfiles.h"
#include "../../arch/arch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* to lies in one of ovup.ko's areas (its code or its data) */
static int in_own_area(const struct kern_target *k, uint64_t to)
{
	return (to >= k->v.text_base && to - k->v.text_base < k->v.text_size) ||
	       (to >= k->v.data_base && to - k->v.data_base < k->v.data_size);
}

int ovup_kern_site(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep)
{
	(void)t;
	/* after the ftrace NOP5, so ftrace and kprobes on the entry keep
	 * working */
	*keep = (uint32_t)ovup_arch_ftrace_site(entry, n);
	return *keep ? 0 : -EINVAL;
}

/* Without a pristine copy of kernel text, a branch at the site is
 * original code when it goes to a known function, and someone's hook when
 * it goes to a trampoline (kprobes, ftrace, BPF) or nowhere known. */
int ovup_kern_hooked(struct ovup_target *t, const struct ovup_symtab *st, uint64_t site,
		     const uint8_t *bytes, char *why, size_t len)
{
	const struct ovup_sym *s;
	uint64_t to;
	enum ovup_arch_branch kind = ovup_arch_branch_decode(site, bytes, ovup_arch_jump_len, &to);
	const char *what = kind == OVUP_ARCH_CALL ? "call" : "jmp";
	struct kern_target *k = ovup_to_kern(t);

	if (kind == OVUP_ARCH_TRAP) {
		snprintf(why, len, "a breakpoint (int3: a kprobe?)");
		return 1;
	}
	if (kind == OVUP_ARCH_OTHER)
		return 0;
	/* Called only where no ovup record is on the site (stacking is
	 * checked before): a branch into ovup's own areas is then a jump an
	 * interrupted or foreign writer left, never the function's code. */
	if (in_own_area(k, to)) {
		snprintf(why, len,
			 "a %s into ovup.ko's own area (0x%" PRIx64 ") that no patch "
			 "applied by ovup accounts for (see 'ovup list -k')",
			 what, to);
		return 1;
	}
	s = ovup_symtab_by_addr(st, to);
	if (!s) {
		snprintf(why, len, "a %s to 0x%" PRIx64 ", outside every known function", what, to);
		return 1;
	}
	if (!strncmp(st->objs[s->obj].name, "__builtin__", 11) ||
	    !strcmp(st->objs[s->obj].name, "bpf")) {
		snprintf(why, len, "a %s to %s [%s]", what, s->name, st->objs[s->obj].name);
		return 1;
	}
	return 0;
}

/* A branch into ovup's own area where the jump goes, with no record of
 * it, is named by the planner's hooked check ("a jmp into ovup.ko's own
 * area that no patch accounts for"), which says more than a byte
 * comparison with the object file would.  Everything else (kprobes,
 * optimized ones included) is the verifier's to name. */
int ovup_kern_verify_entry(struct ovup_target *t, const struct ovup_symtab *st,
			   const struct ovup_sym *s, const uint8_t *entry, size_t n, int stacked)
{
	struct kern_target *k = ovup_to_kern(t);
	size_t keep = ovup_arch_ftrace_site(entry, n);
	uint64_t to;
	enum ovup_arch_branch kind;

	if (!stacked && keep && keep + ovup_arch_jump_len <= n) {
		kind = ovup_arch_branch_decode(s->addr + keep, entry + keep, ovup_arch_jump_len,
					       &to);
		if ((kind == OVUP_ARCH_JMP || kind == OVUP_ARCH_CALL) && in_own_area(k, to))
			return 0;
	}
	return ovup_kverify_entry(t, st, s, entry, n, stacked);
}
