// SPDX-License-Identifier: MIT
/* Unit tests of moving displaced instructions to a trampoline (capstone),
 * including what must be refused. */
#include "arch/arch.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>

static int32_t rel32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			 (uint32_t)p[3] << 24);
}

/* the instructions of c at site, moved (5 bytes at least) to run at dest */
#define RELOC(c, pre, npre, dest)                                      \
	ovup_arch_relocate(&(struct ovup_reloc_in){ .code = (c),       \
						    .len = sizeof(c),  \
						    .site = site,      \
						    .min_len = 5,      \
						    .prefix = (pre),   \
						    .nprefix = (npre), \
						    .to = (dest) },    \
			   &ro)

int main(void)
{
	uint8_t out[OVUP_ARCH_TRAMP_MAX];
	char why[256];
	uint64_t from;
	int n;
	const uint64_t site = 0x401000, to = 0x500000;
	struct ovup_reloc_out ro = { .buf = out,
				     .max = sizeof(out),
				     .why = why,
				     .whylen = sizeof(why) };

	/* push rbp; mov rbp,rsp; sub rsp,0x10: 1+3+4 bytes, position independent */
	static const uint8_t plain[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10, 0xc3 };
	n = RELOC(plain, NULL, 0, to);
	is_int(ro.covered, 8, "whole instructions covering 5 bytes: 8 bytes (1+3+4)");
	is_int(n, 13, "trampoline = 8 copied bytes + a 5-byte jmp back");
	ok(!memcmp(out, plain, 8), "position-independent instructions are copied verbatim");
	ok(out[8] == 0xe9 && to + 13 + (uint64_t)(int64_t)rel32(out + 9) == site + 8,
	   "the jmp back lands on the first instruction not moved");

	/* addl $1, 0x2ee5(%rip): RIP-relative, 7 bytes */
	static const uint8_t riprel[] = { 0x83, 0x05, 0xe5, 0x2e, 0x00, 0x00, 0x01, 0xc3 };
	n = RELOC(riprel, NULL, 0, to);
	is_int(n, 12, "a RIP-relative instruction moves (7 bytes + jmp)");
	ok(to + 7 + (uint64_t)(int64_t)rel32(out + 2) == site + 7 + 0x2ee5,
	   "... and still addresses the same memory from its new place");

	/* jne +0x10 (rel8) at the start: becomes jne rel32 */
	static const uint8_t jcc8[] = { 0x75, 0x10, 0x90, 0x90, 0x90, 0x90, 0xc3 };
	n = RELOC(jcc8, NULL, 0, to);
	ok(n > 0 && out[0] == 0x0f && out[1] == 0x85, "jcc rel8 becomes jcc rel32 (0f 85)");
	ok(to + 6 + (uint64_t)(int64_t)rel32(out + 2) == site + 2 + 0x10, "... to the same target");

	/* call rel32 */
	static const uint8_t call[] = { 0xe8, 0x00, 0x01, 0x00, 0x00, 0xc3 };
	n = RELOC(call, NULL, 0, to);
	ok(n == 10 && out[0] == 0xe8 &&
		   to + 5 + (uint64_t)(int64_t)rel32(out + 1) == site + 5 + 0x100,
	   "call rel32 is re-aimed at the same function");

	/* an endbr64 prefix is repeated at the trampoline's start */
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	n = RELOC(plain, endbr, 4, to);
	ok(n == 17 && !memcmp(out, endbr, 4) && !memcmp(out + 4, plain, 8),
	   "prefix, then the moved code");

	/* refused: a branch into the displaced bytes */
	static const uint8_t into[] = {
		0x89, 0xf8, 0xff, 0xc8, 0x75, 0xfc, 0xc3
	}; /* mov; 1: dec; jnz 1b */
	n = RELOC(into, NULL, 0, to);
	is_int(n, -ENOTSUP, "a branch back into the displaced bytes is refused");
	has_str(why, "branches into the bytes the jump replaces", "... with the reason");
	ok(ovup_arch_branch_into(into, sizeof(into), site, site, site + 6, &from) == 1 &&
		   from == site + 4,
	   "the scan finds the jnz at +4 landing at +2");
	ok(ovup_arch_branch_into(plain, sizeof(plain), site, site, site + 8, &from) == 0,
	   "a function without such a branch is clean");

	/* refused: loop (rel8 only, no rel32 form) */
	static const uint8_t loop[] = { 0xe2, 0x20, 0x90, 0x90, 0x90, 0x90, 0xc3 };
	n = RELOC(loop, NULL, 0, to);
	is_int(n, -ENOTSUP, "'loop' (no rel32 form) is refused");

	/* refused: a RIP-relative target out of reach from the trampoline */
	n = RELOC(riprel, NULL, 0, site + (3ull << 31));
	is_int(n, -ERANGE, "a RIP-relative operand that no longer reaches is refused");
	has_str(why, "relative to its place", "... with the reason");

	/* refused: bytes that are no instructions */
	static const uint8_t junk[] = { 0x0f, 0x0b, 0xff, 0xff };
	is_int(ovup_arch_insn_cover(junk, 2, site, 5), 0, "too few bytes to cover 5: 0");
	is_int(ovup_arch_insn_cover(plain, sizeof(plain), site, 5), 8,
	       "cover of the plain entry: 8");
	return tap_done();
}
