// SPDX-License-Identifier: MIT
/*
 * Seccomp's classic BPF as the kernel runs it (kernel/seccomp.c,
 * net/core/filter.c): the instructions seccomp accepts, over struct
 * seccomp_data, every filter of a thread run and the strictest action
 * kept.  Pure code, tested by tests/unit/test_seccomp.c.
 */
#include "seccomp.h"
#include "../../util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The kernel's order of precedence: the action bits compared as a signed
 * number, lowest wins, so KILL_PROCESS (0x80000000) beats everything and
 * ALLOW (0x7fff0000) nothing (kernel/seccomp.c, ACTION_ONLY). */
static int32_t action_only(uint32_t ret)
{
	return (int32_t)(ret & SECCOMP_RET_ACTION_FULL);
}

/* Instructions seccomp accepts with any operand (seccomp_check_filter());
 * those whose operand is checked are in check_insn(). */
static const uint16_t plain_insns[] = {
	BPF_LD | BPF_W | BPF_LEN,  BPF_LDX | BPF_W | BPF_LEN, BPF_RET | BPF_K,
	BPF_RET | BPF_A,           BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_ADD | BPF_X,
	BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_SUB | BPF_X, BPF_ALU | BPF_MUL | BPF_K,
	BPF_ALU | BPF_MUL | BPF_X, BPF_ALU | BPF_DIV | BPF_X, BPF_ALU | BPF_AND | BPF_K,
	BPF_ALU | BPF_AND | BPF_X, BPF_ALU | BPF_OR | BPF_K,  BPF_ALU | BPF_OR | BPF_X,
	BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_XOR | BPF_X, BPF_ALU | BPF_LSH | BPF_X,
	BPF_ALU | BPF_RSH | BPF_X, BPF_ALU | BPF_NEG,         BPF_LD | BPF_IMM,
	BPF_LDX | BPF_IMM,         BPF_MISC | BPF_TAX,        BPF_MISC | BPF_TXA,
};

/* Instruction pc of a program of len: 0 or -EINVAL. */
static int check_insn(const struct sock_filter *f, size_t pc, size_t len)
{
	size_t i;

	switch (f->code) {
	case BPF_LD | BPF_W | BPF_ABS:
		/* aligned and inside struct seccomp_data */
		return f->k >= sizeof(struct seccomp_data) || f->k & 3 ? -EINVAL : 0;
	case BPF_ALU | BPF_DIV | BPF_K:
		return !f->k ? -EINVAL : 0;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		return f->k >= 32 ? -EINVAL : 0;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
		return f->k >= BPF_MEMWORDS ? -EINVAL : 0;
	case BPF_JMP | BPF_JA:
		return f->k >= len - pc - 1 ? -EINVAL : 0;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		/* both targets, taken or not, as bpf_check_classic() */
		return pc + f->jt + 1 >= len || pc + f->jf + 1 >= len ? -EINVAL : 0;
	}
	for (i = 0; i < OVUP_ARRAY_SIZE(plain_insns); i++)
		if (f->code == plain_insns[i])
			return 0;
	/* BPF_MOD, byte and half-word loads, packet loads, ...: seccomp
	 * refuses them */
	return -EINVAL;
}

/* No scratch word is read before every path to it wrote it: one forward
 * pass, as check_load_and_stores() (jumps only go forward). */
static int check_scratch(const struct sock_filter *insns, size_t len, size_t *bad)
{
	uint16_t *masks, memvalid = 0;
	size_t pc;
	int ret = 0;

	masks = ovup_xmalloc(len * sizeof(*masks));
	memset(masks, 0xff, len * sizeof(*masks));
	for (pc = 0; pc < len && !ret; pc++) {
		const struct sock_filter *f = &insns[pc];

		memvalid &= masks[pc];
		switch (f->code) {
		case BPF_ST:
		case BPF_STX:
			memvalid |= (uint16_t)(1u << f->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(memvalid & (1u << f->k))) {
				*bad = pc;
				ret = -EINVAL;
			}
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + f->k] &= memvalid;
			memvalid = 0xffff;
			break;
		default:
			if (BPF_CLASS(f->code) == BPF_JMP) {
				masks[pc + 1 + f->jt] &= memvalid;
				masks[pc + 1 + f->jf] &= memvalid;
				memvalid = 0xffff;
			}
			break;
		}
	}
	free(masks);
	return ret;
}

int ovup_seccomp_validate(const struct sock_filter *insns, size_t len, size_t *bad)
{
	size_t pc;

	*bad = 0;
	if (!len || len > BPF_MAXINSNS)
		return -EINVAL;
	for (pc = 0; pc < len; pc++) {
		*bad = pc;
		if (check_insn(&insns[pc], pc, len))
			return -EINVAL;
	}
	*bad = len - 1;
	if (insns[len - 1].code != (BPF_RET | BPF_K) && insns[len - 1].code != (BPF_RET | BPF_A))
		return -EINVAL;
	return check_scratch(insns, len, bad);
}

/* The interpreter is one switch over the opcodes seccomp accepts, a case
 * and its statement per opcode, as the kernel's: read as a table, it is
 * longer than 60 lines, and cut in pieces it would be harder to compare
 * with the kernel's. */
int ovup_seccomp_run(const struct sock_filter *insns, size_t len, const struct seccomp_data *d,
		     uint32_t *ret)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	unsigned char data[sizeof(*d)];
	size_t pc, bad;

	/* validated first, so the loop below cannot read or jump out of
	 * range, whatever the target's memory held */
	if (ovup_seccomp_validate(insns, len, &bad))
		return -EINVAL;
	memcpy(data, d, sizeof(data));
	for (pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &insns[pc];
		uint32_t k = f->k;

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			memcpy(&a, data + k, sizeof(a)); /* native order, as the kernel */
			break;
		case BPF_LD | BPF_W | BPF_LEN:
			a = sizeof(struct seccomp_data);
			break;
		case BPF_LDX | BPF_W | BPF_LEN:
			x = sizeof(struct seccomp_data);
			break;
		case BPF_LD | BPF_IMM:
			a = k;
			break;
		case BPF_LDX | BPF_IMM:
			x = k;
			break;
		case BPF_LD | BPF_MEM:
			a = mem[k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[k];
			break;
		case BPF_ST:
			mem[k] = a;
			break;
		case BPF_STX:
			mem[k] = x;
			break;
		case BPF_ALU | BPF_ADD | BPF_K:
			a += k;
			break;
		case BPF_ALU | BPF_ADD | BPF_X:
			a += x;
			break;
		case BPF_ALU | BPF_SUB | BPF_K:
			a -= k;
			break;
		case BPF_ALU | BPF_SUB | BPF_X:
			a -= x;
			break;
		case BPF_ALU | BPF_MUL | BPF_K:
			a *= k;
			break;
		case BPF_ALU | BPF_MUL | BPF_X:
			a *= x;
			break;
		case BPF_ALU | BPF_DIV | BPF_K:
			a /= k;
			break;
		case BPF_ALU | BPF_DIV | BPF_X:
			if (!x) {
				/* the converted program returns 0 here: a
				 * division by zero kills the thread */
				*ret = 0;
				return 0;
			}
			a /= x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_ALU | BPF_AND | BPF_X:
			a &= x;
			break;
		case BPF_ALU | BPF_OR | BPF_K:
			a |= k;
			break;
		case BPF_ALU | BPF_OR | BPF_X:
			a |= x;
			break;
		case BPF_ALU | BPF_XOR | BPF_K:
			a ^= k;
			break;
		case BPF_ALU | BPF_XOR | BPF_X:
			a ^= x;
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
			a <<= k;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			a >>= k;
			break;
		/* the eBPF interpreter and the x86 JIT use the low 5 bits */
		case BPF_ALU | BPF_LSH | BPF_X:
			a <<= x & 31;
			break;
		case BPF_ALU | BPF_RSH | BPF_X:
			a >>= x & 31;
			break;
		case BPF_ALU | BPF_NEG:
			a = -a;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JEQ | BPF_X:
			pc += a == x ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_X:
			pc += a > x ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_X:
			pc += a >= x ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += a & k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_X:
			pc += a & x ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			*ret = k;
			return 0;
		case BPF_RET | BPF_A:
			*ret = a;
			return 0;
		default:
			return -EINVAL; /* not reached: validated */
		}
	}
	return -EINVAL; /* not reached: the last instruction returns */
}

int ovup_seccomp_eval(const struct ovup_seccomp_prog *progs, size_t n, const struct seccomp_data *d,
		      uint32_t *action, size_t *bad)
{
	uint32_t ret = SECCOMP_RET_ALLOW, cur;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ovup_seccomp_run(progs[i].insns, progs[i].len, d, &cur)) {
			*bad = i;
			return -EINVAL;
		}
		/* strictly lower: at equal precedence the newer filter,
		 * seen first, keeps its data (the errno) */
		if (action_only(cur) < action_only(ret))
			ret = cur;
	}
	*action = ret;
	return 0;
}

int ovup_seccomp_allowed(uint32_t action)
{
	uint32_t a = action & SECCOMP_RET_ACTION_FULL;

	return a == SECCOMP_RET_ALLOW || a == SECCOMP_RET_LOG;
}
