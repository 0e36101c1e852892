// SPDX-License-Identifier: MIT
/*
 * x86-64: the branch is `jmp rel32` (5 bytes, +-2 GiB), kept after an
 * `endbr64` so indirect-branch tracking still finds its landing pad; the
 * kernel's ftrace site is a NOP5 (or `call __fentry__` while traced).
 * Also the registers of an injected syscall.  The register contracts live
 * in machine.c (the sets), regs.c (the analysis) and wrapper.c (the code).
 */
#include "../arch.h"
#include "regbits.h"

#include <errno.h>
#include <string.h>

const char ovup_arch_name[] = "x86_64";
const unsigned ovup_arch_jump_len = 5;

static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

const uint32_t ovup_arch_audit = 0xc000003e; /* AUDIT_ARCH_X86_64 */

int ovup_arch_jump(uint64_t from, uint64_t to, uint8_t *buf)
{
	int64_t rel = (int64_t)(to - (from + 5));

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	buf[0] = 0xe9;
	buf[1] = (uint8_t)rel;
	buf[2] = (uint8_t)(rel >> 8);
	buf[3] = (uint8_t)(rel >> 16);
	buf[4] = (uint8_t)(rel >> 24);
	return 5;
}

enum ovup_arch_branch ovup_arch_branch_decode(uint64_t from, const uint8_t *code, size_t n,
					      uint64_t *to)
{
	int32_t rel;

	if (n >= 1 && code[0] == 0xcc)
		return OVUP_ARCH_TRAP;
	if (n < 5 || (code[0] != 0xe9 && code[0] != 0xe8))
		return OVUP_ARCH_OTHER;
	rel = (int32_t)((uint32_t)code[1] | (uint32_t)code[2] << 8 | (uint32_t)code[3] << 16 |
			(uint32_t)code[4] << 24);
	*to = from + 5 + (uint64_t)(int64_t)rel;
	return code[0] == 0xe9 ? OVUP_ARCH_JMP : OVUP_ARCH_CALL;
}

int ovup_arch_jump_decode(uint64_t from, const uint8_t *code, size_t n, uint64_t *to)
{
	return ovup_arch_branch_decode(from, code, n, to) == OVUP_ARCH_JMP;
}

size_t ovup_arch_entry_keep(const uint8_t *code, size_t n)
{
	if (n >= sizeof(endbr64) && !memcmp(code, endbr64, sizeof(endbr64)))
		return sizeof(endbr64);
	return 0;
}

size_t ovup_arch_ftrace_site(const uint8_t *code, size_t n)
{
	if (n < 5)
		return 0;
	if (!memcmp(code, nop5, sizeof(nop5)) || code[0] == 0xe8)
		return 5;
	return 0;
}

size_t ovup_arch_ftrace_nop(uint8_t *buf)
{
	memcpy(buf, nop5, sizeof(nop5));
	return sizeof(nop5);
}

void ovup_arch_regs_syscall(struct user_regs_struct *r, uint64_t pc, uint64_t sp, long nr,
			    const uint64_t args[6])
{
	r->rip = pc;
	r->rsp = sp;
	r->rax = (uint64_t)nr;
	/* orig_rax < 0 tells the kernel this stop is not inside a syscall,
	 * so it will not "restart" the interrupted one on our instruction. */
	r->orig_rax = (uint64_t)-1;
	r->rdi = args[0];
	r->rsi = args[1];
	r->rdx = args[2];
	r->r10 = args[3];
	r->r8 = args[4];
	r->r9 = args[5];
}

uint64_t ovup_arch_regs_ret(const struct user_regs_struct *r)
{
	return r->rax;
}

uint64_t ovup_arch_regs_pc(const struct user_regs_struct *r)
{
	return r->rip;
}

uint64_t ovup_arch_regs_sp(const struct user_regs_struct *r)
{
	return r->rsp;
}

static int64_t rel32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

size_t ovup_arch_branch_candidates(const uint8_t *code, size_t n, uint64_t addr, uint64_t lo,
				   uint64_t hi, uint64_t *out, size_t max)
{
	size_t i, found = 0;

	for (i = 0; i < n; i++) {
		uint64_t at = addr + i, to = 0;
		int hit = 0;

		if ((code[i] == 0xe8 || code[i] == 0xe9) && i + 5 <= n) {
			to = at + 5 + (uint64_t)rel32(code + i + 1);
			hit = 1;
		} else if (code[i] == 0x0f && i + 6 <= n && (code[i + 1] & 0xf0) == 0x80) {
			to = at + 6 + (uint64_t)rel32(code + i + 2);
			hit = 1;
		} else if ((code[i] == 0xeb || (code[i] & 0xf0) == 0x70 ||
			    (code[i] >= 0xe0 && code[i] <= 0xe3)) &&
			   i + 2 <= n) {
			to = at + 2 + (uint64_t)(int64_t)(int8_t)code[i + 1];
			hit = 1;
		}
		if (hit && to > lo && to < hi) {
			if (found < max)
				out[found] = at;
			found++;
		}
	}
	return found;
}
