// SPDX-License-Identifier: MIT
/*
 * Register contracts, part of the link step: a caller built with GCC's
 * -fipa-ra may keep values in call-clobbered registers across a call to a
 * function it knows leaves them alone.  For each replaced function this
 * compares what the old code may write (as its callers were compiled) with
 * what the new code may write, and where the new writes more, puts a
 * wrapper that saves the difference between the branch and the new code.
 * docs/procedure.md, "Register contracts", has the rules in prose.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUDGET 256            /* functions followed per analysis */
#define MAX_FUNC (256u << 10) /* longer functions count as unknown code */

struct src {
	struct ovup_plan *p;
	enum ovup_arch_side side;
	uint8_t *buf;
	size_t cap;
};

static uint8_t *room(struct src *s, size_t n)
{
	if (n > s->cap) {
		s->buf = ovup_xrealloc(s->buf, n);
		s->cap = n;
	}
	return s->buf;
}

static const struct ovup_img_sec *img_sec(const struct ovup_plan *p, uint64_t a, size_t n)
{
	size_t i;

	for (i = 0; i < p->img.nsecs; i++) {
		const struct ovup_img_sec *x = &p->img.secs[i];

		if (!x->nobits && a >= x->addr && a + n <= x->addr + x->size)
			return x;
	}
	return NULL;
}

static const struct ovup_img_sym *img_func(const struct ovup_plan *p, uint64_t a)
{
	size_t i;

	for (i = 0; i < p->img.nsyms; i++) {
		const struct ovup_img_sym *y = &p->img.syms[i];

		if (y->type == OVUP_SYM_FUNC && y->size && a >= y->value && a < y->value + y->size)
			return y;
	}
	return NULL;
}

/* The patch's own function at a (a trampoline, a function of the image). */
static int patch_code(struct src *s, uint64_t a, struct ovup_arch_code *out)
{
	struct ovup_plan *p = s->p;
	const struct ovup_img_sym *y;
	const struct ovup_img_sec *x;
	size_t i;

	for (i = 0; i < p->nfuncs; i++) {
		const struct ovup_pfunc *f = &p->funcs[i];

		/* OVUP_ORIG's trampoline runs the old function as it is now
		 * (with the branch of a patch underneath, if any) */
		if (f->want_orig && a >= f->tramp_addr && a < f->tramp_addr + f->tramp_len) {
			out->start = f->old->addr;
			out->code = f->code;
			out->size = f->ncode;
			out->whole = f->ncode == f->old->size;
			return 0;
		}
	}
	y = img_func(p, a);
	x = y ? img_sec(p, y->value, y->size) : NULL;
	if (x) {
		out->start = y->value;
		out->code = x->data + (y->value - x->addr);
		out->size = y->size;
		out->whole = 1;
		return 0;
	}
	x = img_sec(p, a, 16);
	if (!x)
		return -ENOENT;
	out->start = a;
	out->code = x->data + (a - x->addr);
	out->size = 16;
	out->whole = 0;
	return 0;
}

/* OLD: the bytes as the object had them, before any ovup patch: the
 * branches earlier patches wrote are replaced by what they saved (the
 * oldest record at a site has the original bytes). */
static void unpatch(const struct ovup_plan *p, uint64_t start, uint8_t *buf, size_t n)
{
	size_t i, k;

	for (i = 0; i < p->rs.n; i++)
		for (k = 0; k < p->rs.r[i].nfuncs; k++) {
			const struct ovup_rec_func *rf = &p->rs.r[i].funcs[k];
			const struct ovup_rec_func *first = NULL;
			uint64_t seq = UINT64_MAX;
			size_t a, b;

			if (rf->site < start || rf->site + rf->len > start + n)
				continue;
			for (a = 0; a < p->rs.n; a++)
				for (b = 0; b < p->rs.r[a].nfuncs; b++)
					if (p->rs.r[a].funcs[b].site == rf->site &&
					    p->rs.r[a].seq < seq) {
						seq = p->rs.r[a].seq;
						first = &p->rs.r[a].funcs[b];
					}
			memcpy(buf + (rf->site - start), first->saved, first->len);
		}
}

static int code_cb(void *ctx, uint64_t a, struct ovup_arch_code *out)
{
	struct src *s = ctx;
	struct ovup_plan *p = s->p;
	const struct ovup_sym *sym;
	size_t i, n;

	if (s->side == OVUP_ARCH_NEW) {
		if (!patch_code(s, a, out))
			return 0;
		/* after the switch, a call of a replaced function runs the
		 * new code (its wrapper writes less than that) */
		for (i = 0; i < p->nfuncs; i++) {
			const struct ovup_pfunc *f = &p->funcs[i];

			if (a >= f->old->addr && a < f->old->addr + f->old->size)
				return patch_code(s, f->new_addr, out);
		}
	}
	sym = ovup_symtab_by_addr(&p->st, a);
	if (sym && sym->type == OVUP_SYM_FUNC && sym->size && sym->size <= MAX_FUNC) {
		n = (size_t)sym->size;
		if (p->t->ops->read(p->t, sym->addr, room(s, n), n)) {
			ovup_err_clear();
			return -ENOENT;
		}
		if (s->side == OVUP_ARCH_OLD)
			unpatch(p, sym->addr, s->buf, n);
		out->start = sym->addr;
		out->code = s->buf;
		out->size = n;
		out->whole = 1;
		return 0;
	}
	if (p->t->ops->read(p->t, a, room(s, 16), 16)) {
		ovup_err_clear();
		return -ENOENT;
	}
	out->start = a;
	out->code = s->buf;
	out->size = 16;
	out->whole = 0;
	return 0;
}

/* A slot of the patch's GOT: ld filled it and the protect step makes the
 * read-only part of the data block read-only (the ELF section says
 * writable), so a call through it goes where it says. */
static int constant_cb(void *ctx, uint64_t a, uint64_t *val)
{
	struct src *s = ctx;
	const struct ovup_plan *p = s->p;
	const struct ovup_img_sec *x = img_sec(p, a, 8);
	uint64_t ro = p->data.addr ? p->data.addr
				   : p->text.addr + OVUP_ALIGN_UP(p->text_size, 4096);

	if (!x || x->nobits || a < ro || a + 8 > ro + OVUP_ALIGN_UP(p->ro_size, 4096))
		return -ENOENT;
	memcpy(val, x->data + (a - x->addr), 8);
	return 0;
}

static void name_cb(void *ctx, uint64_t a, char *buf, size_t len)
{
	struct src *s = ctx;
	const struct ovup_img_sym *y = img_func(s->p, a);
	const struct ovup_sym *sym = y ? NULL : ovup_symtab_by_addr(&s->p->st, a);

	if (y)
		snprintf(buf, len, "%s+0x%" PRIx64 " (patch)", y->name, a - y->value);
	else if (sym)
		snprintf(buf, len, "%s+0x%" PRIx64, sym->name, a - sym->addr);
	else
		snprintf(buf, len, "0x%" PRIx64, a);
}

/* Callers outside the old function's object cannot rely on more than the
 * ABI, and a default-visibility global of a shared object is called from
 * inside it through the PLT too, since another object could interpose it:
 * GCC's -fipa-ra applies to no caller.  Executables' globals, statics and
 * hidden or protected symbols bind locally; so does a global with a local
 * alias at the same address (glibc's internal __GI_ names), which only a
 * full symbol table shows. */
static int interposable(const struct ovup_plan *p, const struct ovup_sym *old)
{
	const struct ovup_object *o = &p->st.objs[old->obj];
	size_t i;

	if (o->is_main || !o->full || old->bind == OVUP_BIND_LOCAL || old->vis != OVUP_VIS_DEFAULT)
		return 0;
	for (i = 0; i < p->st.nsyms; i++) {
		const struct ovup_sym *s = &p->st.syms[i];

		if (s->obj == old->obj && s->addr == old->addr &&
		    (s->bind == OVUP_BIND_LOCAL || s->vis != OVUP_VIS_DEFAULT))
			return 0;
	}
	return 1;
}

static int analyse(struct ovup_plan *p, uint64_t entry, enum ovup_arch_side side,
		   const struct ovup_arch_machine *m, struct ovup_arch_clobbers *out)
{
	struct src s = { p, side, NULL, 0 };
	struct ovup_arch_code_src cs = { code_cb, constant_cb, name_cb, &s };
	int ret = ovup_arch_clobbers(m, entry, side, &cs, BUDGET, out);

	free(s.buf);
	return ret;
}

/* How the new function is called: whether a wrapper can pass its
 * arguments on (it moves the stack pointer, so arguments passed on the
 * stack would not be where the new code looks), and which registers carry
 * its return value (the wrapper must not restore those). */
static int call_abi(struct ovup_plan *p, struct ovup_pfunc *f, ovup_regset *ret_regs)
{
	const struct ovup_object *o = &p->st.objs[f->old->obj];
	struct ovup_dwarf_call call;
	char regs[512];
	int ret;

	ovup_arch_regs_format(f->regs_extra, regs, sizeof(regs));
	ret = ovup_dwarf_call(p->objpath, f->name, &call);
	if (ret)
		return ovup_err(-ENOTSUP,
				"%s: function '%s': the new code writes %s, which the old "
				"code left intact and callers in %s may rely on; a wrapper "
				"would save them, but %s has no debug information to tell "
				"how '%s' is called; compile it without -g0",
				p->t->desc, f->name, regs, o->name, p->objpath, f->name);
	if (call.stack_args || call.ret_unknown)
		return ovup_err(-ENOTSUP,
				"%s: function '%s': the new code writes %s, which the old "
				"code left intact and callers in %s may rely on (GCC "
				"-fipa-ra); ovup cannot wrap it to save them: %s; write the "
				"replacement so that it leaves those registers alone",
				p->t->desc, f->name, regs, o->name, call.why);
	*ret_regs = ovup_arch_regs_return(call.ret_int, call.ret_sse);
	return 0;
}

static int wrap(struct ovup_plan *p, struct ovup_pfunc *f, const struct ovup_arch_machine *m)
{
	uint8_t buf[OVUP_ARCH_WRAP_MAX];
	char regs[512];
	struct ovup_img_sec *x;
	int len;

	len = ovup_arch_wrapper(m, f->wrap_addr, f->new_addr, f->regs_extra, buf, sizeof(buf));
	if (len < 0) {
		ovup_arch_regs_format(f->regs_extra, regs, sizeof(regs));
		return ovup_err(len,
				"%s: function '%s': cannot encode the wrapper that saves %s: %s",
				p->t->desc, f->name, regs, strerror(-len));
	}
	p->img.secs = ovup_xrealloc(p->img.secs, (p->img.nsecs + 1) * sizeof(*p->img.secs));
	x = &p->img.secs[p->img.nsecs++];
	memset(x, 0, sizeof(*x));
	x->name = ovup_xasprintf("ovup.wrap.%s", f->name);
	x->addr = f->wrap_addr;
	x->size = (uint64_t)len;
	x->data = ovup_xmalloc((size_t)len);
	memcpy(x->data, buf, (size_t)len);
	f->wrap_len = (uint32_t)len;
	return 0;
}

/* One function's contract: KEPT, INTERPOSABLE, or a wrapper (or an error
 * when one is needed and cannot be made). */
static int contract(struct ovup_plan *p, struct ovup_pfunc *f, const struct ovup_arch_machine *m)
{
	struct ovup_arch_clobbers c;
	ovup_regset ret_regs = 0;
	int ret;

	ret = analyse(p, f->old->addr, OVUP_ARCH_OLD, m, &c);
	if (ret)
		return ovup_err(ret, "%s: function '%s': cannot decode it: %s", p->t->desc, f->name,
				strerror(-ret));
	f->regs_old = c.regs;
	if (c.why[0])
		ovup_info("%s: %s: the old code's registers: %s", p->t->desc, f->name, c.why);
	ret = analyse(p, f->new_addr, OVUP_ARCH_NEW, m, &c);
	if (ret)
		return ovup_err(ret, "%s: function '%s': cannot decode the new code: %s",
				p->t->desc, f->name, strerror(-ret));
	f->regs_new = c.regs;
	snprintf(f->why_new, sizeof(f->why_new), "%s", c.why);
	f->regs_extra = f->regs_new & ~f->regs_old;
	f->contract = OVUP_CONTRACT_KEPT;
	if (!f->regs_extra)
		return 0;
	if (interposable(p, f->old)) {
		f->contract = OVUP_CONTRACT_INTERPOSABLE;
		return 0;
	}
	ret = call_abi(p, f, &ret_regs);
	if (ret)
		return ret;
	/* a register the old code was not seen to write (it may not have
	 * decoded) but that carries the return value is no contract */
	f->regs_extra &= ~ret_regs;
	if (!f->regs_extra)
		return 0;
	if (ovup_fault("no-wrapper")) {
		f->contract = OVUP_CONTRACT_FAULT; /* test hook: the bug the wrapper fixes */
		return 0;
	}
	f->contract = OVUP_CONTRACT_WRAPPED;
	return wrap(p, f, m);
}

int ovup_plan_contracts(struct ovup_plan *p)
{
	struct ovup_arch_machine m;
	size_t i;
	int ret;

	if (!p->t->ops->callers_assume_clobbers)
		return 0;
	ovup_arch_machine(&m);
	for (i = 0; i < p->nfuncs; i++) {
		ret = contract(p, &p->funcs[i], &m);
		if (ret)
			return ret;
	}
	return 0;
}
