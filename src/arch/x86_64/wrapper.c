// SPDX-License-Identifier: MIT
/*
 * x86-64 wrapper encoder: the code that keeps a replaced function's
 * register contract, saving around a call of the new function the
 * registers its callers keep values in (ovup_arch_wrapper), encoded from
 * the machine's register widths.
 */
#include "../arch.h"
#include "regbits.h"

#include <errno.h>
#include <string.h>

/* the hardware numbers of the registers of bits 0-8 (regbits.h) */
static const uint8_t gpr_hw[X86_NGPR] = { 0, 1, 2, 6, 7, 8, 9, 10, 11 };

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

int ovup_arch_wrapper(const struct ovup_arch_machine *m, uint64_t at, uint64_t fn, ovup_regset save,
		      uint8_t *out, size_t outmax)
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
