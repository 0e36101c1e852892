// SPDX-License-Identifier: MIT
/*
 * Kernel code, edited as Linux 6.1's module loader edits a module's code
 * for the CPU it runs on (arch/x86/kernel/alternative.c): return sites
 * (apply_returns) and CPU alternatives (apply_alternatives, with its two
 * fix-ups and optimize_nops).  The tool makes these edits in a linked patch
 * before loading it, so that patch code runs what a module's would.
 */
#include "insn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NOP_MAX 8

/* the kernel's x86-64 NOPs of 1 to 8 bytes (asm/nops.h) */
static const uint8_t nops[NOP_MAX + 1][NOP_MAX] = {
	{ 0 },
	{ 0x90 },
	{ 0x66, 0x90 },
	{ 0x0f, 0x1f, 0x00 },
	{ 0x0f, 0x1f, 0x40, 0x00 },
	{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

void ovup_arch_nops(uint8_t *buf, size_t len)
{
	while (len) {
		size_t n = len > NOP_MAX ? NOP_MAX : len;

		memcpy(buf, nops[n], n);
		buf += n;
		len -= n;
	}
}

static int32_t get32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void put32(uint8_t *p, int64_t v)
{
	int32_t w = (int32_t)v;

	memcpy(p, &w, 4);
}

int ovup_arch_return_site(uint8_t *code, size_t n, uint64_t addr, uint64_t thunk_was,
			  uint64_t thunk)
{
	if (n < 5 || code[0] != 0xe9 || addr + 5 + (uint64_t)(int64_t)get32(code + 1) != thunk_was)
		return -EINVAL;
	if (thunk) {
		int64_t rel = (int64_t)(thunk - (addr + 5));

		if (rel < INT32_MIN || rel > INT32_MAX)
			return -ERANGE;
		put32(code + 1, rel);
		return 0;
	}
	code[0] = 0xc3; /* ret, and int3 where the jump's offset was */
	memset(code + 1, 0xcc, 4);
	return 0;
}

static int rel32_to(uint8_t *p, uint64_t next, uint64_t to)
{
	int64_t rel = (int64_t)(to - next);

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	put32(p, rel);
	return 0;
}

int ovup_arch_key_stub(uint8_t *buf, uint64_t at, uint64_t key, int jump_when_enabled,
		       uint64_t target, uint64_t resume)
{
	/* cmpl $0, key(%rip): the key's count, static_key_enabled()'s test */
	buf[0] = 0x83;
	buf[1] = 0x3d;
	buf[6] = 0x00;
	/* jg (count > 0) or jle to the branch's target */
	buf[7] = 0x0f;
	buf[8] = jump_when_enabled ? 0x8f : 0x8e;
	/* else back after the site */
	buf[13] = 0xe9;
	if (rel32_to(buf + 2, at + 7, key) || rel32_to(buf + 9, at + 13, target) ||
	    rel32_to(buf + 14, at + 18, resume))
		return -ERANGE;
	return OVUP_ARCH_KEY_STUB;
}

/* The loader's optimize_nops(): each run of one-byte NOPs in the window
 * becomes long NOPs; it stops where an instruction does not decode. */
static void optimize_nops(csh h, cs_insn *in, uint8_t *code, size_t len, uint64_t addr)
{
	size_t i = 0;

	while (i < len) {
		const uint8_t *p = code + i;
		size_t left = len - i, run;
		uint64_t a = addr + i;

		if (!cs_disasm_iter(h, &p, &left, &a, in))
			return;
		if (in->size != 1 || code[i] != 0x90) {
			i += in->size;
			continue;
		}
		for (run = 0; i + run < len && code[i + run] == 0x90; run++)
			;
		ovup_arch_nops(code + i, run);
		i += run;
	}
}

/*
 * What the loader moves right: a replacement's relative branches that stay
 * inside it, and a leading 5-byte call or jmp when the replacement is just
 * that instruction (the loader re-targets exactly that).  Anything else
 * PC-relative would run wrong at the original's place.
 */
static int check_movable(csh h, cs_insn *in, const struct ovup_arch_alt *a, char *why,
			 size_t whylen)
{
	const uint8_t *p = a->repl;
	size_t left = a->repllen;
	uint64_t addr = a->repl_addr;

	while (left) {
		uint64_t at = addr, to;
		const cs_x86 *x;
		uint8_t k;

		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			snprintf(why, whylen, "its replacement does not decode at +0x%llx",
				 (unsigned long long)(at - a->repl_addr));
			return -EINVAL;
		}
		x = &in->detail->x86;
		for (k = 0; k < x->op_count; k++)
			if (x->operands[k].type == X86_OP_MEM &&
			    x->operands[k].mem.base == X86_REG_RIP)
				break;
		if (k < x->op_count)
			goto refuse;
		if (!ovup_x86_has_group(in, CS_GRP_BRANCH_RELATIVE))
			continue;
		to = (uint64_t)x->operands[0].imm;
		if (to >= a->repl_addr && to < a->repl_addr + a->repllen)
			continue;
		if (at == a->repl_addr && a->repllen == 5 &&
		    (a->repl[0] == 0xe8 || a->repl[0] == 0xe9))
			continue;
		goto refuse;
	}
	return 0;
refuse:
	snprintf(why, whylen,
		 "its replacement's '%s %s' at +0x%llx is PC-relative, which the kernel's "
		 "loader does not move either",
		 in->mnemonic, in->op_str, (unsigned long long)(in->address - a->repl_addr));
	return -ENOTSUP;
}

/* The loader's copy with its fix-ups: a 5-byte call keeps its target; a
 * 5-byte jmp keeps it too, shortened to 2 bytes when it reaches; then
 * NOPs to the original's length. */
static void apply(const struct ovup_arch_alt *a)
{
	uint8_t buf[256];
	size_t n = a->repllen;

	memcpy(buf, a->repl, a->repllen);
	if (a->repllen == 5 && (buf[0] == 0xe8 || buf[0] == 0xe9)) {
		uint64_t to = a->repl_addr + 5 + (uint64_t)(int64_t)get32(buf + 1);
		int64_t d = (int64_t)(to - a->instr_addr);

		/* the loader shortens forward jumps only */
		if (buf[0] == 0xe9 && d >= 0 && d - 2 <= 127) {
			buf[0] = 0xeb;
			buf[1] = (uint8_t)(int8_t)(d - 2);
			ovup_arch_nops(buf + 2, 3);
		} else {
			put32(buf + 1, d - 5);
		}
	}
	memcpy(a->instr, buf, n);
	memset(a->instr + n, 0x90, a->instrlen - n);
}

int ovup_arch_alternative(const struct ovup_arch_alt *a, int patch, char *why, size_t whylen)
{
	cs_insn *in;
	csh h;
	int ret = 0;

	if (a->repllen > a->instrlen || a->instrlen > 255) {
		snprintf(why, whylen,
			 "its replacement (%zu bytes) is longer than the original (%zu)",
			 a->repllen, a->instrlen);
		return -EINVAL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		snprintf(why, whylen, "no x86-64 decoder (capstone)");
		return -ENOSYS;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	/* checked on every CPU, so a patch is refused or not whatever the CPU */
	ret = check_movable(h, in, a, why, whylen);
	if (!ret && patch)
		apply(a);
	if (!ret)
		optimize_nops(h, in, a->instr, a->instrlen, a->instr_addr);
	cs_free(in, 1);
	cs_close(&h);
	return ret;
}
