// SPDX-License-Identifier: MIT
/* Unit tests of the x86-64 branch encoding and patch-site rules. */
#include "arch/arch.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>

int main(void)
{
	uint8_t b[OVUP_ARCH_JUMP_MAX];
	uint64_t to;
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55 };
	static const uint8_t plain[] = { 0x55, 0x48, 0x89, 0xe5, 0x90 };
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55 };
	static const uint8_t call5[] = { 0xe8, 0x11, 0x22, 0x33, 0x44 };

	is_int(ovup_arch_jump(0x1000, 0x2000, b), 5, "forward jump is 5 bytes");
	ok(b[0] == 0xe9 && b[1] == 0xfb && b[2] == 0x0f && b[3] == 0 && b[4] == 0,
	   "forward jump is e9 fb 0f 00 00 (0x2000 - 0x1005)");
	is_int(ovup_arch_jump(0x2000, 0x1000, b), 5, "backward jump is 5 bytes");
	ok(b[0] == 0xe9 && b[1] == 0xfb && b[2] == 0xef && b[3] == 0xff && b[4] == 0xff,
	   "backward jump is e9 fb ef ff ff");
	ok(ovup_arch_jump_decode(0x2000, b, 5, &to) && to == 0x1000, "decode gives the target back");
	is_int(ovup_arch_jump(0x1000, 0x1005, b), 5, "jump to the next instruction");
	ok(b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0, "... has displacement 0");
	/* the reach: rel32 counts from the end of the 5-byte instruction */
	is_int(ovup_arch_jump(0x100000000ull, 0x100000005ull + 0x7fffffffull, b), 5,
	       "farthest forward target is reachable");
	is_int(ovup_arch_jump(0x100000000ull, 0x100000005ull + 0x80000000ull, b), -ERANGE,
	       "one byte farther is refused with ERANGE");
	is_int(ovup_arch_jump(0x100000000ull, 0x100000005ull - 0x80000000ull, b), 5,
	       "farthest backward target is reachable");
	is_int(ovup_arch_jump(0x100000000ull, 0x100000004ull - 0x80000000ull, b), -ERANGE,
	       "one byte farther back is refused");
	is_int(ovup_arch_jump(0x7f0000000000ull, 0x550000000000ull, b), -ERANGE,
	       "a library-to-executable distance is refused");
	ok(!ovup_arch_jump_decode(0, plain, 5, &to), "a push is not a jump");
	ok(!ovup_arch_jump_decode(0, b, 4, &to), "4 bytes cannot hold a jump");
	is_int(ovup_arch_entry_keep(endbr, sizeof(endbr)), 4, "endbr64 stays in place");
	is_int(ovup_arch_entry_keep(plain, sizeof(plain)), 0, "a plain entry keeps nothing");
	is_int(ovup_arch_entry_keep(endbr, 3), 0, "a truncated endbr64 is not one");
	is_int(ovup_arch_ftrace_site(nop5, sizeof(nop5)), 5, "NOP5 is an ftrace site");
	is_int(ovup_arch_ftrace_site(call5, sizeof(call5)), 5, "call __fentry__ is an ftrace site");
	is_int(ovup_arch_ftrace_site(plain, sizeof(plain)), 0, "push rbp is no ftrace site");
	is_int(ovup_arch_syscall_len, 2, "syscall is 2 bytes");
	ok(ovup_arch_syscall_insn[0] == 0x0f && ovup_arch_syscall_insn[1] == 0x05, "syscall is 0f 05");
	return tap_done();
}
