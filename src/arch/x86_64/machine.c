// SPDX-License-Identifier: MIT
/*
 * x86-64 register sets: the widths of this processor's vector and mask
 * registers (CPUID and XCR0), the call-clobbered set of the SysV ABI, the
 * registers of a return value, and their names for messages.
 */
#include "../arch.h"
#include "regbits.h"

#include <cpuid.h>
#include <stdio.h>

static const char *const gpr_name[X86_NGPR] = { "rax", "rcx", "rdx", "rsi", "rdi",
						"r8",  "r9",  "r10", "r11" };

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

void ovup_arch_machine(struct ovup_arch_machine *m)
{
	unsigned a, b, c, d;
	uint64_t xcr0;

	m->vec_bytes = 16;
	m->mask_bytes = 0;
	/* a register exists for software only if the CPU has it AND the
	 * kernel enabled its state in XCR0 */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return;
	xcr0 = xgetbv0();
	if ((c & bit_AVX) && (xcr0 & 0x6) == 0x6)
		m->vec_bytes = 32;
	if (m->vec_bytes == 32 && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) &&
	    (xcr0 & 0xe0) == 0xe0) {
		m->vec_bytes = 64;
		/* without AVX512BW only the low 16 bits of a mask exist */
		m->mask_bytes = (b & bit_AVX512BW) ? 8 : 2;
	}
}

ovup_regset ovup_arch_regs_abi(const struct ovup_arch_machine *m)
{
	ovup_regset s = X86_SET_GPRS | X86_SET_FLAGS | X86_SET_XMM_LO;

	if (m->vec_bytes == 64)
		s |= X86_SET_XMM_HI | X86_SET_K;
	return s;
}

ovup_regset ovup_arch_regs_return(unsigned nint, unsigned nsse)
{
	ovup_regset s = 0;

	if (nint >= 1)
		s |= (ovup_regset)1 << 0; /* rax */
	if (nint >= 2)
		s |= (ovup_regset)1 << 2; /* rdx */
	if (nsse >= 1)
		s |= (ovup_regset)1 << X86_BIT_XMM(0);
	if (nsse >= 2)
		s |= (ovup_regset)1 << X86_BIT_XMM(1);
	return s;
}

void ovup_arch_regs_format(ovup_regset s, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	if (len)
		buf[0] = 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(buf + used, used < len ? len - used : 0, "%s", used ? " " : ""); \
		used += (size_t)(n_ > 0 ? n_ : 0);                                                 \
		n_ = snprintf(buf + used, used < len ? len - used : 0, __VA_ARGS__);               \
		used += (size_t)(n_ > 0 ? n_ : 0);                                                 \
	} while (0)
	for (i = 0; i < X86_NGPR; i++)
		if (s & ((ovup_regset)1 << i))
			ADD("%s", gpr_name[i]);
	for (i = 0; i < 32; i++)
		if (s & ((ovup_regset)1 << X86_BIT_XMM(i)))
			ADD("xmm%u", i);
	for (i = 0; i < 8; i++)
		if (s & ((ovup_regset)1 << X86_BIT_K(i)))
			ADD("k%u", i);
	if (s & X86_SET_FLAGS)
		ADD("flags");
#undef ADD
}
