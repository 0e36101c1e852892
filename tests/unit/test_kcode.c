// SPDX-License-Identifier: MIT
/* Unit tests of the kernel loader's code edits (src/arch/x86_64/kcode.c):
 * return sites and CPU alternatives, on hand-made bytes whose result the
 * 6.1 loader's rules give (arch/x86/kernel/alternative.c). */
#include "arch/arch.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

#define INSTR 0xffffffffc0001000ull
#define REPL 0xffffffffc0201000ull

static int same(const uint8_t *a, const uint8_t *b, size_t n)
{
	return !memcmp(a, b, n);
}

static void returns(void)
{
	/* jmp __x86_return_thunk at 0x...1000 with the thunk at +0x100 */
	uint8_t code[5] = { 0xe9, 0xfb, 0x00, 0x00, 0x00 }, orig[5];
	static const uint8_t ret[5] = { 0xc3, 0xcc, 0xcc, 0xcc, 0xcc };
	static const uint8_t to_thunk[5] = { 0xe9, 0xfb, 0x0f, 0x00, 0x00 };

	memcpy(orig, code, 5);
	is_int(ovup_arch_return_site(code, 5, INSTR, INSTR + 0x100, 0), 0, "a return site");
	ok(same(code, ret, 5), "... becomes ret; int3 x4 where the CPU needs no thunk");
	memcpy(code, orig, 5);
	is_int(ovup_arch_return_site(code, 5, INSTR, INSTR + 0x100, INSTR + 0x1000), 0,
	       "a return site with a thunk");
	ok(same(code, to_thunk, 5), "... jumps to the CPU's thunk");
	memcpy(code, orig, 5);
	is_int(ovup_arch_return_site(code, 5, INSTR, INSTR + 0x200, 0), -EINVAL,
	       "a jmp elsewhere is no return site");
	ok(same(code, orig, 5), "... and stays as it was");
	code[0] = 0xe8;
	is_int(ovup_arch_return_site(code, 5, INSTR, INSTR + 0x100, 0), -EINVAL, "nor is a call");
}

/* apply one alternative of instrlen n over a copy of `in`, replacement r */
static int alt(uint8_t *instr, size_t n, const uint8_t *r, size_t rn, uint64_t raddr, int patch,
	       char *why)
{
	struct ovup_arch_alt a = { instr, INSTR, n, r, raddr, rn };

	return ovup_arch_alternative(&a, patch, why, 256);
}

static void alternatives(void)
{
	char why[256] = "";
	uint8_t instr[16];
	/* stac (SMAP), over three one-byte NOPs */
	static const uint8_t stac[3] = { 0x0f, 0x01, 0xcb };
	static const uint8_t nop3[3] = { 0x0f, 0x1f, 0x00 };
	/* call rel32 in the replacement: target REPL + 5 + 0x10 */
	static const uint8_t call[5] = { 0xe8, 0x10, 0x00, 0x00, 0x00 };
	/* jmp rel32 in the replacement to REPL + 5 + rel */
	uint8_t jmp[5] = { 0xe9 };
	/* mov 0(%rip), %rdx */
	static const uint8_t riprel[7] = { 0x48, 0x8b, 0x15, 0, 0, 0, 0 };
	int32_t rel;
	uint8_t want[16];

	memset(instr, 0x90, 3);
	is_int(alt(instr, 3, stac, 3, REPL, 1, why), 0, "stac patched in");
	ok(same(instr, stac, 3), "... as the replacement's bytes");
	memset(instr, 0x90, 3);
	is_int(alt(instr, 3, stac, 3, REPL, 0, why), 0, "stac not selected");
	ok(same(instr, nop3, 3), "... the one-byte NOPs become one long NOP (optimize_nops)");

	memset(instr, 0x90, 7);
	is_int(alt(instr, 7, call, 5, REPL, 1, why), 0, "a call patched in");
	memcpy(&rel, instr + 1, 4);
	ok(instr[0] == 0xe8 && INSTR + 5 + (int64_t)rel == REPL + 5 + 0x10,
	   "... still calls its target from the new place");
	ok(same(instr + 5, (const uint8_t[]){ 0x66, 0x90 }, 2), "... padded with a 2-byte NOP");

	/* a jmp whose target is near the original: shortened to 2 bytes */
	rel = (int32_t)((INSTR + 0x20) - (REPL + 5));
	memcpy(jmp + 1, &rel, 4);
	memset(instr, 0x90, 5);
	is_int(alt(instr, 5, jmp, 5, REPL, 1, why), 0, "a near jmp patched in");
	memcpy(want, (const uint8_t[]){ 0xeb, 0x1e, 0x0f, 0x1f, 0x00 }, 5);
	ok(same(instr, want, 5), "... shortened to jmp rel8 + NOP3, as the loader does");
	/* far: stays 5 bytes, re-targeted */
	rel = (int32_t)((INSTR + 0x1000) - (REPL + 5));
	memcpy(jmp + 1, &rel, 4);
	memset(instr, 0x90, 5);
	is_int(alt(instr, 5, jmp, 5, REPL, 1, why), 0, "a far jmp patched in");
	memcpy(&rel, instr + 1, 4);
	ok(instr[0] == 0xe9 && INSTR + 5 + (int64_t)rel == INSTR + 0x1000, "... keeps its target");
	/* backwards: the loader never shortens those */
	rel = (int32_t)((INSTR - 0x10) - (REPL + 5));
	memcpy(jmp + 1, &rel, 4);
	memset(instr, 0x90, 5);
	is_int(alt(instr, 5, jmp, 5, REPL, 1, why), 0, "a backward jmp patched in");
	ok(instr[0] == 0xe9, "... stays 5 bytes");

	memset(instr, 0x90, 8);
	is_int(alt(instr, 8, riprel, 7, REPL, 1, why), -ENOTSUP,
	       "a RIP-relative replacement is refused");
	has_str(why, "is PC-relative", "... saying why");
	ok(instr[0] == 0x90, "... and nothing is written");
	is_int(alt(instr, 8, riprel, 7, REPL, 0, why), -ENOTSUP,
	       "... also where the CPU would not select it");
	is_int(alt(instr, 2, stac, 3, REPL, 1, why), -EINVAL,
	       "a replacement longer than the original is refused");
	/* a call inside a longer replacement: the loader would not fix it */
	{
		uint8_t two[6] = { 0xe8, 0, 1, 0, 0, 0x90 };

		memset(instr, 0x90, 6);
		is_int(alt(instr, 6, two, 6, REPL, 1, why), -ENOTSUP,
		       "a call that is not the whole replacement is refused");
	}
}

/* a static-branch stub: cmpl $0, key(%rip); jg/jle target; jmp resume */
static void key_stubs(void)
{
	uint8_t b[OVUP_ARCH_KEY_STUB];
	uint64_t at = INSTR + 0x800, key = 0xffffffff82000000ull;
	int32_t d;

	is_int(ovup_arch_key_stub(b, at, key, 1, INSTR + 0x40, INSTR + 0x15), OVUP_ARCH_KEY_STUB,
	       "a stub for an unlikely branch");
	memcpy(&d, b + 2, 4);
	ok(b[0] == 0x83 && b[1] == 0x3d && b[6] == 0 && at + 7 + (int64_t)d == key,
	   "... compares the key's count with 0, RIP-relative");
	memcpy(&d, b + 9, 4);
	ok(b[7] == 0x0f && b[8] == 0x8f && at + 13 + (int64_t)d == INSTR + 0x40,
	   "... jumps to the branch when it is above 0 (jg)");
	memcpy(&d, b + 14, 4);
	ok(b[13] == 0xe9 && at + 18 + (int64_t)d == INSTR + 0x15, "... else back after the site");
	ovup_arch_key_stub(b, at, key, 0, INSTR + 0x40, INSTR + 0x15);
	ok(b[8] == 0x8e, "a likely branch jumps when the count is at most 0 (jle)");
	is_int(ovup_arch_key_stub(b, at, 0x7f0000000000ull, 1, INSTR, INSTR), -ERANGE,
	       "a key out of reach is refused");
}

int main(void)
{
	uint8_t nops[12];

	ovup_arch_nops(nops, 12);
	ok(same(nops, (const uint8_t[]){ 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x0f, 0x1f, 0x40, 0 },
		12),
	   "12 bytes of NOPs: NOP8 + NOP4, the kernel's");
	returns();
	alternatives();
	key_stubs();
	return tap_done();
}
