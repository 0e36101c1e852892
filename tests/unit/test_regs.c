// SPDX-License-Identifier: MIT
/* Unit tests of register contracts: the registers hand-assembled code may
 * write (capstone), which way each side errs where it cannot know, and the
 * wrapper - its bytes, and the wrapper run for real around a function that
 * clobbers every call-clobbered register. */
#define _GNU_SOURCE
#include "arch/arch.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* ---- a fake address space for the analysis ---- */

struct fn {
	uint64_t start;
	const uint8_t *code;
	size_t size;
	int whole;
};
static struct fn space[16];
static size_t nspace;
static uint64_t got_slot, got_value; /* one constant, like the patch's GOT */

static void reset(void)
{
	nspace = 0;
	got_slot = 0;
}

static void put(uint64_t start, const uint8_t *code, size_t size, int whole)
{
	space[nspace++] = (struct fn){ start, code, size, whole };
}

static int code_at(void *ctx, uint64_t a, struct ovup_arch_code *out)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < nspace; i++)
		if (a >= space[i].start && a < space[i].start + space[i].size) {
			out->start = space[i].whole ? space[i].start : a;
			out->code = space[i].code + (out->start - space[i].start);
			out->size = space[i].size - (out->start - space[i].start);
			out->whole = space[i].whole;
			return 0;
		}
	return -ENOENT;
}

static int constant_at(void *ctx, uint64_t a, uint64_t *v)
{
	(void)ctx;
	if (!got_slot || a != got_slot)
		return -ENOENT;
	*v = got_value;
	return 0;
}

static const struct ovup_arch_code_src src = { code_at, constant_at, NULL, NULL };
static const struct ovup_arch_machine m512 = { 64, 8 }, m128 = { 16, 0 }, m256 = { 32, 0 };

static ovup_regset run(uint64_t entry, enum ovup_arch_side side, unsigned budget, char *why)
{
	struct ovup_arch_clobbers c;

	if (ovup_arch_clobbers(&m512, entry, side, &src, budget, &c))
		return 0xdead;
	if (why)
		snprintf(why, 192, "%s", c.why);
	return c.regs;
}

static const char *fmt(ovup_regset s)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	ovup_arch_regs_format(s, buf[k], sizeof(buf[k]));
	return buf[k];
}

#define IS_REGS(got, want, ...) is_str(fmt(got), want, __VA_ARGS__)

/* rel32 of a call at `at` to `to` */
static void put_rel(uint8_t *p, uint64_t at, uint64_t to)
{
	int32_t r = (int32_t)(to - (at + 5));

	p[1] = (uint8_t)r;
	p[2] = (uint8_t)(r >> 8);
	p[3] = (uint8_t)(r >> 16);
	p[4] = (uint8_t)(r >> 24);
}

static void test_analysis(void)
{
	char why[192];
	ovup_regset abi = ovup_arch_regs_abi(&m512);
	/* lea (%rdi,%rdi,2),%eax; ret */
	static const uint8_t lea3[] = { 0x8d, 0x04, 0x7f, 0xc3 };
	/* mov %edi,%ecx; shl $1,%ecx; lea (%rcx,%rdi),%eax; ret */
	static const uint8_t shifty[] = { 0x89, 0xf9, 0xd1, 0xe1, 0x8d, 0x04, 0x39, 0xc3 };
	/* mov $1,%r8b; movb $2,%ah; mov %ah,%bl; ret */
	static const uint8_t subreg[] = { 0x41, 0xb0, 0x01, 0xb4, 0x02, 0x88, 0xe3, 0xc3 };
	/* div %rcx; rep movsb; cpuid; ret */
	static const uint8_t implicit[] = { 0x48, 0xf7, 0xf1, 0xf3, 0xa4, 0x0f, 0xa2, 0xc3 };
	/* syscall; ret */
	static const uint8_t sysc[] = { 0x0f, 0x05, 0xc3 };
	/* cmpxchg %r8,(%rdi); ret */
	static const uint8_t cmpx[] = { 0x4c, 0x0f, 0xb1, 0x07, 0xc3 };
	/* xlat; ret */
	static const uint8_t xlat[] = { 0xd7, 0xc3 };
	/* vmovdqu (%rdi),%ymm3; vpxord %zmm1,%zmm2,%zmm20; kmovw %eax,%k1; ret */
	static const uint8_t vec[] = { 0xc5, 0xfe, 0x6f, 0x1f, 0x62, 0xe1, 0x6d, 0x48,
				       0xef, 0xe1, 0xc5, 0xf8, 0x92, 0xc8, 0xc3 };
	/* vzeroupper; ret */
	static const uint8_t vzu[] = { 0xc5, 0xf8, 0x77, 0xc3 };
	/* vpgatherdd %xmm1,(%rax,%xmm2,4),%xmm3; ret */
	static const uint8_t gather[] = { 0xc4, 0xe2, 0x71, 0x90, 0x1c, 0x90, 0xc3 };
	/* cld; ret */
	static const uint8_t cld[] = { 0xfc, 0xc3 };
	/* fldz; fstp %st(0); movq %rax,%mm1; emms; ret */
	static const uint8_t x87[] = { 0xd9, 0xee, 0xdd, 0xd8, 0x48, 0x0f,
				       0x6e, 0xc8, 0x0f, 0x77, 0xc3 };
	/* call *%rax; ret */
	static const uint8_t indcall[] = { 0xff, 0xd0, 0xc3 };
	/* xor %r9d,%r9d; jmp *%rax */
	static const uint8_t indjmp[] = { 0x45, 0x31, 0xc9, 0xff, 0xe0 };
	/* xrstor (%rdi); ret */
	static const uint8_t xrstor[] = { 0x0f, 0xae, 0x2f, 0xc3 };
	/* int $0x80; ret */
	static const uint8_t int80[] = { 0xcd, 0x80, 0xc3 };
	/* endbr64; bnd jmp *0x2f00(%rip): a .plt.sec stub */
	static const uint8_t plt[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff,
				       0x25, 0x00, 0x2f, 0x00, 0x00 };
	/* xor %eax,%eax; ret */
	static const uint8_t unk[] = { 0x31, 0xc0, 0xc3 };
	/* xor %ecx,%ecx; (06: invalid in 64-bit mode); mov %r10,%r11; ret */
	static const uint8_t bad[] = { 0x31, 0xc9, 0x06, 0x4d, 0x89, 0xd3, 0xc3 };
	/* mov %edi,%r10d; call REL; ret   and   xor %edx,%edx; jmp REL */
	uint8_t caller[] = { 0x41, 0x89, 0xfa, 0xe8, 0, 0, 0, 0, 0xc3 };
	uint8_t tail[] = { 0x31, 0xd2, 0xe9, 0, 0, 0, 0 };
	/* mov %edi,%esi; call *0x100(%rip); ret */
	static const uint8_t gotcall[] = { 0x89, 0xfe, 0xff, 0x15, 0x00, 0x01, 0x00, 0x00, 0xc3 };

	/* one function, explicit writes */
	reset();
	put(0x1000, lea3, sizeof(lea3), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 8, NULL), "rax",
		"lea into eax writes rax (and no flags)");
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax", "... the same on the new side");
	reset();
	put(0x1000, shifty, sizeof(shifty), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax rcx flags",
		"mov/shl/lea: rax rcx and the flags");
	reset();
	put(0x1000, subreg, sizeof(subreg), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax r8",
		"r8b and ah count for r8 and rax; bl (callee-saved) does not count");

	/* implicit writes, including those capstone 4 does not list */
	reset();
	put(0x1000, implicit, sizeof(implicit), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax rcx rdx rsi rdi flags",
		"div, rep movsb, cpuid: their implicit registers");
	reset();
	put(0x1000, sysc, sizeof(sysc), 1);
	/* capstone says syscall changes the flags: too many on either side
	 * is harmless here, since GCC counts an asm statement as changing them */
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax rcx r11 flags", "syscall: rax rcx r11");
	reset();
	put(0x1000, cmpx, sizeof(cmpx), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax flags", "cmpxchg: rax and the flags");
	reset();
	put(0x1000, xlat, sizeof(xlat), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax", "xlat: al");

	/* vectors at every width, masks */
	reset();
	put(0x1000, vec, sizeof(vec), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "xmm3 xmm20 k1",
		"ymm3 and zmm20 count for xmm3 and xmm20; a mask register counts");
	reset();
	put(0x1000, vzu, sizeof(vzu), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL),
		"xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 xmm8 xmm9 xmm10 xmm11 xmm12 xmm13 xmm14 xmm15",
		"vzeroupper changes xmm0-15 (their upper halves)");
	reset();
	put(0x1000, gather, sizeof(gather), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "xmm1 xmm3", "a gather writes its mask too");
	{
		struct ovup_arch_clobbers c;

		ovup_arch_clobbers(&m128, 0x1000, OVUP_ARCH_NEW, &src, 8, &c);
		reset();
		put(0x1000, vec, sizeof(vec), 1);
		ovup_arch_clobbers(&m128, 0x1000, OVUP_ARCH_NEW, &src, 8, &c);
		IS_REGS(c.regs, "xmm3",
			"on a machine without AVX-512 there is no xmm20 or k1 to save");
	}

	/* what no caller keeps across a call */
	reset();
	put(0x1000, cld, sizeof(cld), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "", "cld changes no arithmetic flag");
	reset();
	put(0x1000, x87, sizeof(x87), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "",
		"x87 and MMX registers are not part of the contract");

	/* calls and tail calls are followed */
	reset();
	put_rel(caller + 3, 0x1003, 0x2000);
	put_rel(tail + 2, 0x2002, 0x3000);
	put(0x1000, caller, sizeof(caller), 1);
	put(0x2000, tail, sizeof(tail), 1);
	put(0x3000, lea3, sizeof(lea3), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 8, NULL), "rax rdx r10 flags",
		"a call and the callee's tail call are followed (old)");
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax rdx r10 flags", "... and (new)");
	/* the budget: old adds nothing it did not decode, new assumes the worst */
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 2, why), "rdx r10 flags",
		"old: past the budget, a callee adds nothing");
	has_str(why, "followed at most 2 functions", "... and says so");
	ok(run(0x1000, OVUP_ARCH_NEW, 2, why) == abi, "new: past the budget, the whole ABI set");
	has_str(why, "more functions than the analysis follows", "... and says why");
	/* a cycle ends */
	put_rel(tail + 2, 0x2002, 0x1000);
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rdx r10 flags",
		"a call cycle is decoded once per function");

	/* unknown callees */
	reset();
	put_rel(caller + 3, 0x1003, 0x2000);
	put(0x1000, caller, sizeof(caller), 1);
	put(0x2000, plt, sizeof(plt), 0);
	ok(run(0x1000, OVUP_ARCH_OLD, 8, NULL) == abi,
	   "old: a call through a PLT stub is the whole ABI set (the compiler assumed it too)");
	ok(run(0x1000, OVUP_ARCH_NEW, 8, why) == abi, "new: the same");
	has_str(why, "PLT stub at 0x2000", "... naming the stub");
	reset();
	put(0x1000, caller, sizeof(caller), 1);
	put(0x2000, unk, sizeof(unk), 0);
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 8, why), "r10",
		"old: code without a symbol adds nothing (the compiler may have known it)");
	has_str(why, "no symbol says where it ends", "... and says it left it out");
	ok(run(0x1000, OVUP_ARCH_NEW, 8, why) == abi,
	   "new: code without a symbol may write anything");
	reset();
	put(0x1000, caller, sizeof(caller), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 8, NULL), "r10",
		"old: a callee that cannot be read adds nothing");
	ok(run(0x1000, OVUP_ARCH_NEW, 8, NULL) == abi, "new: it may write anything");
	reset();
	put(0x1000, indcall, sizeof(indcall), 1);
	ok(run(0x1000, OVUP_ARCH_OLD, 8, NULL) == abi,
	   "old: an indirect call is the whole ABI set");
	ok(run(0x1000, OVUP_ARCH_NEW, 8, why) == abi, "new: the same");
	has_str(why, "an indirect call at 0x1000", "... naming it");
	reset();
	put(0x1000, indjmp, sizeof(indjmp), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 8, NULL), "r9 flags",
		"old: an indirect jump (a switch's table?) adds nothing");
	ok(run(0x1000, OVUP_ARCH_NEW, 8, NULL) == abi,
	   "new: it may be a tail call through a pointer");
	reset();
	put(0x1000, gotcall, sizeof(gotcall), 1);
	put(0x2000, lea3, sizeof(lea3), 1);
	got_slot = 0x1008 + 0x100;
	got_value = 0x2000;
	IS_REGS(run(0x1000, OVUP_ARCH_NEW, 8, NULL), "rax rsi",
		"new: a call through a GOT slot that cannot change is followed");
	ok(run(0x1000, OVUP_ARCH_OLD, 8, NULL) == abi,
	   "old: the compiler saw an unknown callee there");
	reset();
	put(0x1000, xrstor, sizeof(xrstor), 1);
	ok(run(0x1000, OVUP_ARCH_NEW, 8, why) == abi, "new: xrstor may load anything");
	has_str(why, "xrstor", "... naming it");
	reset();
	put(0x1000, int80, sizeof(int80), 1);
	ok(run(0x1000, OVUP_ARCH_NEW, 8, NULL) == abi, "new: int $0x80 may change anything");

	/* bytes that do not decode */
	reset();
	put(0x1000, bad, sizeof(bad), 1);
	IS_REGS(run(0x1000, OVUP_ARCH_OLD, 8, why), "",
		"old: a function that does not decode adds nothing, not even what came before");
	has_str(why, "do not decode", "... and says so");
	ok(run(0x1000, OVUP_ARCH_NEW, 8, why) == abi, "new: it may write anything");
	has_str(why, "bytes that do not decode at 0x1002", "... naming the place");

	/* a jump into the middle of a function decoded already adds nothing
	 * (functions count once, by their start) */
	{
		/* xor %r9d,%r9d; jmp +0 (into the middle of tail below) */
		uint8_t mid[] = { 0x45, 0x31, 0xc9, 0xe9, 0, 0, 0, 0 };

		reset();
		put_rel(caller + 3, 0x1003, 0x2000);
		put_rel(tail + 2, 0x2002, 0x1000);
		put_rel(mid + 3, 0x3003, 0x2002);
		put(0x1000, caller, sizeof(caller), 1);
		put(0x2000, tail, sizeof(tail), 1);
		put(0x3000, mid, sizeof(mid), 1);
		IS_REGS(run(0x3000, OVUP_ARCH_NEW, 3, NULL), "rdx r9 r10 flags",
			"a jump into a function's middle decodes the whole function, once (3 functions, budget 3)");
	}

	IS_REGS(ovup_arch_regs_return(1, 0), "rax", "an int comes back in rax");
	IS_REGS(ovup_arch_regs_return(2, 0), "rax rdx", "an __int128 in rax and rdx");
	IS_REGS(ovup_arch_regs_return(1, 1), "rax xmm0", "a {long, double} in rax and xmm0");
	IS_REGS(ovup_arch_regs_return(0, 2), "xmm0 xmm1", "a _Complex double in xmm0 and xmm1");
	IS_REGS(ovup_arch_regs_return(0, 0), "", "void: none");

	is_str(fmt(abi),
	       "rax rcx rdx rsi rdi r8 r9 r10 r11 xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 "
	       "xmm8 xmm9 xmm10 xmm11 xmm12 xmm13 xmm14 xmm15 xmm16 xmm17 xmm18 xmm19 "
	       "xmm20 xmm21 xmm22 xmm23 xmm24 xmm25 xmm26 xmm27 xmm28 xmm29 xmm30 "
	       "xmm31 k0 k1 k2 k3 k4 k5 k6 k7 flags",
	       "the ABI set of an AVX-512 machine, by name");
}

/* ---- the wrapper's bytes ---- */

#define GPR(n) ((ovup_regset)1 << (n)) /* rax rcx rdx rsi rdi r8 r9 r10 r11 */
#define FLAGS ((ovup_regset)1 << 9)
#define XMM(n) ((ovup_regset)1 << (16 + (n)))
#define KREG(n) ((ovup_regset)1 << (48 + (n)))

static void check_bytes(const struct ovup_arch_machine *mm, ovup_regset save, const uint8_t *want,
			size_t n, size_t call_at, const char *what)
{
	uint8_t out[OVUP_ARCH_WRAP_MAX], exp[OVUP_ARCH_WRAP_MAX];
	const uint64_t at = 0x400000, fn = 0x401234;
	int len = ovup_arch_wrapper(mm, at, fn, save, out, sizeof(out));

	memcpy(exp, want, n);
	put_rel(exp + call_at, at + call_at, fn);
	is_int(len, n, "%s: %zu bytes", what, n);
	ok(len == (int)n && !memcmp(out, exp, n), "%s: the bytes GNU as gives", what);
}

static void test_wrapper_bytes(void)
{
	uint8_t out[OVUP_ARCH_WRAP_MAX];
	int len;
	/* push %rcx; push %r8; lea -8(%rsp),%rsp; call; lea 8(%rsp),%rsp; pop %r8; pop %rcx; ret */
	static const uint8_t wa[] = { 0x51, 0x41, 0x50, 0x48, 0x8d, 0x64, 0x24, 0xf8,
				      0xe8, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x64,
				      0x24, 0x08, 0x41, 0x58, 0x59, 0xc3 };
	/* pushfq; lea -64(%rsp),%rsp; vmovdqu %ymm3,(%rsp); vmovdqu %ymm9,32(%rsp); call;
	 * vmovdqu (%rsp),%ymm3; vmovdqu 32(%rsp),%ymm9; lea 64(%rsp),%rsp; popfq; ret */
	static const uint8_t wb[] = { 0x9c, 0x48, 0x8d, 0x64, 0x24, 0xc0, 0xc5, 0xfe, 0x7f, 0x1c,
				      0x24, 0xc5, 0x7e, 0x7f, 0x4c, 0x24, 0x20, 0xe8, 0x00, 0x00,
				      0x00, 0x00, 0xc5, 0xfe, 0x6f, 0x1c, 0x24, 0xc5, 0x7e, 0x6f,
				      0x4c, 0x24, 0x20, 0x48, 0x8d, 0x64, 0x24, 0x40, 0x9d, 0xc3 };
	/* push %rdx; lea -192(%rsp),%rsp; kmovq %k1,(%rsp); vmovdqu64 %zmm2,64(%rsp);
	 * vmovdqu64 %zmm17,128(%rsp); call; (the same back); lea 192(%rsp),%rsp; pop %rdx; ret */
	static const uint8_t wc[] = { 0x52, 0x48, 0x8d, 0xa4, 0x24, 0x40, 0xff, 0xff, 0xff, 0xc4,
				      0xe1, 0xf8, 0x91, 0x0c, 0x24, 0x62, 0xf1, 0xfe, 0x48, 0x7f,
				      0x54, 0x24, 0x01, 0x62, 0xe1, 0xfe, 0x48, 0x7f, 0x4c, 0x24,
				      0x02, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x62, 0xf1, 0xfe, 0x48,
				      0x6f, 0x54, 0x24, 0x01, 0x62, 0xe1, 0xfe, 0x48, 0x6f, 0x4c,
				      0x24, 0x02, 0xc4, 0xe1, 0xf8, 0x90, 0x0c, 0x24, 0x48, 0x8d,
				      0xa4, 0x24, 0xc0, 0x00, 0x00, 0x00, 0x5a, 0xc3 };
	/* lea -264(%rsp),%rsp; movdqu %xmm0,(%rsp); movdqu %xmm9,144(%rsp);
	 * movdqu %xmm15,240(%rsp) */
	static const uint8_t wd[] = { 0x48, 0x8d, 0xa4, 0x24, 0xf8, 0xfe, 0xff, 0xff, 0xf3,
				      0x0f, 0x7f, 0x04, 0x24, 0xf3, 0x44, 0x0f, 0x7f, 0x8c,
				      0x24, 0x90, 0x00, 0x00, 0x00, 0xf3, 0x44, 0x0f, 0x7f,
				      0xbc, 0x24, 0xf0, 0x00, 0x00, 0x00 };

	check_bytes(&m128, GPR(1) | GPR(5), wa, sizeof(wa), 8,
		    "rcx r8: two pushes, 8 bytes of padding to align the call");
	check_bytes(&m256, FLAGS | XMM(3) | XMM(9), wb, sizeof(wb), 17,
		    "flags xmm3 xmm9 on an AVX machine: pushfq, whole ymm registers");
	check_bytes(&m512, GPR(2) | KREG(1) | XMM(2) | XMM(17), wc, sizeof(wc), 31,
		    "rdx k1 xmm2 xmm17 on an AVX-512 machine: kmovq, whole zmm registers");
	len = ovup_arch_wrapper(&m128, 0x400000, 0x401000, (ovup_regset)0xffff << 16, out,
				sizeof(out));
	ok(len > 0 && !memcmp(out, wd, 13),
	   "xmm0-15 on an SSE machine: 264 bytes of stack (aligned at the call), xmm0 at its bottom");
	/* movdqu %xmm9,144(%rsp) and %xmm15,240(%rsp): 32-bit displacements */
	ok(len > 0 && memmem(out, (size_t)len, wd + 13, 10) &&
		   memmem(out, (size_t)len, wd + 23, 10),
	   "... the far slots use 32-bit displacements");
	is_int(ovup_arch_wrapper(&m128, 0x400000, 0x400000 + (3ull << 31), GPR(1), out,
				 sizeof(out)),
	       -ERANGE, "a function out of a call's reach is refused");
	is_int(ovup_arch_wrapper(&m128, 0x400000, 0x401000, XMM(17), out, sizeof(out)), -EINVAL,
	       "xmm17 on a machine without AVX-512 is refused");
	is_int(ovup_arch_wrapper(&m128, 0x400000, 0x401000, GPR(1), out, 4), -ENOSPC,
	       "a buffer too small is refused");
	len = ovup_arch_wrapper(&m512, 0x400000, 0x401000, ovup_arch_regs_abi(&m512), out,
				sizeof(out));
	ok(len > 0 && len <= OVUP_ARCH_WRAP_MAX,
	   "the largest wrapper (%d bytes) fits OVUP_ARCH_WRAP_MAX", len);
}

/* ---- the wrapper, run ---- */

/* The registers around a call: loaded before, stored after. */
struct state {
	uint64_t gpr[9]; /* rax rcx rdx rsi rdi r8 r9 r10 r11 */
	uint64_t flags;
	uint64_t k[8];
	uint8_t pad[48];
	uint8_t vec[32][64];
} __attribute__((aligned(64)));

unsigned callee_rsp_mod16; /* the callee's rsp % 16 at entry: 8 if aligned at the call */

void harness(struct state *in, struct state *out, void *fn, int width);
void clobber_sse(void), clobber_avx(void), clobber_avx512(void);

/* harness(in, out, fn, width): loads every call-clobbered register from
 * *in (vectors at width 16, 32 or 64), calls fn, stores them to *out. */
__asm__(".text\n"
	".globl harness\n"
	"harness:\n"
	"	push %rbx; push %r12; push %r13; push %r14; push %rbp\n"
	"	mov %rdi,%rbx; mov %rsi,%r12; mov %rdx,%r13; mov %ecx,%r14d\n"
	"	cmp $64,%r14d; je 3f\n"
	"	cmp $32,%r14d; je 2f\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu 192+64*\\n(%rbx),%xmm\\n\n"
	"	.endr\n"
	"	jmp 4f\n"
	"2:\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu 192+64*\\n(%rbx),%ymm\\n\n"
	"	.endr\n"
	"	jmp 4f\n"
	"3:\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 192+64*\\n(%rbx),%zmm\\n\n"
	"	.endr\n"
	"	.irp n,0,1,2,3,4,5,6,7\n"
	"	kmovq 80+8*\\n(%rbx),%k\\n\n"
	"	.endr\n"
	"4:\n"
	"	pushq 72(%rbx); popfq\n"
	"	mov 0(%rbx),%rax; mov 8(%rbx),%rcx; mov 16(%rbx),%rdx; mov 24(%rbx),%rsi\n"
	"	mov 32(%rbx),%rdi; mov 40(%rbx),%r8; mov 48(%rbx),%r9; mov 56(%rbx),%r10\n"
	"	mov 64(%rbx),%r11\n"
	"	call *%r13\n"
	"	mov %rax,0(%r12); mov %rcx,8(%r12); mov %rdx,16(%r12); mov %rsi,24(%r12)\n"
	"	mov %rdi,32(%r12); mov %r8,40(%r12); mov %r9,48(%r12); mov %r10,56(%r12)\n"
	"	mov %r11,64(%r12)\n"
	"	pushfq; popq 72(%r12)\n"
	"	cmp $64,%r14d; je 3f\n"
	"	cmp $32,%r14d; je 2f\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	movdqu %xmm\\n,192+64*\\n(%r12)\n"
	"	.endr\n"
	"	jmp 4f\n"
	"2:\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vmovdqu %ymm\\n,192+64*\\n(%r12)\n"
	"	.endr\n"
	"	vzeroupper\n"
	"	jmp 4f\n"
	"3:\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vmovdqu64 %zmm\\n,192+64*\\n(%r12)\n"
	"	.endr\n"
	"	.irp n,0,1,2,3,4,5,6,7\n"
	"	kmovq %k\\n,80+8*\\n(%r12)\n"
	"	.endr\n"
	"	vzeroupper\n"
	"4:\n"
	"	pop %rbp; pop %r14; pop %r13; pop %r12; pop %rbx\n"
	"	ret\n"
	/* the replacement: writes every call-clobbered register, returns 42 */
	".macro CLOBBER_GPRS\n"
	"	mov %rsp,%rax; and $15,%eax; mov %eax,callee_rsp_mod16(%rip)\n"
	"	mov $-1,%rcx; mov $-2,%rdx; mov $-3,%rsi; mov $-4,%rdi\n"
	"	mov $-5,%r8; mov $-6,%r9; mov $-7,%r10; mov $-8,%r11\n"
	".endm\n"
	".globl clobber_sse\n"
	"clobber_sse:\n"
	"	CLOBBER_GPRS\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	pcmpeqd %xmm\\n,%xmm\\n\n"
	"	.endr\n"
	"	xor %eax,%eax; mov $42,%eax\n"
	"	ret\n"
	".globl clobber_avx\n"
	"clobber_avx:\n"
	"	CLOBBER_GPRS\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	vpcmpeqd %ymm\\n,%ymm\\n,%ymm\\n\n"
	"	.endr\n"
	"	xor %eax,%eax; mov $42,%eax\n"
	"	ret\n"
	".globl clobber_avx512\n"
	"clobber_avx512:\n"
	"	CLOBBER_GPRS\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
	"	vpternlogd $0xff,%zmm\\n,%zmm\\n,%zmm\\n\n"
	"	.endr\n"
	"	.irp n,0,1,2,3,4,5,6,7\n"
	"	kxnorq %k\\n,%k\\n,%k\\n\n"
	"	.endr\n"
	"	xor %eax,%eax; mov $42,%eax\n"
	"	ret\n");

#define ARITH 0x8d5ull /* CF PF AF ZF SF OF */

/* Runs the wrapper saving `save` around the clobbering function and
 * checks each register: kept if saved, else clobbered (so the test can
 * tell a wrapper that does nothing from one that works). */
static void run_wrapper(const struct ovup_arch_machine *mm, void (*callee)(void), ovup_regset save,
			const char *what)
{
	static struct state in, out;
	uint8_t code[OVUP_ARCH_WRAP_MAX];
	uint8_t *page = MAP_FAILED;
	uint64_t near = (uint64_t)(uintptr_t)callee & ~0xfffull;
	unsigned i, bad_kept = 0, bad_lost = 0, nvec = mm->vec_bytes == 64 ? 32 : 16;
	int len, try;

	/* within a call's reach of the callee */
	for (try = 1; try < 64 && page == MAP_FAILED; try++)
		page = mmap((void *)(uintptr_t)(near - (uint64_t)try * 0x1000000), 4096,
			    PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page == MAP_FAILED) {
		ok(0, "%s: no page near the test's code", what);
		return;
	}
	len = ovup_arch_wrapper(mm, (uint64_t)(uintptr_t)page, (uint64_t)(uintptr_t)callee, save,
				code, sizeof(code));
	if (len <= 0) {
		ok(0, "%s: encoding failed (%d)", what, len);
		munmap(page, 4096);
		return;
	}
	memcpy(page, code, (size_t)len);
	mprotect(page, 4096, PROT_READ | PROT_EXEC);
	for (i = 0; i < 9; i++)
		in.gpr[i] = 0x1111111111111111ull * (i + 1);
	in.flags = 0x893; /* CF AF SF OF set, PF ZF clear: the callee's xor flips them all */
	for (i = 0; i < 8; i++)
		in.k[i] = 0x0101010101010101ull * (i + 3);
	for (i = 0; i < 32; i++)
		memset(in.vec[i], (int)(0x20 + i), sizeof(in.vec[i]));
	memset(&out, 0, sizeof(out));
	callee_rsp_mod16 = 99;
	harness(&in, &out, page, (int)mm->vec_bytes);
	munmap(page, 4096);

	is_int(out.gpr[0], 42, "%s: the return value in rax passes through", what);
	is_int(callee_rsp_mod16, 8, "%s: the stack is 16-byte aligned at the call", what);
	for (i = 1; i < 9; i++) {
		int kept = out.gpr[i] == in.gpr[i];

		bad_kept += kept && !(save & GPR(i));
		bad_lost += !kept && !!(save & GPR(i));
	}
	{
		int kept = (out.flags & ARITH) == (in.flags & ARITH);

		bad_kept += kept && !(save & FLAGS);
		bad_lost += !kept && !!(save & FLAGS);
	}
	for (i = 0; i < nvec; i++) {
		int kept = !memcmp(out.vec[i], in.vec[i], mm->vec_bytes);

		bad_kept += kept && !(save & XMM(i));
		bad_lost += !kept && !!(save & XMM(i));
	}
	for (i = 0; mm->mask_bytes && i < 8; i++) {
		int kept = out.k[i] == in.k[i];

		bad_kept += kept && !(save & KREG(i));
		bad_lost += !kept && !!(save & KREG(i));
	}
	is_int(bad_lost, 0, "%s: every saved register (at full width) is as before the call", what);
	is_int(bad_kept, 0, "%s: every other one was clobbered (the callee really clobbers)", what);
}

static void test_wrapper_run(void)
{
	struct ovup_arch_machine here;
	ovup_regset all;

	ovup_arch_machine(&here);
	printf("# this machine: vectors %u bytes, masks %u bytes\n", here.vec_bytes,
	       here.mask_bytes);
	run_wrapper(&m128, clobber_sse, GPR(1) | GPR(5), "sse, rcx r8");
	run_wrapper(&m128, clobber_sse, ovup_arch_regs_abi(&m128) & ~GPR(0), "sse, all but rax");
	if (here.vec_bytes >= 32) {
		run_wrapper(&m256, clobber_avx, FLAGS | XMM(3) | XMM(9) | GPR(2),
			    "avx, rdx xmm3 xmm9 flags");
		run_wrapper(&m256, clobber_avx, ovup_arch_regs_abi(&m256) & ~GPR(0),
			    "avx, all but rax");
	}
	if (here.vec_bytes == 64 && here.mask_bytes == 8) {
		all = ovup_arch_regs_abi(&here) & ~GPR(0);
		run_wrapper(&here, clobber_avx512, KREG(1) | XMM(2) | XMM(17) | GPR(8),
			    "avx-512, r11 k1 xmm2 xmm17");
		run_wrapper(&here, clobber_avx512, all, "avx-512, all but rax");
	}
}

int main(void)
{
	test_analysis();
	test_wrapper_bytes();
	test_wrapper_run();
	return tap_done();
}
