// SPDX-License-Identifier: MIT
/*
 * x86-64 instructions one at a time, from capstone's detail: the registers
 * of ovup_regset an instruction writes (at any width), and the instructions
 * after which anything may have changed.  regs.c walks the functions.
 */
#include "../arch.h"
#include "insn.h"
#include "regbits.h"

#include <capstone/capstone.h>
#include <string.h>

#define REG_IGNORE (-1)  /* no caller can keep a value there across a call */
#define REG_UNKNOWN (-2) /* a register the contract does not model */

/* The bit of a register written, for every width it is written at: a
 * write to %r8b or %ymm3 changes r8 or xmm3 as a caller sees them.  A
 * table in the form of a switch, one case per capstone register name, so
 * longer than 60 lines. */
static int reg_bit(unsigned r)
{
	switch (r) {
	case X86_REG_AL:
	case X86_REG_AH:
	case X86_REG_AX:
	case X86_REG_EAX:
	case X86_REG_RAX:
		return 0;
	case X86_REG_CL:
	case X86_REG_CH:
	case X86_REG_CX:
	case X86_REG_ECX:
	case X86_REG_RCX:
		return 1;
	case X86_REG_DL:
	case X86_REG_DH:
	case X86_REG_DX:
	case X86_REG_EDX:
	case X86_REG_RDX:
		return 2;
	case X86_REG_SIL:
	case X86_REG_SI:
	case X86_REG_ESI:
	case X86_REG_RSI:
		return 3;
	case X86_REG_DIL:
	case X86_REG_DI:
	case X86_REG_EDI:
	case X86_REG_RDI:
		return 4;
	case X86_REG_R8B:
	case X86_REG_R8W:
	case X86_REG_R8D:
	case X86_REG_R8:
		return 5;
	case X86_REG_R9B:
	case X86_REG_R9W:
	case X86_REG_R9D:
	case X86_REG_R9:
		return 6;
	case X86_REG_R10B:
	case X86_REG_R10W:
	case X86_REG_R10D:
	case X86_REG_R10:
		return 7;
	case X86_REG_R11B:
	case X86_REG_R11W:
	case X86_REG_R11D:
	case X86_REG_R11:
		return 8;
	/* callee-saved registers: a function that writes them restores them
	 * (the ABI), and the stack and instruction pointers */
	case X86_REG_BL:
	case X86_REG_BH:
	case X86_REG_BX:
	case X86_REG_EBX:
	case X86_REG_RBX:
	case X86_REG_BPL:
	case X86_REG_BP:
	case X86_REG_EBP:
	case X86_REG_RBP:
	case X86_REG_R12B:
	case X86_REG_R12W:
	case X86_REG_R12D:
	case X86_REG_R12:
	case X86_REG_R13B:
	case X86_REG_R13W:
	case X86_REG_R13D:
	case X86_REG_R13:
	case X86_REG_R14B:
	case X86_REG_R14W:
	case X86_REG_R14D:
	case X86_REG_R14:
	case X86_REG_R15B:
	case X86_REG_R15W:
	case X86_REG_R15D:
	case X86_REG_R15:
	case X86_REG_SPL:
	case X86_REG_SP:
	case X86_REG_ESP:
	case X86_REG_RSP:
	case X86_REG_IP:
	case X86_REG_EIP:
	case X86_REG_RIP:
	case X86_REG_EIZ:
	case X86_REG_RIZ:
	/* segment registers (fs and gs are the thread pointers, not values) */
	case X86_REG_CS:
	case X86_REG_DS:
	case X86_REG_ES:
	case X86_REG_FS:
	case X86_REG_GS:
	case X86_REG_SS:
	/* x87 and MMX: the ABI wants the x87 stack empty and the unit in x87
	 * mode at every call, and GCC allocates no MMX register in x86-64
	 * code, so no caller keeps a value there across a call */
	case X86_REG_FPSW:
		return REG_IGNORE;
	}
	if (r >= X86_REG_XMM0 && r <= X86_REG_XMM31)
		return X86_BIT_XMM(r - X86_REG_XMM0);
	if (r >= X86_REG_YMM0 && r <= X86_REG_YMM31)
		return X86_BIT_XMM(r - X86_REG_YMM0);
	if (r >= X86_REG_ZMM0 && r <= X86_REG_ZMM31)
		return X86_BIT_XMM(r - X86_REG_ZMM0);
	if (r >= X86_REG_K0 && r <= X86_REG_K7)
		return X86_BIT_K(r - X86_REG_K0);
	if ((r >= X86_REG_ST0 && r <= X86_REG_ST7) || (r >= X86_REG_FP0 && r <= X86_REG_FP7) ||
	    (r >= X86_REG_MM0 && r <= X86_REG_MM7) || (r >= X86_REG_CR0 && r <= X86_REG_CR15) ||
	    (r >= X86_REG_DR0 && r <= X86_REG_DR15))
		return REG_IGNORE;
	return REG_UNKNOWN;
}

/* capstone 4's eflags bits that change an arithmetic flag (DF must be
 * clear at every call and return, so it is no value a caller keeps) */
#define ARITH_WRITES                                                                             \
	(X86_EFLAGS_MODIFY_AF | X86_EFLAGS_MODIFY_CF | X86_EFLAGS_MODIFY_SF |                    \
	 X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_MODIFY_PF | X86_EFLAGS_MODIFY_OF |                    \
	 X86_EFLAGS_RESET_OF | X86_EFLAGS_RESET_CF | X86_EFLAGS_RESET_SF | X86_EFLAGS_RESET_AF | \
	 X86_EFLAGS_RESET_PF | X86_EFLAGS_RESET_ZF | X86_EFLAGS_SET_CF | X86_EFLAGS_SET_OF |     \
	 X86_EFLAGS_SET_SF | X86_EFLAGS_SET_ZF | X86_EFLAGS_SET_AF | X86_EFLAGS_SET_PF |         \
	 X86_EFLAGS_UNDEFINED_OF | X86_EFLAGS_UNDEFINED_SF | X86_EFLAGS_UNDEFINED_ZF |           \
	 X86_EFLAGS_UNDEFINED_PF | X86_EFLAGS_UNDEFINED_AF | X86_EFLAGS_UNDEFINED_CF)

#define BIT(b) ((ovup_regset)1 << (b))

/* Implicit writes capstone 4 leaves out of cs_regs_access (checked in
 * tests/unit/test_regs.c): the architecture writes them all the same. */
static ovup_regset missed_writes(unsigned id)
{
	switch (id) {
	case X86_INS_CMPXCHG: /* rax gets the old value when the compare fails */
		return BIT(0) | X86_SET_FLAGS;
	case X86_INS_SYSCALL: /* the result; the CPU puts rip in rcx, rflags in r11 */
		return BIT(0) | BIT(1) | BIT(8);
	case X86_INS_XLATB:
		return BIT(0);
	}
	return 0;
}

int ovup_x86_changes_anything(unsigned id)
{
	switch (id) {
	case X86_INS_INT:
	case X86_INS_INT1:
	case X86_INS_INT3:
	case X86_INS_INTO:
	case X86_INS_SYSENTER:
	case X86_INS_XRSTOR:
	case X86_INS_XRSTOR64:
	case X86_INS_XRSTORS:
	case X86_INS_XRSTORS64:
	case X86_INS_FXRSTOR:
	case X86_INS_FXRSTOR64:
		return 1;
	}
	return 0;
}

int ovup_x86_has_group(const cs_insn *in, uint8_t g)
{
	uint8_t i;

	for (i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == g)
			return 1;
	return 0;
}

ovup_regset ovup_x86_insn_writes(csh h, const cs_insn *in, unsigned *unknown)
{
	const cs_x86 *x = &in->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0, i;
	ovup_regset s = missed_writes(in->id);
	int eflags_in_wr = 0, x87 = ovup_x86_has_group(in, X86_GRP_FPU), b;

	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		nwr = 0;
	for (i = 0; i < nwr; i++) {
		if (wr[i] == X86_REG_EFLAGS) {
			eflags_in_wr = 1;
			continue;
		}
		x87 |= wr[i] == X86_REG_FPSW;
		b = reg_bit(wr[i]);
		if (b >= 0)
			s |= BIT(b);
		else if (b == REG_UNKNOWN)
			*unknown = wr[i];
	}
	/* explicit operands capstone marks written, in case its list above
	 * misses one; a gather or scatter also writes its mask operand */
	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type != X86_OP_REG)
			continue;
		if ((op->access & CS_AC_WRITE) || !strncmp(in->mnemonic, "vgather", 7) ||
		    !strncmp(in->mnemonic, "vpgather", 8) ||
		    !strncmp(in->mnemonic, "vscatter", 8) ||
		    !strncmp(in->mnemonic, "vpscatter", 9)) {
			b = reg_bit(op->reg);
			if (b >= 0)
				s |= BIT(b);
		}
	}
	/* capstone 4 fills x86.eflags for most instructions and lists EFLAGS
	 * as written for some that change only DF; where it has no eflags
	 * detail, the register list is what there is.  For x87 instructions
	 * the same field holds the FPU's condition codes instead. */
	x87 |= x->opcode[0] >= 0xd8 && x->opcode[0] <= 0xdf; /* the x87 escape opcodes */
	if (x87 ? eflags_in_wr : (x->eflags & ARITH_WRITES) || (!x->eflags && eflags_in_wr))
		s |= X86_SET_FLAGS;
	return s;
}
