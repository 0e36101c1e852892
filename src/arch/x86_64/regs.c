// SPDX-License-Identifier: MIT
/*
 * x86-64 register contracts with the capstone decoder: the registers a
 * function, and everything it calls or tail-calls, may write.  core uses it
 * on the old function (what its callers were compiled against) and on the
 * new one (what the replacement may do).  What one instruction writes is
 * insn.c's; with those, relocate.c and kcode.c, the only files that call
 * capstone.
 */
#include "../arch.h"
#include "insn.h"
#include "regbits.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	const struct ovup_arch_machine *m;
	const struct ovup_arch_code_src *src;
	enum ovup_arch_side side;
	ovup_regset abi, regs;
	int full; /* NEW: the whole ABI set */
	unsigned budget;
	uint64_t *asked; /* addresses already looked up */
	size_t nasked, capasked;
	uint64_t *done; /* starts of the code already decoded */
	size_t ndone, capdone;
	uint64_t *pending; /* addresses still to follow */
	size_t npending, cappending;
	csh h;
	cs_insn *insn;
	struct ovup_arch_clobbers *out;
	int oom;
};

static void note(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	if (w->out->why[0])
		return; /* the first reason is the one to tell */
	va_start(ap, fmt);
	vsnprintf(w->out->why, sizeof(w->out->why), fmt, ap);
	va_end(ap);
}

/* "func+0x12" (src's names) or "0x..." */
static const char *where(const struct walk *w, uint64_t a, char *buf, size_t len)
{
	if (w->src->name)
		w->src->name(w->src->ctx, a, buf, len);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)a);
	return buf;
}

/* NEW: something the analysis cannot follow may write anything. */
static void full(struct walk *w, const char *what, uint64_t a)
{
	char buf[128];

	if (w->side != OVUP_ARCH_NEW)
		return;
	w->full = 1;
	note(w, "%s at %s", what, where(w, a, buf, sizeof(buf)));
}

static int member(const uint64_t *v, size_t n, uint64_t a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == a)
			return 1;
	return 0;
}

static void append(struct walk *w, uint64_t **v, size_t *n, size_t *cap, uint64_t a)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		uint64_t *nv = realloc(*v, c * sizeof(*nv));

		if (!nv) {
			w->oom = 1;
			return;
		}
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = a;
}

static void push(struct walk *w, uint64_t a)
{
	if (!member(w->asked, w->nasked, a) && !member(w->pending, w->npending, a))
		append(w, &w->pending, &w->npending, &w->cappending, a);
}

/* A `call`/`jmp` through [rip+disp]: the slot's address, else 0. */
static uint64_t rip_slot(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_MEM ||
	    x->operands[0].mem.base != X86_REG_RIP || x->operands[0].mem.index != X86_REG_INVALID)
		return 0;
	return in->address + in->size + (uint64_t)x->operands[0].mem.disp;
}

/* Follows a call or jump through memory: NEW resolves a slot that cannot
 * change (the patch's GOT) to the function it holds. */
static void follow_slot(struct walk *w, const cs_insn *in, const char *kind)
{
	uint64_t slot = rip_slot(in), to;

	if (w->side == OVUP_ARCH_NEW && slot && w->src->constant &&
	    !w->src->constant(w->src->ctx, slot, &to)) {
		push(w, to);
		return;
	}
	full(w, kind, in->address);
}

/* Bytes at a that do not decode.  NEW: anything may happen there.  OLD:
 * the sweep cannot be trusted from here on, and an instruction it
 * mis-decoded could add a register the compiler never counted, which then
 * would go unsaved: this function contributes nothing (the wrapper saves
 * more, never less), its callees found so far (from first_pending) dropped. */
static void undecodable(struct walk *w, uint64_t a, size_t first_pending)
{
	char buf[128];

	if (w->side == OVUP_ARCH_NEW) {
		full(w, "bytes that do not decode", a);
		return;
	}
	w->npending = first_pending;
	note(w, "left out a function: its bytes at %s do not decode",
	     where(w, a, buf, sizeof(buf)));
}

/* A call or jump of the function c: where it leaves to is queued, and an
 * indirect one adds to *s what the compiler assumed of it (OLD) or is
 * followed through its slot (NEW). */
static void branch(struct walk *w, const struct ovup_arch_code *c, const cs_insn *in,
		   ovup_regset *s)
{
	if (in->detail->x86.op_count >= 1 && in->detail->x86.operands[0].type == X86_OP_IMM) {
		uint64_t to = (uint64_t)in->detail->x86.operands[0].imm;

		/* a call or a jump that leaves: a callee, a tail call,
		 * the function's cold part */
		if (to < c->start || to >= c->start + c->size)
			push(w, to);
	} else if (ovup_x86_has_group(in, CS_GRP_CALL)) {
		/* the compiler knew no more than this about the
		 * callee: it assumed the whole ABI set too */
		if (w->side == OVUP_ARCH_OLD)
			*s |= w->abi;
		else
			follow_slot(w, in, "an indirect call");
	} else if (w->side == OVUP_ARCH_NEW) {
		/* a jump through a table of the function's own labels,
		 * or a tail call through a pointer: OLD cannot tell
		 * them apart and adds nothing; NEW must assume the
		 * worst (patches are compiled without jump tables) */
		follow_slot(w, in, "an indirect jump");
	}
}

/* One function (or stub), swept from start to end.  Its writes and the
 * places it leaves to are kept only if the whole of it decodes. */
static void sweep(struct walk *w, const struct ovup_arch_code *c)
{
	const uint8_t *p = c->code;
	size_t left = c->size, first_pending = w->npending;
	uint64_t a = c->start;
	ovup_regset s = 0;

	while (left) {
		const cs_insn *in = w->insn;
		unsigned unknown = 0;

		if (!cs_disasm_iter(w->h, &p, &left, &a, w->insn)) {
			undecodable(w, a, first_pending);
			return;
		}
		s |= ovup_x86_insn_writes(w->h, in, &unknown);
		if (unknown)
			full(w, "a register ovup does not model written", in->address);
		if (ovup_x86_changes_anything(in->id))
			full(w, in->mnemonic, in->address);
		if (ovup_x86_has_group(in, CS_GRP_CALL) || ovup_x86_has_group(in, CS_GRP_JUMP) ||
		    ovup_x86_has_group(in, CS_GRP_BRANCH_RELATIVE))
			branch(w, c, in, &s);
	}
	w->regs |= s;
}

/* Code reached without a symbol that bounds a function: an import stub
 * (`jmp *slot(%rip)`, after an endbr64 in .plt.sec) is a call of a
 * function the compiler did not know; anything else is unknown code. */
static void stub(struct walk *w, const struct ovup_arch_code *c)
{
	const uint8_t *p = c->code;
	size_t left = c->size;
	uint64_t a = c->start;
	int n;

	for (n = 0; n < 2 && cs_disasm_iter(w->h, &p, &left, &a, w->insn); n++) {
		if (w->insn->id == X86_INS_ENDBR64)
			continue;
		if (w->insn->id == X86_INS_JMP && rip_slot(w->insn)) {
			if (w->side == OVUP_ARCH_OLD) {
				w->regs |= w->abi;
			} else {
				/* the slot of a stub may change (lazy binding) */
				full(w, "a call through the PLT stub", c->start);
			}
			return;
		}
		break;
	}
	if (w->side == OVUP_ARCH_OLD) {
		char buf[128];

		note(w, "left out the code at %s: no symbol says where it ends",
		     where(w, c->start, buf, sizeof(buf)));
	} else
		full(w, "a call of code no symbol bounds", c->start);
}

int ovup_arch_clobbers(const struct ovup_arch_machine *m, uint64_t entry, enum ovup_arch_side side,
		       const struct ovup_arch_code_src *src, unsigned budget,
		       struct ovup_arch_clobbers *out)
{
	struct walk w = { .m = m, .src = src, .side = side, .budget = budget, .out = out };
	int ret = 0;

	memset(out, 0, sizeof(*out));
	w.abi = ovup_arch_regs_abi(m);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &w.h) != CS_ERR_OK)
		return -ENOSYS;
	cs_option(w.h, CS_OPT_DETAIL, CS_OPT_ON);
	w.insn = cs_malloc(w.h);
	push(&w, entry);
	while (w.npending && !w.full && !w.oom) {
		uint64_t a = w.pending[--w.npending];
		struct ovup_arch_code c;
		char buf[128];

		append(&w, &w.asked, &w.nasked, &w.capasked, a);
		if (src->code(src->ctx, a, &c)) {
			if (side == OVUP_ARCH_OLD)
				note(&w, "left out %s: it cannot be read",
				     where(&w, a, buf, sizeof(buf)));
			else
				full(&w, "a call of code ovup cannot read", a);
			continue;
		}
		if (!c.whole) {
			stub(&w, &c);
			continue;
		}
		/* by the function's start: a jump into the middle of a
		 * function decoded already adds nothing new */
		if (member(w.done, w.ndone, c.start))
			continue;
		append(&w, &w.done, &w.ndone, &w.capdone, c.start);
		if (out->nfuncs >= budget) {
			if (side == OVUP_ARCH_OLD)
				note(&w, "followed at most %u functions", budget);
			else
				full(&w, "more functions than the analysis follows, at", a);
			continue;
		}
		out->nfuncs++;
		sweep(&w, &c);
	}
	if (w.oom)
		ret = -ENOMEM;
	out->regs = w.full ? w.abi : w.regs & w.abi;
	cs_free(w.insn, 1);
	cs_close(&w.h);
	free(w.asked);
	free(w.done);
	free(w.pending);
	return ret;
}
