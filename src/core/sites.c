// SPDX-License-Identifier: MIT
/*
 * The patch sites, for the resolve step: where each replaced function's
 * branch goes, and the checks that make writing it safe: the entry is as
 * the file has it (or as the patch underneath left it), the branch
 * replaces whole instructions, and nothing branches into them.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The old function's bytes (up to 64 KiB), for the decoder. */
static int read_function(struct ovup_plan *p, struct ovup_pfunc *f)
{
	f->ncode = (size_t)OVUP_MIN(f->old->size, 65536);
	f->code = ovup_xmalloc(f->ncode);
	return p->t->ops->read(p->t, f->old->addr, f->code, f->ncode);
}

#define MAX_CANDIDATES 64

/* Code elsewhere in the object (inline asm, hand-written assembly) that
 * branches into the bytes the jump replaces would land in the middle of
 * it.  A byte scan of the object's code finds every place that could be
 * such a branch; each is decoded with the function around it.  Where no
 * symbol says which function that is, ovup cannot tell, and refuses. */
static int check_foreign_branches(struct ovup_plan *p, struct ovup_pfunc *f)
{
	uint64_t cand[MAX_CANDIDATES], start, from;
	uint8_t *code = NULL;
	size_t len, n, i;
	int ret = 0;

	if (!p->t->ops->code_at || p->t->ops->code_at(p->t, f->site, &code, &start, &len))
		return 0;
	n = ovup_arch_branch_candidates(code, len, start, f->site, f->site + f->cover, cand,
					MAX_CANDIDATES);
	for (i = 0; i < n && i < MAX_CANDIDATES && !ret; i++) {
		const struct ovup_sym *s = ovup_symtab_by_addr(&p->st, cand[i]);

		if (cand[i] >= f->old->addr && cand[i] < f->old->addr + f->old->size)
			continue; /* the function's own code: decoded already */
		if (s && s->size && cand[i] >= s->addr && cand[i] < s->addr + s->size &&
		    s->addr >= start && s->addr + s->size <= start + len) {
			if (ovup_arch_branch_into(code + (s->addr - start), (size_t)s->size,
						  s->addr, f->site, f->site + f->cover, &from) == 1)
				ret = ovup_err(-ENOTSUP,
					       "%s: function '%s': the branch at %s+0x%" PRIx64
					       " lands inside the %u bytes the jump "
					       "replaces; ovup cannot patch it safely",
					       p->t->desc, f->name, s->name, from - s->addr,
					       f->cover);
			continue;
		}
		ret = ovup_err(-ENOTSUP,
			       "%s: function '%s': the bytes at 0x%" PRIx64 ", in no known "
			       "function, may be a branch into the %u bytes the jump "
			       "replaces; ovup cannot tell, and does not patch it",
			       p->t->desc, f->name, cand[i], f->cover);
	}
	if (!ret && n > MAX_CANDIDATES)
		ret = ovup_err(-ENOTSUP,
			       "%s: function '%s': %zu places may branch into the bytes the "
			       "jump replaces; ovup does not patch it",
			       p->t->desc, f->name, n);
	free(code);
	return ret;
}

/* The branch replaces whole instructions (cover >= 5 bytes); nothing in
 * the function may branch into them, and OVUP_ORIG needs them moved. */
static int check_displaced(struct ovup_plan *p, struct ovup_pfunc *f)
{
	const uint8_t *at = f->code + f->keep;
	size_t left = f->ncode - f->keep;
	uint64_t from;
	char why[256] = "";
	uint8_t tramp[OVUP_ARCH_TRAMP_MAX];
	struct ovup_reloc_in in = { .code = at,
				    .len = left,
				    .site = f->site,
				    .min_len = f->len,
				    .prefix = f->prefix,
				    .to = f->site };
	struct ovup_reloc_out out = { .buf = tramp,
				      .max = sizeof(tramp),
				      .why = why,
				      .whylen = sizeof(why) };
	int len;

	f->cover = (uint32_t)ovup_arch_insn_cover(at, left, f->site, f->len);
	if (!f->cover)
		return ovup_err(-EINVAL,
				"%s: function '%s': its first bytes do not decode as "
				"x86-64 instructions",
				p->t->desc, f->name);
	if (ovup_arch_branch_into(f->code, f->ncode, f->old->addr, f->site, f->site + f->cover,
				  &from) == 1)
		return ovup_err(-ENOTSUP,
				"%s: function '%s': the branch at %s+0x%" PRIx64 " lands "
				"inside the %u bytes the jump replaces; ovup cannot patch it "
				"safely",
				p->t->desc, f->name, f->name, from - f->old->addr, f->cover);
	len = check_foreign_branches(p, f);
	if (len)
		return len;
	if (!f->want_orig)
		return 0;
	/* an endbr64 kept at the entry starts the trampoline too */
	if (f->keep && ovup_arch_entry_keep(f->code, f->keep) == f->keep) {
		memcpy(f->prefix, f->code, f->keep);
		f->nprefix = f->keep;
	}
	in.nprefix = f->nprefix;
	/* a trial at the site's own address: the link step moves them for real */
	len = ovup_arch_relocate(&in, &out);
	if (len < 0)
		return ovup_err(len,
				"%s: OVUP_ORIG(%s): the instructions the jump displaces cannot "
				"be moved: %s",
				p->t->desc, f->name, why);
	f->tramp_len = (uint32_t)len;
	return 0;
}

/* Whether a record says ovup's own jump is in the function. */
static int stacked(const struct ovup_records *rs, uint64_t func)
{
	size_t i, k;

	for (i = 0; i < rs->n; i++)
		for (k = 0; k < rs->r[i].nfuncs; k++)
			if (rs->r[i].funcs[k].old_addr == func)
				return 1;
	return 0;
}

/* A site no earlier patch of ovup's holds must be as the file has it, or
 * at least not hooked by another tool: never overwrite what ovup cannot
 * restore knowingly.  One ovup's patch holds must still be its jump. */
static int check_untouched(struct ovup_plan *p, struct ovup_pfunc *f, const uint8_t *entry)
{
	const struct ovup_rec_func *rf = NULL;
	const struct ovup_record *top = ovup_records_top(&p->rs, f->site, &rf);
	const struct ovup_object *o = &p->st.objs[f->old->obj];
	uint8_t pristine[32];
	char hex[3 * 32], why[256];

	if (top) {
		/* stacking on an earlier patch: it must still be there */
		f->under = ovup_symtab_intern(&p->st, top->name);
		if (memcmp(f->cur, rf->jump, f->len))
			return ovup_err(-ESTALE,
					"%s: function '%s': the branch written by patch "
					"'%s' is no longer at 0x%" PRIx64 "; the "
					"target was changed behind ovup",
					p->t->desc, f->name, f->under, f->site);
		return 0;
	}
	if (p->t->ops->pristine &&
	    !p->t->ops->pristine(p->t, &p->st, f->old, f->old->addr, pristine, f->keep + f->len)) {
		if (!memcmp(pristine, entry, f->keep + f->len))
			return 0;
		ovup_hex_spaced(hex, entry, f->keep + f->len);
		return ovup_err(-EEXIST,
				"%s: function '%s' at 0x%" PRIx64 " starts with "
				"%s, not what %s holds: another tool's hook "
				"or a debugger's breakpoint is there; "
				"refusing to overwrite it",
				p->t->desc, f->name, f->old->addr, hex, o->path);
	}
	if (p->t->ops->hooked &&
	    p->t->ops->hooked(p->t, &p->st, f->site, f->cur, why, sizeof(why))) {
		ovup_hex_spaced(hex, f->cur, f->len);
		return ovup_err(-EEXIST,
				"%s: function '%s' at 0x%" PRIx64 " is already "
				"hooked by someone else: %s (%s at its "
				"patch site); refusing to overwrite it",
				p->t->desc, f->name, f->site, why, hex);
	}
	return 0;
}

/* Where in the entry the branch goes (after what the target keeps, such
 * as an endbr64), and whether the function is long enough for it. */
static int find_site(struct ovup_plan *p, struct ovup_pfunc *f, const uint8_t *entry, size_t n)
{
	const struct ovup_object *o = &p->st.objs[f->old->obj];
	int ret;

	if (p->t->ops->verify_entry) {
		ret = p->t->ops->verify_entry(p->t, &p->st, f->old, entry, n,
					      stacked(&p->rs, f->old->addr));
		if (ret)
			return ret;
	}
	ret = p->t->ops->site(p->t, entry, n, &f->keep);
	if (ret)
		return ovup_err(ret,
				"%s: function '%s' in %s: its entry has no patch site "
				"ovup can use%s",
				p->t->desc, f->name, o->name,
				p->t->ops->no_site_hint ? p->t->ops->no_site_hint : "");
	f->len = ovup_arch_jump_len;
	if (!f->old->size)
		return ovup_err(-EINVAL,
				"%s: function '%s' in %s has no size in the symbol "
				"table, so ovup cannot tell that the %u-byte jump fits",
				p->t->desc, f->name, o->name, f->len);
	if (f->old->size < f->keep + f->len)
		return ovup_err(-EINVAL,
				"%s: function '%s' in %s is %" PRIu64 " bytes, shorter "
				"than the %u-byte jump (plus %u kept); replace its "
				"callers instead",
				p->t->desc, f->name, o->name, f->old->size, f->len, f->keep);
	return 0;
}

/* Reads the function's first bytes and decides where its branch goes,
 * refusing a site another tool (or a debugger) has changed. */
static int plan_site(struct ovup_plan *p, struct ovup_pfunc *f)
{
	uint8_t entry[32];
	size_t n = sizeof(entry);
	int ret;

	if (f->old->size && f->old->size < n)
		n = (size_t)f->old->size;
	ret = p->t->ops->read(p->t, f->old->addr, entry, n);
	if (!ret)
		ret = find_site(p, f, entry, n);
	if (!ret)
		ret = read_function(p, f);
	if (ret)
		return ret;
	/* what OVUP_ORIG moves must be the bytes just verified */
	if (memcmp(f->code, entry, OVUP_MIN(n, f->ncode)))
		return ovup_err(-EBUSY,
				"%s: function '%s' changed while ovup read it (a "
				"probe or another tool at work); try again",
				p->t->desc, f->name);
	f->site = f->old->addr + f->keep;
	memcpy(f->cur, entry + f->keep, f->len);
	ret = check_displaced(p, f);
	if (!ret)
		ret = check_untouched(p, f, entry);
	return ret;
}

/* The last part of the resolve step: every function's patch site. */
int ovup_plan_sites(struct ovup_plan *p)
{
	size_t i;
	int ret;

	for (i = 0; i < p->nfuncs; i++) {
		ret = plan_site(p, &p->funcs[i]);
		if (ret)
			return ret;
	}
	return 0;
}
