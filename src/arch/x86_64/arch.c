// SPDX-License-Identifier: MIT
/*
 * x86-64: the branch is `jmp rel32` (5 bytes, +-2 GiB), kept after an
 * `endbr64` so indirect-branch tracking still finds its landing pad; the
 * kernel's ftrace site is a NOP5 (or `call __fentry__` while traced).  The
 * wrapper that keeps a replaced function's register contract is encoded
 * here too, from the machine's register widths.
 */
#include "../arch.h"
#include "regbits.h"

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
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
	rel = (int32_t)((uint32_t)code[1] | (uint32_t)code[2] << 8 |
			(uint32_t)code[3] << 16 | (uint32_t)code[4] << 24);
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
			    (code[i] >= 0xe0 && code[i] <= 0xe3)) && i + 2 <= n) {
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

/* ---- register contracts: the machine, names, the wrapper ---- */

static const uint8_t gpr_hw[X86_NGPR] = { 0, 1, 2, 6, 7, 8, 9, 10, 11 };
static const char *const gpr_name[X86_NGPR] = { "rax", "rcx", "rdx", "rsi", "rdi",
						"r8",  "r9",  "r10", "r11" };

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

void ovup_arch_machine(struct ovup_arch_machine *m)
{
	unsigned a, b, c, d;
	uint64_t xcr0;

	m->vec_bytes = 16;
	m->mask_bytes = 0;
	/* a register exists for software only if the CPU has it AND the
	 * kernel enabled its state in XCR0 */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return;
	xcr0 = xgetbv0();
	if ((c & bit_AVX) && (xcr0 & 0x6) == 0x6)
		m->vec_bytes = 32;
	if (m->vec_bytes == 32 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) &&
	    (xcr0 & 0xe0) == 0xe0) {
		m->vec_bytes = 64;
		/* without AVX512BW only the low 16 bits of a mask exist */
		m->mask_bytes = (b & bit_AVX512BW) ? 8 : 2;
	}
}

ovup_regset ovup_arch_regs_abi(const struct ovup_arch_machine *m)
{
	ovup_regset s = X86_SET_GPRS | X86_SET_FLAGS | X86_SET_XMM_LO;

	if (m->vec_bytes == 64)
		s |= X86_SET_XMM_HI | X86_SET_K;
	return s;
}

ovup_regset ovup_arch_regs_return(unsigned nint, unsigned nsse)
{
	ovup_regset s = 0;

	if (nint >= 1)
		s |= (ovup_regset)1 << 0; /* rax */
	if (nint >= 2)
		s |= (ovup_regset)1 << 2; /* rdx */
	if (nsse >= 1)
		s |= (ovup_regset)1 << X86_BIT_XMM(0);
	if (nsse >= 2)
		s |= (ovup_regset)1 << X86_BIT_XMM(1);
	return s;
}

void ovup_arch_regs_format(ovup_regset s, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	if (len)
		buf[0] = 0;
#define ADD(...)                                                                          \
	do {                                                                              \
		int n_ = snprintf(buf + used, used < len ? len - used : 0, "%s", used ? " " : ""); \
		used += (size_t)(n_ > 0 ? n_ : 0);                                         \
		n_ = snprintf(buf + used, used < len ? len - used : 0, __VA_ARGS__);       \
		used += (size_t)(n_ > 0 ? n_ : 0);                                         \
	} while (0)
	for (i = 0; i < X86_NGPR; i++)
		if (s & ((ovup_regset)1 << i))
			ADD("%s", gpr_name[i]);
	for (i = 0; i < 32; i++)
		if (s & ((ovup_regset)1 << X86_BIT_XMM(i)))
			ADD("xmm%u", i);
	for (i = 0; i < 8; i++)
		if (s & ((ovup_regset)1 << X86_BIT_K(i)))
			ADD("k%u", i);
	if (s & X86_SET_FLAGS)
		ADD("flags");
#undef ADD
}

struct emit {
	uint8_t *p;
	size_t n, max;
};

static void emit(struct emit *e, const uint8_t *b, size_t n)
{
	if (e->n + n <= e->max)
		memcpy(e->p + e->n, b, n);
	e->n += n; /* past max: counted, reported as -ENOSPC at the end */
}

static void emit1(struct emit *e, uint8_t b)
{
	emit(e, &b, 1);
}

/* ModRM + SIB (+ disp) for [rsp + disp] with `reg` in ModRM.reg; disp8 is
 * scaled by `scale` (EVEX's compressed displacement, else 1). */
static void mem_rsp(struct emit *e, unsigned reg, int32_t disp, int32_t scale)
{
	uint8_t d[4];

	if (disp == 0) {
		emit1(e, (uint8_t)(((reg & 7) << 3) | 4));
		emit1(e, 0x24);
	} else if (disp % scale == 0 && disp / scale >= -128 && disp / scale <= 127) {
		emit1(e, (uint8_t)(0x40 | ((reg & 7) << 3) | 4));
		emit1(e, 0x24);
		emit1(e, (uint8_t)(int8_t)(disp / scale));
	} else {
		emit1(e, (uint8_t)(0x80 | ((reg & 7) << 3) | 4));
		emit1(e, 0x24);
		d[0] = (uint8_t)disp;
		d[1] = (uint8_t)(disp >> 8);
		d[2] = (uint8_t)(disp >> 16);
		d[3] = (uint8_t)(disp >> 24);
		emit(e, d, 4);
	}
}

/* Vector register n to or from [rsp + disp], at the machine's full width:
 * a caller compiled for AVX may keep a 256- or 512-bit value in it. */
static void vec_move(struct emit *e, const struct ovup_arch_machine *m, unsigned n, int32_t disp,
		     int store)
{
	uint8_t op = store ? 0x7f : 0x6f;

	if (m->vec_bytes == 64) { /* vmovdqu64 zmm: EVEX.512.F3.0F.W1 */
		emit1(e, 0x62);
		emit1(e, (uint8_t)((n & 8 ? 0 : 0x80) | 0x60 | (n & 16 ? 0 : 0x10) | 0x01));
		emit1(e, 0xfe);
		emit1(e, 0x48);
		emit1(e, op);
		mem_rsp(e, n, disp, 64);
	} else if (m->vec_bytes == 32) { /* vmovdqu ymm: VEX.256.F3.0F */
		emit1(e, 0xc5);
		emit1(e, (uint8_t)((n & 8 ? 0 : 0x80) | 0x7e));
		emit1(e, op);
		mem_rsp(e, n, disp, 1);
	} else { /* movdqu xmm: F3 (REX.R) 0F */
		emit1(e, 0xf3);
		if (n & 8)
			emit1(e, 0x44);
		emit1(e, 0x0f);
		emit1(e, op);
		mem_rsp(e, n, disp, 1);
	}
}

/* Mask register n to or from [rsp + disp]: kmovq (AVX512BW) or kmovw. */
static void mask_move(struct emit *e, const struct ovup_arch_machine *m, unsigned n, int32_t disp,
		      int store)
{
	if (m->mask_bytes == 8) { /* VEX.L0.0F.W1 */
		emit1(e, 0xc4);
		emit1(e, 0xe1);
		emit1(e, 0xf8);
	} else { /* VEX.L0.0F.W0 */
		emit1(e, 0xc5);
		emit1(e, 0xf8);
	}
	emit1(e, store ? 0x91 : 0x90);
	mem_rsp(e, n, disp, 1);
}

/* lea disp(%rsp),%rsp: moves the stack pointer without touching the
 * flags, which may be part of the contract */
static void lea_rsp(struct emit *e, int32_t disp)
{
	emit1(e, 0x48);
	emit1(e, 0x8d);
	mem_rsp(e, 4, disp, 1);
}

static void push_gpr(struct emit *e, unsigned i, int pop)
{
	uint8_t base = pop ? 0x58 : 0x50;

	if (gpr_hw[i] >= 8)
		emit1(e, 0x41);
	emit1(e, (uint8_t)(base + (gpr_hw[i] & 7)));
}

static int saves(ovup_regset save, unsigned bit)
{
	return !!(save & ((ovup_regset)1 << bit));
}

/* The wrapper's stack, below its pushes: at [rsp] the masks, then the
 * vectors at vec_off, at multiples of their width (short EVEX
 * displacements); area bytes in all, with 8 bytes of padding where needed
 * so the stack is 16-byte aligned at the call: it was 8 off at our entry,
 * and each push moved it by 8. */
static void wrapper_area(const struct ovup_arch_machine *m, ovup_regset save, int32_t *area,
			 int32_t *vec_off)
{
	unsigned i, npush = 0, nk = 0, nvec = 0;

	for (i = 0; i < X86_NGPR; i++)
		npush += saves(save, i);
	npush += !!(save & X86_SET_FLAGS);
	for (i = 0; i < 32; i++)
		nvec += saves(save, X86_BIT_XMM(i));
	for (i = 0; i < 8; i++)
		nk += saves(save, X86_BIT_K(i));
	*vec_off = (int32_t)((8 * nk + m->vec_bytes - 1) / m->vec_bytes * m->vec_bytes);
	*area = *vec_off + (int32_t)(nvec * m->vec_bytes);
	if ((8 + 8 * npush + (unsigned)*area) % 16 != 0)
		*area += 8;
}

/* Stores (store = 1) or loads the saved mask registers. */
static void move_masks(struct emit *e, const struct ovup_arch_machine *m, ovup_regset save,
		       int store)
{
	unsigned i, nk = 0;

	for (i = 0; i < 8; i++)
		if (saves(save, X86_BIT_K(i)))
			mask_move(e, m, i, (int32_t)(8 * nk++), store);
}

/* Stores (store = 1) or loads the saved vector registers. */
static void move_vecs(struct emit *e, const struct ovup_arch_machine *m, ovup_regset save,
		      int32_t vec_off, int store)
{
	unsigned i, nvec = 0;

	for (i = 0; i < 32; i++)
		if (saves(save, X86_BIT_XMM(i)))
			vec_move(e, m, i, vec_off + (int32_t)(m->vec_bytes * nvec++), store);
}

/* call rel32 to fn, from the wrapper at address at; -ERANGE if too far. */
static int call_rel32(struct emit *e, uint64_t at, uint64_t fn)
{
	int64_t rel = (int64_t)(fn - (at + e->n + 5));
	uint8_t r[4];

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	r[0] = (uint8_t)rel;
	r[1] = (uint8_t)(rel >> 8);
	r[2] = (uint8_t)(rel >> 16);
	r[3] = (uint8_t)(rel >> 24);
	emit1(e, 0xe8);
	emit(e, r, 4);
	return 0;
}

int ovup_arch_wrapper(const struct ovup_arch_machine *m, uint64_t at, uint64_t fn,
		      ovup_regset save, uint8_t *out, size_t outmax)
{
	struct emit e = { out, 0, outmax };
	int32_t area, vec_off;
	unsigned i;
	int ret;

	if (save & ~ovup_arch_regs_abi(m))
		return -EINVAL;
	wrapper_area(m, save, &area, &vec_off);

	if (save & X86_SET_FLAGS)
		emit1(&e, 0x9c); /* pushfq first, popfq last: nothing after it may change a flag */
	for (i = 0; i < X86_NGPR; i++)
		if (saves(save, i))
			push_gpr(&e, i, 0);
	if (area)
		lea_rsp(&e, -area);
	move_masks(&e, m, save, 1);
	move_vecs(&e, m, save, vec_off, 1);
	ret = call_rel32(&e, at, fn);
	if (ret)
		return ret;
	move_vecs(&e, m, save, vec_off, 0);
	move_masks(&e, m, save, 0);
	if (area)
		lea_rsp(&e, area);
	for (i = X86_NGPR; i-- > 0;)
		if (saves(save, i))
			push_gpr(&e, i, 1);
	if (save & X86_SET_FLAGS)
		emit1(&e, 0x9d);
	emit1(&e, 0xc3);
	return e.n <= outmax ? (int)e.n : -ENOSPC;
}
