// SPDX-License-Identifier: MIT
/*
 * x86-64 instruction work with the capstone decoder: copying the
 * instructions a branch displaces to a trampoline elsewhere (so a patch can
 * call the original function), and finding branches that land inside the
 * displaced bytes.  With regs.c (register contracts) and kcode.c (kernel
 * alternatives), the only files that call capstone.
 */
#include "../arch.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int open_cs(csh *h)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return -ENOSYS;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

static int is_rel_branch(const cs_insn *in)
{
	uint8_t i;

	for (i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == CS_GRP_BRANCH_RELATIVE)
			return 1;
	return 0;
}

static int put_rel32(uint8_t *p, uint64_t from_end, uint64_t to)
{
	int64_t rel = (int64_t)(to - from_end);

	if (rel < INT32_MIN || rel > INT32_MAX)
		return -ERANGE;
	p[0] = (uint8_t)rel;
	p[1] = (uint8_t)(rel >> 8);
	p[2] = (uint8_t)(rel >> 16);
	p[3] = (uint8_t)(rel >> 24);
	return 0;
}

/* A trampoline being written: where the next moved instruction goes. */
struct reloc {
	const struct ovup_reloc_in *in;
	struct ovup_reloc_out *out;
	size_t len;   /* bytes of trampoline written */
	size_t taken; /* bytes of original instructions moved */
};

static int refuse(struct reloc *r, const cs_insn *in, int err, const char *what)
{
	snprintf(r->out->why, r->out->whylen, "'%s %s' at +0x%llx %s", in->mnemonic, in->op_str,
		 (unsigned long long)(in->address - r->in->site), what);
	return err;
}

/* A relative jmp, call or jcc, re-aimed at the same target from its new
 * place (rel8 forms grow to rel32). */
static int move_branch(struct reloc *r, const cs_insn *in)
{
	uint64_t target = (uint64_t)in->detail->x86.operands[0].imm;
	uint64_t here = r->in->to + r->len;
	uint8_t *o = r->out->buf + r->len, op = in->bytes[0];
	int ret;

	if (target >= r->in->site && target < r->in->site + r->in->min_len)
		return refuse(r, in, -ENOTSUP, "branches into the bytes the jump replaces");
	if (op == 0xeb || op == 0xe9 || op == 0xe8) { /* jmp rel8/rel32, call rel32 */
		o[0] = op == 0xe8 ? 0xe8 : 0xe9;
		ret = put_rel32(o + 1, here + 5, target);
		r->len += 5;
	} else if ((op >= 0x70 && op <= 0x7f) || (op == 0x0f && in->size == 6)) { /* jcc */
		o[0] = 0x0f;
		o[1] = op == 0x0f ? in->bytes[1] : (uint8_t)(0x80 + (op - 0x70));
		ret = put_rel32(o + 2, here + 6, target);
		r->len += 6;
	} else {
		return refuse(r, in, -ENOTSUP, "(a short loop branch) cannot be moved");
	}
	if (ret == -ERANGE)
		snprintf(r->out->why, r->out->whylen,
			 "'%s %s' would not reach its target from the trampoline", in->mnemonic,
			 in->op_str);
	return ret;
}

static int is_riprel(const cs_x86 *x)
{
	return x->encoding.disp_offset && x->op_count &&
	       ((x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_RIP) ||
		(x->op_count > 1 && x->operands[1].type == X86_OP_MEM &&
		 x->operands[1].mem.base == X86_REG_RIP));
}

/* RIP-relative: same target, new displacement. */
static int move_riprel(struct reloc *r, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	uint64_t target = in->address + in->size + (uint64_t)x->disp;
	uint8_t *o = r->out->buf + r->len;
	int ret = 0;

	memcpy(o, in->bytes, in->size);
	if (x->encoding.disp_size != 4 ||
	    put_rel32(o + x->encoding.disp_offset, r->in->to + r->len + in->size, target))
		ret = refuse(r, in, -ERANGE,
			     "addresses memory relative to its place and would not reach it "
			     "from the trampoline");
	r->len += in->size;
	return ret;
}

static int move_insn(struct reloc *r, const cs_insn *in)
{
	int ret = 0;

	if (r->len + 6 + in->size > r->out->max)
		return -ENOSPC;
	if (is_rel_branch(in)) {
		ret = move_branch(r, in);
	} else if (is_riprel(&in->detail->x86)) {
		ret = move_riprel(r, in);
	} else {
		memcpy(r->out->buf + r->len, in->bytes, in->size);
		r->len += in->size;
	}
	r->taken += in->size;
	return ret;
}

/* The prefix, the moved instructions, and the jump back. */
static int write_trampoline(struct reloc *r, const cs_insn *insn, size_t count)
{
	const struct ovup_reloc_in *in = r->in;
	size_t i;
	int ret = 0;

	if (in->nprefix > r->out->max)
		return -ENOSPC;
	if (in->nprefix)
		memcpy(r->out->buf, in->prefix, in->nprefix);
	r->len = in->nprefix;
	for (i = 0; i < count && r->taken < in->min_len && !ret; i++)
		ret = move_insn(r, &insn[i]);
	if (ret)
		return ret;
	if (r->taken < in->min_len) {
		snprintf(r->out->why, r->out->whylen,
			 "the first %zu bytes do not decode as instructions", in->min_len);
		return -EINVAL;
	}
	/* back to the first instruction not displaced */
	r->out->buf[r->len] = 0xe9;
	ret = put_rel32(r->out->buf + r->len + 1, in->to + r->len + 5, in->site + r->taken);
	r->len += 5;
	return ret;
}

int ovup_arch_relocate(const struct ovup_reloc_in *in, struct ovup_reloc_out *out)
{
	struct reloc r = { in, out, 0, 0 };
	cs_insn *insn = NULL;
	size_t count;
	csh h;
	int ret;

	if (open_cs(&h))
		return -ENOSYS;
	count = cs_disasm(h, in->code, in->len, in->site, 0, &insn);
	ret = write_trampoline(&r, insn, count);
	if (insn)
		cs_free(insn, count);
	cs_close(&h);
	if (ret)
		return ret;
	out->covered = r.taken;
	return (int)r.len;
}

int ovup_arch_branch_into(const uint8_t *code, size_t n, uint64_t addr, uint64_t lo, uint64_t hi,
			  uint64_t *from)
{
	cs_insn *insn;
	csh h;
	int found = 0;

	if (open_cs(&h))
		return -ENOSYS;
	insn = cs_malloc(h);
	{
		const uint8_t *p = code;
		size_t left = n;
		uint64_t a = addr;

		/* skip undecodable bytes (data in text, padding) one at a time */
		while (left && !found) {
			if (!cs_disasm_iter(h, &p, &left, &a, insn)) {
				p++;
				left--;
				a++;
				continue;
			}
			if (is_rel_branch(insn)) {
				uint64_t t = (uint64_t)insn->detail->x86.operands[0].imm;

				if (t > lo && t < hi) {
					*from = insn->address;
					found = 1;
				}
			}
		}
	}
	cs_free(insn, 1);
	cs_close(&h);
	return found;
}

size_t ovup_arch_insn_cover(const uint8_t *code, size_t n, uint64_t addr, size_t min_len)
{
	cs_insn *insn = NULL;
	size_t count, i, taken = 0;
	csh h;

	if (open_cs(&h))
		return 0;
	count = cs_disasm(h, code, n, addr, 0, &insn);
	for (i = 0; i < count && taken < min_len; i++)
		taken += insn[i].size;
	if (insn)
		cs_free(insn, count);
	cs_close(&h);
	return taken >= min_len ? taken : 0;
}
