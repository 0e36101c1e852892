// SPDX-License-Identifier: MIT
/*
 * x86-64 instruction work with the capstone decoder: copying the
 * instructions a branch displaces to a trampoline elsewhere (so a patch can
 * call the original function), and finding branches that land inside the
 * displaced bytes.  With regs.c (register contracts), the only files that
 * call capstone.
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

int ovup_arch_relocate(const uint8_t *code, size_t n, uint64_t site, size_t min_len,
		       const uint8_t *prefix, size_t nprefix, uint64_t to, uint8_t *out,
		       size_t outmax, size_t *covered, char *why, size_t whylen)
{
	cs_insn *insn = NULL;
	size_t count, i, len = 0, taken = 0;
	csh h;
	int ret = 0;

	if (open_cs(&h))
		return -ENOSYS;
	count = cs_disasm(h, code, n, site, 0, &insn);
	if (nprefix > outmax)
		ret = -ENOSPC;
	else if (nprefix)
		memcpy(out, prefix, nprefix);
	len = nprefix;
	for (i = 0; i < count && taken < min_len && !ret; i++) {
		const cs_insn *in = &insn[i];
		const cs_x86 *x = &in->detail->x86;
		uint64_t here = to + len, next_old = in->address + in->size;

		if (len + 6 + in->size > outmax) {
			ret = -ENOSPC;
			break;
		}
		if (is_rel_branch(in)) {
			uint64_t target = (uint64_t)x->operands[0].imm;
			uint8_t op = in->bytes[0];

			if (target >= site && target < site + min_len) {
				snprintf(why, whylen, "'%s %s' at +0x%llx branches into the bytes the jump "
						      "replaces",
					 in->mnemonic, in->op_str, (unsigned long long)(in->address - site));
				ret = -ENOTSUP;
			} else if (op == 0xeb || op == 0xe9) { /* jmp rel8/rel32 */
				out[len] = 0xe9;
				ret = put_rel32(out + len + 1, here + 5, target);
				len += 5;
			} else if (op == 0xe8) { /* call rel32 */
				out[len] = 0xe8;
				ret = put_rel32(out + len + 1, here + 5, target);
				len += 5;
			} else if (op >= 0x70 && op <= 0x7f) { /* jcc rel8 */
				out[len] = 0x0f;
				out[len + 1] = (uint8_t)(0x80 + (op - 0x70));
				ret = put_rel32(out + len + 2, here + 6, target);
				len += 6;
			} else if (op == 0x0f && in->size == 6) { /* jcc rel32 */
				out[len] = 0x0f;
				out[len + 1] = in->bytes[1];
				ret = put_rel32(out + len + 2, here + 6, target);
				len += 6;
			} else {
				snprintf(why, whylen, "'%s %s' at +0x%llx (a short loop branch) cannot be "
						      "moved",
					 in->mnemonic, in->op_str, (unsigned long long)(in->address - site));
				ret = -ENOTSUP;
			}
			if (ret == -ERANGE)
				snprintf(why, whylen, "'%s %s' would not reach its target from the trampoline",
					 in->mnemonic, in->op_str);
		} else if (x->encoding.disp_offset && x->op_count &&
			   ((x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_RIP) ||
			    (x->op_count > 1 && x->operands[1].type == X86_OP_MEM &&
			     x->operands[1].mem.base == X86_REG_RIP))) {
			/* RIP-relative: same target, new displacement */
			uint64_t target = next_old + (uint64_t)x->disp;

			memcpy(out + len, in->bytes, in->size);
			if (x->encoding.disp_size != 4 ||
			    put_rel32(out + len + x->encoding.disp_offset, here + in->size, target)) {
				snprintf(why, whylen, "'%s %s' at +0x%llx addresses memory relative to "
						      "its place and would not reach it from the "
						      "trampoline",
					 in->mnemonic, in->op_str, (unsigned long long)(in->address - site));
				ret = -ERANGE;
			}
			len += in->size;
		} else {
			memcpy(out + len, in->bytes, in->size);
			len += in->size;
		}
		taken += in->size;
	}
	if (!ret && taken < min_len) {
		snprintf(why, whylen, "the first %zu bytes do not decode as instructions", min_len);
		ret = -EINVAL;
	}
	if (!ret) {
		/* back to the first instruction not displaced */
		out[len] = 0xe9;
		ret = put_rel32(out + len + 1, to + len + 5, site + taken);
		len += 5;
	}
	if (insn)
		cs_free(insn, count);
	cs_close(&h);
	if (ret)
		return ret;
	*covered = taken;
	return (int)len;
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
