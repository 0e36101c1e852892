/* SPDX-License-Identifier: MIT */
/*
 * What one x86-64 instruction does to the registers of ovup_regset, from
 * capstone's detail (insn.c); used by the analysis of regs.c.  Only these
 * files, relocate.c and kcode.c include capstone.
 */
#ifndef OVUP_X86_INSN_H
#define OVUP_X86_INSN_H

#include "../arch.h"

#include <capstone/capstone.h>

/* Is the instruction in capstone group g (CS_GRP_CALL, X86_GRP_FPU...)? */
int ovup_x86_has_group(const cs_insn *in, uint8_t g);
/* The registers the instruction writes; one ovup does not model is put in
 * *unknown (capstone's register id). */
ovup_regset ovup_x86_insn_writes(csh h, const cs_insn *in, unsigned *unknown);
/* Instructions after which anything may have changed: the kernel or a
 * signal handler runs, or a whole register state is loaded. */
int ovup_x86_changes_anything(unsigned id);

#endif
