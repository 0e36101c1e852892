/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ovup's x86 asm/jump_label.h for kernel patches.  `ovup build -k`
 * pre-includes it (-include) when the kernel's own header is one it knows
 * (src/target/kernel/build.c checks its hash), so the kernel's is then
 * skipped by its include guard.  The one difference: every static-branch
 * site is a 5-byte `jmp` to its yes-label, whatever the distance, and the
 * key carries no request to objtool to make it a NOP (the kernel's 2 in
 * "2 | branch").
 * ovup then turns each site into a jump to a stub that tests the key
 * (src/target/kernel/finalize.c, docs/kernel.md).
 * The __jump_table entries have the kernel's layout.
 */
#ifndef _ASM_X86_JUMP_LABEL_H
#define _ASM_X86_JUMP_LABEL_H

#define HAVE_JUMP_LABEL_BATCH

#include <asm/asm.h>
#include <asm/nops.h>

#ifndef __ASSEMBLY__

#include <linux/stringify.h>
#include <linux/types.h>

/* included first (-include): the kernel's users declare these later */
struct static_key;
struct jump_entry;

/* jmp rel32, spelled out so that the assembler cannot shorten it */
#define OVUP_JUMP_SITE "1: .byte 0xe9\n\t.long %l[l_yes] - 2f\n\t2:\n\t"

#define JUMP_TABLE_ENTRY                                            \
	".pushsection __jump_table,  \"aw\" \n\t" _ASM_ALIGN "\n\t" \
	".long 1b - . \n\t"                                         \
	".long %l[l_yes] - . \n\t" _ASM_PTR "%c0 + %c1 - .\n\t"     \
	".popsection \n\t"

static __always_inline bool arch_static_branch(struct static_key *const key, const bool branch)
{
	asm goto(OVUP_JUMP_SITE JUMP_TABLE_ENTRY : : "i"(key), "i"(branch) : : l_yes);
	return false;
l_yes:
	return true;
}

static __always_inline bool arch_static_branch_jump(struct static_key *const key, const bool branch)
{
	asm goto(OVUP_JUMP_SITE JUMP_TABLE_ENTRY : : "i"(key), "i"(branch) : : l_yes);
	return false;
l_yes:
	return true;
}

extern int arch_jump_entry_size(struct jump_entry *entry);

#endif /* __ASSEMBLY__ */

#endif
