/* SPDX-License-Identifier: MIT */
/*
 * x86-64's numbering of ovup_regset: the registers of the SysV ABI that a
 * caller may keep a value in across a call only if it knows the callee
 * leaves them alone.  Shared by the sets (machine.c), the analysis (regs.c)
 * and the wrapper encoder (wrapper.c).
 */
#ifndef OVUP_X86_REGBITS_H
#define OVUP_X86_REGBITS_H

#include "../arch.h"

/* bits 0-8: rax rcx rdx rsi rdi r8 r9 r10 r11, in this order */
#define X86_GPR_FIRST 0
#define X86_NGPR 9
#define X86_BIT_FLAGS 9           /* the arithmetic flags */
#define X86_BIT_XMM(n) (16 + (n)) /* xmm0-31, at any width */
#define X86_BIT_K(n) (48 + (n))   /* k0-7 */

#define X86_SET_GPRS ((ovup_regset)0x1ff)
#define X86_SET_FLAGS ((ovup_regset)1 << X86_BIT_FLAGS)
#define X86_SET_XMM_LO ((ovup_regset)0xffff << 16) /* xmm0-15 */
#define X86_SET_XMM_HI ((ovup_regset)0xffff << 32) /* xmm16-31 */
#define X86_SET_K ((ovup_regset)0xff << 48)

#endif
