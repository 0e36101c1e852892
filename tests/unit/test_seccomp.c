// SPDX-License-Identifier: MIT
/* Unit tests of the seccomp interpreter: the instructions, what the kernel
 * would refuse to install, combining filters, systemd's
 * MemoryDenyWriteExecute rules, and filters on instruction_pointer and
 * arguments. */
#include "target/process/seccomp.h"
#include "tap.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif

#define AUDIT_X86_64 0xc000003eu
#define AUDIT_I386 0x40000003u
#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define OFF_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI (OFF_IP_LO + 4)
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define OFF_ARG_HI(i) (OFF_ARG_LO(i) + 4)

static struct seccomp_data data(int nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct seccomp_data d = { .nr = nr, .arch = AUDIT_X86_64, .instruction_pointer = 0x401002 };

	d.args[0] = a0;
	d.args[1] = a1;
	d.args[2] = a2;
	return d;
}

/* one program's result, or 0xdeadbeef when it cannot be run */
static uint32_t run(const struct sock_filter *f, size_t n, const struct seccomp_data *d)
{
	uint32_t r;

	return ovup_seccomp_run(f, n, d, &r) ? 0xdeadbeefu : r;
}

static int valid(const struct sock_filter *f, size_t n)
{
	size_t bad;

	return ovup_seccomp_validate(f, n, &bad) == 0;
}

/* systemd's MemoryDenyWriteExecute= (src/shared/seccomp-util.c,
 * seccomp_memory_deny_write_execute) as libseccomp compiles it for
 * x86-64: other architectures get their own filter, so they pass here. */
static const struct sock_filter mdwe[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_X86_64, 0, 15),
	/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 13, 0), /* x32: not ours */
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 4, 0),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 6, 0),
	/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 5, 0),
	/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_shmat, 6, 0),
	/* 8 */ BPF_STMT(BPF_JMP | BPF_JA, 8),
	/* mmap: (prot & (PROT_WRITE|PROT_EXEC)) == both, on the 64-bit
	 * argument: the high word masked with 0 always matches */
	/* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(2)),
	/* 10 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 4, 5),
	/* mprotect, pkey_mprotect: prot & PROT_EXEC */
	/* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(2)),
	/* 13 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 2, 3),
	/* shmat: shmflg & SHM_EXEC */
	/* 14 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(2)),
	/* 15 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SHM_EXEC, 0, 1),
	/* 16 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	/* 17 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

/* The same rules as libseccomp 2.5.4 (Debian 12) compiles them
 * (seccomp_rule_add with SCMP_CMP_MASKED_EQ on arg 2, seccomp_export_bpf):
 * the high word of each argument compared too, the x32 range refused, and
 * a foreign architecture killed (its default, which systemd leaves). */
static const struct sock_filter mdwe_libseccomp[] = {
	/*  0 */ { 0x20, 0, 0, 0x00000004 },  /*  1 */ { 0x15, 0, 27, 0xc000003e },
	/*  2 */ { 0x20, 0, 0, 0x00000000 },  /*  3 */ { 0x35, 0, 1, 0x40000000 },
	/*  4 */ { 0x15, 0, 24, 0xffffffff }, /*  5 */ { 0x15, 0, 6, 0x00000009 },
	/*  6 */ { 0x20, 0, 0, 0x00000024 },  /*  7 */ { 0x54, 0, 0, 0x00000000 },
	/*  8 */ { 0x15, 0, 18, 0x00000000 }, /*  9 */ { 0x20, 0, 0, 0x00000020 },
	/* 10 */ { 0x54, 0, 0, 0x00000006 },  /* 11 */ { 0x15, 16, 15, 0x00000006 },
	/* 12 */ { 0x15, 8, 0, 0x0000000a },  /* 13 */ { 0x15, 0, 6, 0x0000001e },
	/* 14 */ { 0x20, 0, 0, 0x00000024 },  /* 15 */ { 0x54, 0, 0, 0x00000000 },
	/* 16 */ { 0x15, 0, 10, 0x00000000 }, /* 17 */ { 0x20, 0, 0, 0x00000020 },
	/* 18 */ { 0x54, 0, 0, 0x00008000 },  /* 19 */ { 0x15, 8, 7, 0x00008000 },
	/* 20 */ { 0x15, 0, 6, 0x00000149 },  /* 21 */ { 0x20, 0, 0, 0x00000024 },
	/* 22 */ { 0x54, 0, 0, 0x00000000 },  /* 23 */ { 0x15, 0, 3, 0x00000000 },
	/* 24 */ { 0x20, 0, 0, 0x00000020 },  /* 25 */ { 0x54, 0, 0, 0x00000004 },
	/* 26 */ { 0x15, 1, 0, 0x00000004 },  /* 27 */ { 0x06, 0, 0, 0x7fff0000 },
	/* 28 */ { 0x06, 0, 0, 0x00050001 },  /* 29 */ { 0x06, 0, 0, 0x00000000 },
};

static void test_validate(void)
{
	static const struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	static const struct sock_filter no_ret[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR) };
	static const struct sock_filter past_data[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, sizeof(struct seccomp_data)),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter last_word[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, sizeof(struct seccomp_data) - 4),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter unaligned[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter byte_load[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter ind_load[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter mod[] = {
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter div0[] = {
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter shift32[] = {
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter jump_out[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static const struct sock_filter jump_out_untaken[] = {
		/* A is 0 so jt is taken, but jf leads outside: refused anyway */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static const struct sock_filter ja_out[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static const struct sock_filter ja_huge[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 0xffffffffu),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static const struct sock_filter st16[] = {
		BPF_STMT(BPF_ST, BPF_MEMWORDS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static const struct sock_filter uninit[] = {
		BPF_STMT(BPF_LD | BPF_MEM, 3),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter half_init[] = {
		/* the scratch word is written on one path only */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
		BPF_STMT(BPF_ST, 0),
		BPF_STMT(BPF_LDX | BPF_MEM, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter both_init[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2),
		BPF_STMT(BPF_ST, 0),
		BPF_STMT(BPF_JMP | BPF_JA, 1),
		BPF_STMT(BPF_STX, 0),
		BPF_STMT(BPF_LDX | BPF_MEM, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter ret_x[] = { BPF_STMT(BPF_RET | BPF_X, 0) };
	static const struct sock_filter ld_h_imm[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_IMM, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter *big = calloc(BPF_MAXINSNS + 1, sizeof(*big));
	struct seccomp_data d = data(SYS_mmap, 0, 0, 0);
	size_t i, bad;

	ok(valid(allow, LEN(allow)), "RET ALLOW alone is a program");
	ok(!valid(allow, 0), "must fail: an empty program");
	ok(!valid(no_ret, LEN(no_ret)), "must fail: no return at the end");
	ok(!valid(past_data, LEN(past_data)), "must fail: a load past struct seccomp_data");
	ok(valid(last_word, LEN(last_word)), "a load of its last word is fine");
	ok(!valid(unaligned, LEN(unaligned)), "must fail: an unaligned load");
	ok(!valid(byte_load, LEN(byte_load)), "must fail: a byte load (seccomp takes words only)");
	ok(!valid(ind_load, LEN(ind_load)), "must fail: an indirect load");
	ok(!valid(mod, LEN(mod)), "must fail: BPF_MOD (seccomp does not take it)");
	ok(!valid(div0, LEN(div0)), "must fail: division by the constant 0");
	ok(!valid(shift32, LEN(shift32)), "must fail: a shift by 32");
	ok(!valid(jump_out, LEN(jump_out)), "must fail: a conditional jump past the end");
	ok(!valid(jump_out_untaken, LEN(jump_out_untaken)),
	   "must fail: a jump past the end, even on the branch not taken");
	ok(!valid(ja_out, LEN(ja_out)), "must fail: JA past the end");
	ok(!valid(ja_huge, LEN(ja_huge)), "must fail: JA by 2^32-1 (no wrap-around)");
	ok(!valid(st16, LEN(st16)), "must fail: scratch word 16");
	ok(!valid(uninit, LEN(uninit)), "must fail: reading a scratch word never written");
	ovup_seccomp_validate(half_init, LEN(half_init), &bad);
	ok(!valid(half_init, LEN(half_init)) && bad == 3,
	   "must fail: a scratch word written on one path only (at its load, 3)");
	ok(valid(both_init, LEN(both_init)), "a scratch word written on both paths");
	ok(!valid(ret_x, LEN(ret_x)), "must fail: RET X");
	ok(!valid(ld_h_imm, LEN(ld_h_imm)), "must fail: LD IMM with a size (exact codes only)");
	for (i = 0; i < BPF_MAXINSNS + 1; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	ok(valid(big, BPF_MAXINSNS), "BPF_MAXINSNS instructions");
	ok(!valid(big, BPF_MAXINSNS + 1), "must fail: one more");
	free(big);
	is_int(run(uninit, LEN(uninit), &d), 0xdeadbeefu,
	       "a program that fails validation is not run");
}

/* each conditional jump, taken and not: A = args[0], X = args[1]; the
 * program returns 1 when the jump's condition holds */
static void test_jumps(void)
{
	static const struct {
		uint16_t op;
		uint32_t k, a, x, want;
	} cases[] = {
		{ BPF_JEQ | BPF_K, 7, 7, 0, 1 },
		{ BPF_JEQ | BPF_K, 7, 8, 0, 0 },
		{ BPF_JEQ | BPF_X, 0, 7, 7, 1 },
		{ BPF_JEQ | BPF_X, 0, 7, 8, 0 },
		{ BPF_JGT | BPF_K, 7, 8, 0, 1 },
		{ BPF_JGT | BPF_K, 7, 7, 0, 0 },
		{ BPF_JGT | BPF_X, 0, 8, 7, 1 },
		{ BPF_JGT | BPF_X, 0, 7, 7, 0 },
		{ BPF_JGE | BPF_K, 7, 7, 0, 1 },
		{ BPF_JGE | BPF_K, 7, 6, 0, 0 },
		{ BPF_JGE | BPF_X, 0, 7, 7, 1 },
		{ BPF_JGE | BPF_X, 0, 6, 7, 0 },
		{ BPF_JSET | BPF_K, 0x80, 0x81, 0, 1 },
		{ BPF_JSET | BPF_K, 0x80, 0x7f, 0, 0 },
		{ BPF_JSET | BPF_X, 0, 0x81, 0x80, 1 },
		{ BPF_JSET | BPF_X, 0, 0x81, 0x40, 0 },
		/* unsigned: 0xffffffff is greater than 1 */
		{ BPF_JGT | BPF_K, 1, 0xffffffffu, 0, 1 },
	};
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(1)),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(0)),
		BPF_JUMP(BPF_JMP, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	size_t i;

	for (i = 0; i < LEN(cases); i++) {
		struct seccomp_data d = data(SYS_mmap, cases[i].a, cases[i].x, 0);

		f[3].code = BPF_JMP | cases[i].op;
		f[3].k = cases[i].k;
		is_int(run(f, LEN(f), &d), cases[i].want, "jump 0x%02x k=%u A=0x%x X=0x%x: %s",
		       f[3].code, cases[i].k, cases[i].a, cases[i].x,
		       cases[i].want ? "taken" : "not taken");
	}
}

static void test_run(void)
{
	static const struct sock_filter alu[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(0)), /* A = 7 */
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 5),            /* 12 */
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 3),            /* 36 */
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 6),            /* 30 */
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 4),            /* 7 */
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 4),            /* 0x70 */
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, 0x0f),          /* 0x7f */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3c),         /* 0x3c */
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_K, 0xff),         /* 0xc3 */
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 1),            /* 0x61 */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter alux[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 3),                    /* X = 3 */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_LO(0)), /* A = 7 */
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),            /* 10 */
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_X, 0),            /* 30 */
		BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0),            /* 27 */
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),            /* 9 */
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0),            /* 72 */
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_X, 0),            /* 9 */
		BPF_STMT(BPF_ALU | BPF_OR | BPF_X, 0),             /* 11 */
		BPF_STMT(BPF_ALU | BPF_AND | BPF_X, 0),            /* 3 */
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),            /* 0 */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter neg[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 5),
		BPF_STMT(BPF_ALU | BPF_NEG, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter len[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter regs[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 11),
		BPF_STMT(BPF_MISC | BPF_TAX, 0), /* X = 11 */
		BPF_STMT(BPF_ST, 15),            /* M[15] = 11 */
		BPF_STMT(BPF_LD | BPF_IMM, 100),
		BPF_STMT(BPF_STX, 2), /* M[2] = 11 */
		BPF_STMT(BPF_LDX | BPF_IMM, 1),
		BPF_STMT(BPF_LDX | BPF_MEM, 15),        /* X = 11 */
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), /* 111 */
		BPF_STMT(BPF_LDX | BPF_MEM, 2),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), /* 122 */
		BPF_STMT(BPF_ST, 0),
		BPF_STMT(BPF_LD | BPF_IMM, 0),
		BPF_STMT(BPF_LD | BPF_MEM, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_IMM, 0),
		BPF_STMT(BPF_MISC | BPF_TXA, 0), /* A = 122 */
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter divx0[] = {
		BPF_STMT(BPF_LD | BPF_IMM, 5),
		BPF_STMT(BPF_LDX | BPF_IMM, 0),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	static const struct sock_filter shiftx[] = {
		BPF_STMT(BPF_LDX | BPF_IMM, 33),
		BPF_STMT(BPF_LD | BPF_IMM, 1),
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	static const struct sock_filter ja[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 1),
		BPF_STMT(BPF_RET | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_K, 2),
	};
	struct seccomp_data d = data(SYS_mmap, 7, 0, 0);

	is_int(run(alu, LEN(alu), &d), 0x61,
	       "ALU with constants: ((7+5)*3-6)/4 <<4 |0xf &0x3c ^0xff >>1");
	is_int(run(alux, LEN(alux), &d), 0, "ALU with X");
	is_int(run(neg, LEN(neg), &d), (uint32_t)-5, "NEG is 32-bit two's complement");
	is_int(run(len, LEN(len), &d), 2 * sizeof(struct seccomp_data),
	       "LD/LDX LEN give the size of struct seccomp_data");
	is_int(run(regs, LEN(regs), &d), 122, "TAX, TXA, ST, STX and the scratch words");
	is_int(run(divx0, LEN(divx0), &d), SECCOMP_RET_KILL_THREAD,
	       "division by X = 0 ends the program with 0, which kills the thread");
	is_int(run(shiftx, LEN(shiftx), &d), 2, "a shift by X uses X's low 5 bits");
	is_int(run(ja, LEN(ja), &d), 2, "JA skips k instructions");
	test_jumps();
}

/* several filters: every one runs, the strictest action wins */
static void test_combine(void)
{
	static const struct {
		uint32_t a, b, want;
		const char *what;
	} cases[] = {
		{ SECCOMP_RET_ALLOW, SECCOMP_RET_LOG, SECCOMP_RET_LOG, "LOG over ALLOW" },
		{ SECCOMP_RET_LOG, SECCOMP_RET_TRACE, SECCOMP_RET_TRACE, "TRACE over LOG" },
		{ SECCOMP_RET_TRACE, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_USER_NOTIF,
		  "USER_NOTIF over TRACE" },
		{ SECCOMP_RET_USER_NOTIF, SECCOMP_RET_ERRNO | 1, SECCOMP_RET_ERRNO | 1,
		  "ERRNO over USER_NOTIF" },
		{ SECCOMP_RET_ERRNO | 1, SECCOMP_RET_TRAP, SECCOMP_RET_TRAP, "TRAP over ERRNO" },
		{ SECCOMP_RET_TRAP, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_THREAD,
		  "KILL_THREAD over TRAP" },
		{ SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS,
		  "KILL_PROCESS over KILL_THREAD (the older filter)" },
		{ SECCOMP_RET_ERRNO | EPERM, SECCOMP_RET_ERRNO | EACCES, SECCOMP_RET_ERRNO | EPERM,
		  "two ERRNOs: the newest filter's errno" },
		{ 0x7ffe0000, SECCOMP_RET_ALLOW, 0x7ffe0000, "an unknown action over ALLOW" },
	};
	struct sock_filter fa[1], fb[1];
	struct ovup_seccomp_prog p[2] = { { fa, 1 }, { fb, 1 } };
	struct seccomp_data d = data(SYS_mmap, 0, 0, 0);
	uint32_t act;
	size_t i, bad;

	for (i = 0; i < LEN(cases); i++) {
		fa[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, cases[i].a);
		fb[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, cases[i].b);
		act = 0xdeadbeef;
		is_int(ovup_seccomp_eval(p, 2, &d, &act, &bad), 0, "two filters run");
		is_int(act, cases[i].want, "%s", cases[i].what);
		/* the other order gives the same action (not for the tie) */
		p[0].insns = fb;
		p[1].insns = fa;
		ovup_seccomp_eval(p, 2, &d, &act, &bad);
		if (i != 7)
			is_int(act, cases[i].want, "... in either order");
		else
			is_int(act, SECCOMP_RET_ERRNO | EACCES,
			       "... the newest one, in the other order");
		p[0].insns = fa;
		p[1].insns = fb;
	}
	is_int(ovup_seccomp_eval(p, 0, &d, &act, &bad), 0, "no filter at all");
	is_int(act, SECCOMP_RET_ALLOW, "... allows");
	fb[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_X, 0);
	is_int(ovup_seccomp_eval(p, 2, &d, &act, &bad), -EINVAL,
	       "must fail: a filter that cannot run");
	is_int(bad, 1, "... names which");

	ok(ovup_seccomp_allowed(SECCOMP_RET_ALLOW), "ALLOW is allowed");
	ok(ovup_seccomp_allowed(SECCOMP_RET_LOG | 5), "LOG is allowed");
	ok(!ovup_seccomp_allowed(SECCOMP_RET_TRACE),
	   "must fail: TRACE (ovup is no seccomp tracer)");
	ok(!ovup_seccomp_allowed(SECCOMP_RET_USER_NOTIF), "must fail: USER_NOTIF");
	ok(!ovup_seccomp_allowed(SECCOMP_RET_ERRNO), "must fail: ERRNO 0 (skips the call)");
	ok(!ovup_seccomp_allowed(SECCOMP_RET_TRAP), "must fail: TRAP");
	ok(!ovup_seccomp_allowed(SECCOMP_RET_KILL_THREAD), "must fail: KILL_THREAD");
	ok(!ovup_seccomp_allowed(SECCOMP_RET_KILL_PROCESS), "must fail: KILL_PROCESS");
	ok(!ovup_seccomp_allowed(0x7ffe0000), "must fail: an unknown action");
}

static const struct sock_filter *mdwe_prog = mdwe;
static size_t mdwe_len = LEN(mdwe);

static uint32_t mdwe_eval(int nr, uint64_t prot)
{
	struct ovup_seccomp_prog p = { (struct sock_filter *)mdwe_prog, mdwe_len };
	struct seccomp_data d = data(nr, 0x7f0000000000ull, 4096, prot);
	uint32_t act = 0xdeadbeef;
	size_t bad;

	if (ovup_seccomp_eval(&p, 1, &d, &act, &bad))
		return 0xdeadbeef;
	return act;
}

static void test_mdwe(const char *how)
{
	const uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
	struct ovup_seccomp_prog p = { (struct sock_filter *)mdwe_prog, mdwe_len };
	struct seccomp_data d;
	uint32_t act;
	size_t bad;

	ok(valid(mdwe_prog, mdwe_len), "%s: a valid program", how);
	is_int(mdwe_eval(SYS_mmap, PROT_READ | PROT_EXEC), SECCOMP_RET_ALLOW,
	       "%s allows mmap(PROT_READ|PROT_EXEC) (ovup's code block)", how);
	is_int(mdwe_eval(SYS_mmap, PROT_READ), SECCOMP_RET_ALLOW, "%s allows mmap(PROT_READ)", how);
	is_int(mdwe_eval(SYS_mmap, PROT_READ | PROT_WRITE), SECCOMP_RET_ALLOW,
	       "%s allows mmap(PROT_READ|PROT_WRITE)", how);
	is_int(mdwe_eval(SYS_mmap, PROT_READ | PROT_WRITE | PROT_EXEC), eperm,
	       "must fail: %s denies mmap(PROT_READ|PROT_WRITE|PROT_EXEC) with EPERM", how);
	is_int(mdwe_eval(SYS_mmap, PROT_WRITE | PROT_EXEC), eperm,
	       "must fail: %s denies mmap(PROT_WRITE|PROT_EXEC)", how);
	is_int(mdwe_eval(SYS_mprotect, PROT_READ | PROT_WRITE), SECCOMP_RET_ALLOW,
	       "%s allows mprotect(PROT_READ|PROT_WRITE) (ovup's data block)", how);
	is_int(mdwe_eval(SYS_mprotect, PROT_READ), SECCOMP_RET_ALLOW,
	       "%s allows mprotect(PROT_READ)", how);
	is_int(mdwe_eval(SYS_mprotect, PROT_READ | PROT_EXEC), eperm,
	       "must fail: %s denies mprotect(PROT_READ|PROT_EXEC), even of code already r-x", how);
	is_int(mdwe_eval(SYS_pkey_mprotect, PROT_EXEC), eperm,
	       "must fail: %s denies pkey_mprotect(PROT_EXEC)", how);
	is_int(mdwe_eval(SYS_pkey_mprotect, PROT_READ), SECCOMP_RET_ALLOW,
	       "%s allows pkey_mprotect(PROT_READ)", how);
	is_int(mdwe_eval(SYS_shmat, SHM_EXEC), eperm, "must fail: %s denies shmat(SHM_EXEC)", how);
	is_int(mdwe_eval(SYS_shmat, SHM_RDONLY), SECCOMP_RET_ALLOW, "%s allows shmat(SHM_RDONLY)",
	       how);
	is_int(mdwe_eval(SYS_munmap, 0), SECCOMP_RET_ALLOW, "%s allows munmap", how);
	is_int(mdwe_eval(SYS_memfd_create, 0), SECCOMP_RET_ALLOW, "%s allows memfd_create", how);
	d = data(SYS_mprotect, 0, 4096, PROT_EXEC);
	d.arch = AUDIT_I386;
	ovup_seccomp_eval(&p, 1, &d, &act, &bad);
	if (mdwe_prog == mdwe)
		is_int(act, SECCOMP_RET_ALLOW, "%s: another architecture is not judged here", how);
	else
		is_int(act, SECCOMP_RET_KILL_THREAD, "%s: another architecture is killed", how);
}

/* filters that decide on instruction_pointer and on 64-bit arguments */
static void test_ip_args(void)
{
	/* mmap only from the page 0x7fff12345000 (say, libc's syscall
	 * wrapper); everything else from anywhere */
	static const struct sock_filter by_ip[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_IP_HI),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x7fff, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_IP_LO),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xfffff000u),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x12345000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	/* munmap of addresses >= 2^32 fails; the high word decides */
	static const struct sock_filter by_arg[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARG_HI(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
	};
	struct seccomp_data d = data(SYS_mmap, 0, 4096, PROT_READ);

	d.instruction_pointer = 0x7fff12345abcull;
	is_int(run(by_ip, LEN(by_ip), &d), SECCOMP_RET_ALLOW, "mmap from the allowed page");
	d.instruction_pointer = 0x7ffe12345abcull;
	is_int(run(by_ip, LEN(by_ip), &d), SECCOMP_RET_KILL_PROCESS,
	       "must fail: mmap from another place (only the high word differs)");
	d.instruction_pointer = 0x7fff12346002ull;
	is_int(run(by_ip, LEN(by_ip), &d), SECCOMP_RET_KILL_PROCESS,
	       "must fail: mmap from the next page (ovup's syscall instruction elsewhere)");
	d.nr = SYS_mprotect;
	is_int(run(by_ip, LEN(by_ip), &d), SECCOMP_RET_ALLOW, "mprotect from anywhere");
	d = data(SYS_munmap, 0xfffff000ull, 4096, 0);
	is_int(run(by_arg, LEN(by_arg), &d), SECCOMP_RET_ALLOW, "munmap below 4 GiB");
	d = data(SYS_munmap, 0x7f00fffff000ull, 4096, 0);
	is_int(run(by_arg, LEN(by_arg), &d), SECCOMP_RET_ERRNO | EACCES,
	       "must fail: munmap above 4 GiB (the low word alone would pass)");
}

static void test_describe(void)
{
	uint64_t rx[6] = { 0, 4096, PROT_READ | PROT_EXEC }, none[6] = { 0 };
	char b[160];

	ovup_seccomp_describe(SECCOMP_RET_KILL_PROCESS, SYS_mmap, rx, b, sizeof(b));
	is_str(b, "kill the process on mmap(PROT_READ|PROT_EXEC) (SECCOMP_RET_KILL_PROCESS)",
	       "KILL_PROCESS on mmap is described with its protection");
	ovup_seccomp_describe(SECCOMP_RET_ERRNO | EPERM, SYS_mprotect, rx, b, sizeof(b));
	is_str(b, "fail mprotect(PROT_READ|PROT_EXEC) with EPERM (SECCOMP_RET_ERRNO)",
	       "ERRNO names the errno");
	ovup_seccomp_describe(SECCOMP_RET_ERRNO, SYS_munmap, none, b, sizeof(b));
	is_str(b, "skip munmap and return 0 (SECCOMP_RET_ERRNO)",
	       "ERRNO 0 says the call is skipped");
	ovup_seccomp_describe(SECCOMP_RET_TRAP, SYS_mprotect, none, b, sizeof(b));
	is_str(b, "send SIGSYS on mprotect(PROT_NONE) (SECCOMP_RET_TRAP)", "TRAP");
	ovup_seccomp_describe(SECCOMP_RET_KILL_THREAD, SYS_memfd_create, none, b, sizeof(b));
	has_str(b, "kill the thread on memfd_create", "KILL_THREAD");
	ovup_seccomp_describe(SECCOMP_RET_USER_NOTIF, SYS_close, none, b, sizeof(b));
	has_str(b, "SECCOMP_RET_USER_NOTIF", "USER_NOTIF");
	ovup_seccomp_describe(SECCOMP_RET_TRACE, 12345, none, b, sizeof(b));
	is_str(b, "hand syscall 12345 to a tracer (SECCOMP_RET_TRACE)",
	       "TRACE, an unnamed syscall");
	ovup_seccomp_describe(0x00010000, SYS_mmap, rx, b, sizeof(b));
	has_str(b, "kill the process on mmap(PROT_READ|PROT_EXEC) (unknown action 0x00010000)",
		"an unknown action kills");
}

static void test_injected(void)
{
	struct ovup_seccomp_call c[16];
	size_t n = ovup_seccomp_injected(0x1002, c, 16), i;
	int seen_rx = 0, seen_r = 0, seen_rw = 0, seen_ro = 0, others = 0;

	for (i = 0; i < n; i++) {
		ok(c[i].ip == 0x1002, "call %zu at the given instruction pointer", i);
		if (c[i].nr == SYS_mmap) {
			seen_rx |= c[i].args[2] == (PROT_READ | PROT_EXEC);
			seen_r |= c[i].args[2] == PROT_READ;
		} else if (c[i].nr == SYS_mprotect) {
			seen_rw |= c[i].args[2] == (PROT_READ | PROT_WRITE);
			seen_ro |= c[i].args[2] == PROT_READ;
			ok(!(c[i].args[2] & PROT_EXEC), "no mprotect to exec in the list");
		} else {
			others |= c[i].nr == SYS_munmap         ? 1
				  : c[i].nr == SYS_memfd_create ? 2
				  : c[i].nr == SYS_ftruncate    ? 4
				  : c[i].nr == SYS_close        ? 8
				  : c[i].nr == SYS_rt_sigreturn ? 16
								: 0;
		}
	}
	ok(seen_rx && seen_r, "the list maps code r-x and data r--");
	ok(seen_rw && seen_ro, "the list protects data rw- and r--");
	is_int(others, 31, "munmap, memfd_create, ftruncate, close and rt_sigreturn are in it");
	is_int(ovup_seccomp_injected(0, c, 2), 2, "the list is cut to the room given");
	/* the MDWE filter lets every one of them through */
	for (i = 0, n = ovup_seccomp_injected(0x1002, c, 16); i < n; i++)
		if (!ovup_seccomp_allowed(mdwe_eval((int)c[i].nr, c[i].args[2])))
			break;
	is_int(i, n, "systemd's MemoryDenyWriteExecute allows everything in the list");
}

/* random programs: whatever the target's memory held, validation and the
 * interpreter never read or jump out of bounds (ASan watches) */
static void test_random(void)
{
	static const uint16_t codes[] = {
		BPF_LD | BPF_W | BPF_ABS,
		BPF_LD | BPF_W | BPF_LEN,
		BPF_LDX | BPF_W | BPF_LEN,
		BPF_LD | BPF_IMM,
		BPF_LDX | BPF_IMM,
		BPF_LD | BPF_MEM,
		BPF_LDX | BPF_MEM,
		BPF_ST,
		BPF_STX,
		BPF_ALU | BPF_ADD | BPF_X,
		BPF_ALU | BPF_DIV | BPF_X,
		BPF_ALU | BPF_DIV | BPF_K,
		BPF_ALU | BPF_LSH | BPF_X,
		BPF_ALU | BPF_RSH | BPF_K,
		BPF_ALU | BPF_NEG,
		BPF_MISC | BPF_TAX,
		BPF_MISC | BPF_TXA,
		BPF_JMP | BPF_JA,
		BPF_JMP | BPF_JEQ | BPF_K,
		BPF_JMP | BPF_JGT | BPF_X,
		BPF_JMP | BPF_JSET | BPF_K,
		BPF_RET | BPF_K,
		BPF_RET | BPF_A,
		BPF_LD | BPF_B | BPF_ABS,
		0xffff,
	};
	struct sock_filter f[12];
	struct seccomp_data d = data(SYS_mmap, 1, 2, 3);
	uint64_t seed = 42;
	unsigned runs = 0, valids = 0, agree = 1, i, j;
	uint32_t r;
	size_t bad;

	for (i = 0; i < 200000; i++) {
		size_t n = 1 + (size_t)(seed >> 33) % LEN(f);

		for (j = 0; j < n; j++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			f[j].code = codes[(seed >> 33) % LEN(codes)];
			f[j].jt = (uint8_t)(seed >> 20) % 4;
			f[j].jf = (uint8_t)(seed >> 24) % 4;
			f[j].k = (seed >> 40) % 3 ? (uint32_t)(seed >> 28) % 80
						  : (uint32_t)(seed >> 16);
		}
		if (!ovup_seccomp_validate(f, n, &bad)) {
			valids++;
			agree &= ovup_seccomp_run(f, n, &d, &r) == 0;
		} else {
			agree &= ovup_seccomp_run(f, n, &d, &r) == -EINVAL && bad < n;
		}
		runs++;
	}
	ok(agree, "%u random programs: valid ones run to a return, others are refused", runs);
	ok(valids > 100, "... %u of them valid", valids);
}

int main(void)
{
	test_validate();
	test_run();
	test_combine();
	test_mdwe("systemd's MemoryDenyWriteExecute");
	mdwe_prog = mdwe_libseccomp;
	mdwe_len = LEN(mdwe_libseccomp);
	test_mdwe("... as libseccomp compiles it");
	mdwe_prog = mdwe;
	mdwe_len = LEN(mdwe);
	test_ip_args();
	test_describe();
	test_injected();
	test_random();
	return tap_done();
}
