// SPDX-License-Identifier: MIT
/* Unit tests of the x86-64 branch encoding and patch-site rules. */
#include "arch/arch.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_gadgets(void)
{
	ok(ovup_arch_gadget_syscall_len == 3 && ovup_arch_gadget_syscall[0] == 0x0f &&
		   ovup_arch_gadget_syscall[1] == 0x05 && ovup_arch_gadget_syscall[2] == 0xc3,
	   "the syscall gadget is 'syscall; ret' (0f 05 c3)");
	ok(ovup_arch_gadget_restorer[0] && ovup_arch_gadget_restorer_len[0] == 9 &&
		   ovup_arch_gadget_restorer[0][3] == 15 &&
		   ovup_arch_gadget_restorer[0][7] == 0x0f &&
		   ovup_arch_gadget_restorer[0][8] == 0x05,
	   "the restorer loads rt_sigreturn (15) and makes the syscall");
}

static uint64_t u64at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void test_frame(void)
{
	static uint8_t xs[2432];
	struct user_regs_struct r = { 0 };
	struct ovup_arch_frame f = { 0 };
	uint64_t fp, uc = 8, mc = uc + 40;
	uint32_t magic;

	memset(xs, 0x5a, sizeof(xs));
	memcpy(xs + 464, "\xe7\0\0\0\0\0\0\0", 8); /* ptrace puts XCR0 here */
	r.rsp = 0x7ffff0001238;
	r.rip = 0x401002;
	r.orig_rax = 0;         /* stopped in read(2)... */
	r.rax = (uint64_t)-512; /* ... which the stop interrupted (-ERESTARTSYS) */
	r.rbx = 0x1111;
	r.cs = 0x33;
	r.ss = 0x2b;
	f.regs = &r;
	f.sigmask = 0x4000;
	f.xstate = xs;
	f.xlen = sizeof(xs);
	f.restorer = 0x7fff12345678;
	f.data = "ovup-patch:x";
	f.ndata = 13;
	is_int(ovup_arch_frame(&f), 0, "a frame is laid out");
	ok(f.lo + f.len == r.rsp - 128, "it ends at the red zone");
	ok(f.len <= sizeof(xs) + 4 + 440 + 64 + 16, "it takes no more room than a signal frame");
	ok(f.sp == f.lo && (f.sp + 8) % 16 == 0,
	   "the stack pointer is the frame, aligned as the kernel's");
	is_int(u64at(f.bytes), 0x7fff12345678, "'ret' after the syscall goes to the restorer");
	fp = u64at(f.bytes + mc + 8 * 23);
	ok(fp % 64 == 0 && fp > f.lo && fp + sizeof(xs) + 4 <= f.lo + f.len,
	   "the FPU state is 64-byte aligned inside the frame");
	memcpy(&magic, f.bytes + (fp - f.lo) + 464, 4);
	is_int(magic, 0x46505853, "it carries FP_XSTATE_MAGIC1");
	memcpy(&magic, f.bytes + (fp - f.lo) + sizeof(xs), 4);
	is_int(magic, 0x46505845, "... and FP_XSTATE_MAGIC2 after it");
	is_int(u64at(f.bytes + (fp - f.lo) + 472), 0xe7, "... and the xfeatures ptrace reported");
	is_int(u64at(f.bytes + mc + 8 * 16), 0x401000, "the interrupted read(2) restarts: rip - 2");
	is_int(u64at(f.bytes + mc + 8 * 13), 0, "... with rax = its number again");
	is_int(u64at(f.bytes + mc + 8 * 15), 0x7ffff0001238, "the stack pointer is given back");
	is_int(u64at(f.bytes + mc + 8 * 11), 0x1111, "so is rbx");
	is_int(u64at(f.bytes + mc + 256), 0x4000, "so is the signal mask");
	ok(f.data_addr >= f.lo + 8 + 304 && f.data_addr + 13 <= f.lo + 440 &&
		   !memcmp(f.bytes + (f.data_addr - f.lo), "ovup-patch:x", 13),
	   "the data sits in the frame's siginfo, which rt_sigreturn ignores");
	free(f.bytes);

	r.orig_rax = (uint64_t)-1;
	r.rax = 7;
	is_int(ovup_arch_frame(&f), 0, "a thread stopped outside any syscall");
	is_int(u64at(f.bytes + mc + 8 * 16), 0x401002, "... returns to its rip unchanged");
	free(f.bytes);
	f.xlen = 100;
	is_int(ovup_arch_frame(&f), -EINVAL, "an FPU state too small to be one is refused");
	f.xlen = sizeof(xs);
	f.ndata = 200;
	is_int(ovup_arch_frame(&f), -EINVAL, "data larger than the siginfo is refused");
}

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
	ok(ovup_arch_jump_decode(0x2000, b, 5, &to) && to == 0x1000,
	   "decode gives the target back");
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
	test_gadgets();
	test_frame();
	return tap_done();
}
