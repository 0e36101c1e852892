// SPDX-License-Identifier: MIT
/*
 * The verb list: the applied patches in the order they were applied, the
 * state of each function's branch as read from the target now, the stack
 * of patches on every function patched more than once, and the memory
 * kept or retired after reverts.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *status_of(struct ovup_target *t, const struct ovup_records *rs,
			     const struct ovup_record *r, const struct ovup_rec_func *f)
{
	const struct ovup_record *top = ovup_records_top(rs, f->site, NULL);
	uint8_t cur[16];

	if (top != r)
		return "under a newer patch";
	if (t->ops->read(t, f->site, cur, f->len)) {
		ovup_err_clear();
		return "unreadable";
	}
	return memcmp(cur, f->jump, f->len) ? "CHANGED behind ovup" : "active";
}

static int cmp_seq(const void *a, const void *b)
{
	const struct ovup_record *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* How many patches branch at site. */
static size_t depth_at(const struct ovup_records *rs, uint64_t site)
{
	size_t a, b, depth = 0;

	for (a = 0; a < rs->n; a++)
		for (b = 0; b < rs->r[a].nfuncs; b++)
			depth += rs->r[a].funcs[b].site == site;
	return depth;
}

/* The stack at f's site, newest first. */
static void stack_of(const struct ovup_records *rs, const struct ovup_rec_func *f,
		     struct ovup_list_stack *s)
{
	size_t a, b;

	s->function = f->name;
	s->patches = ovup_xcalloc(depth_at(rs, f->site), sizeof(*s->patches));
	for (a = rs->n; a-- > 0;)
		for (b = 0; b < rs->r[a].nfuncs; b++)
			if (rs->r[a].funcs[b].site == f->site)
				s->patches[s->npatches++] = rs->r[a].name;
}

/* Every function patched more than once, in the order of its top patch. */
static void stacks(struct ovup_list_result *res)
{
	const struct ovup_records *rs = &res->rs;
	size_t i, k, n = 0;

	for (i = 0; i < rs->n; i++)
		n += rs->r[i].nfuncs;
	res->stacks = ovup_xcalloc(n ? n : 1, sizeof(*res->stacks));
	for (i = 0; i < rs->n; i++)
		for (k = 0; k < rs->r[i].nfuncs; k++) {
			const struct ovup_rec_func *f = &rs->r[i].funcs[k];

			if (ovup_records_top(rs, f->site, NULL) != &rs->r[i] ||
			    depth_at(rs, f->site) < 2)
				continue;
			stack_of(rs, f, &res->stacks[res->nstacks++]);
		}
}

int ovup_list(struct ovup_target *t, struct ovup_list_result *res)
{
	struct ovup_records *rs = &res->rs;
	size_t i, k;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = ovup_records_load(t, rs);
	if (ret)
		return ret;
	snprintf(res->target, sizeof(res->target), "%s", t->desc);
	qsort(rs->r, rs->n, sizeof(*rs->r), cmp_seq);
	res->patches = ovup_xcalloc(rs->n ? rs->n : 1, sizeof(*res->patches));
	for (i = 0; i < rs->n; i++) {
		struct ovup_list_patch *lp = &res->patches[i];

		lp->r = &rs->r[i];
		lp->funcs = ovup_xcalloc(lp->r->nfuncs ? lp->r->nfuncs : 1, sizeof(*lp->funcs));
		int changed = 0;

		for (k = 0; k < lp->r->nfuncs; k++) {
			lp->funcs[k].f = &lp->r->funcs[k];
			lp->funcs[k].status = status_of(t, rs, lp->r, lp->funcs[k].f);
			changed |= lp->funcs[k].status[0] == 'C';
		}
		if (changed && !t->ops->keeps_records)
			ovup_note("%s: patch '%s' no longer holds ovup's jump everywhere: 'ovup "
				  "forget %s' drops its record, 'ovup revert --force %s' puts the "
				  "old bytes back",
				  t->desc, lp->r->name, lp->r->name, lp->r->name);
	}
	stacks(res);
	return 0;
}

void ovup_list_result_free(struct ovup_list_result *res)
{
	size_t i;

	for (i = 0; res->patches && i < res->rs.n; i++)
		free(res->patches[i].funcs);
	for (i = 0; i < res->nstacks; i++)
		free(res->stacks[i].patches);
	free(res->patches);
	free(res->stacks);
	ovup_records_free(&res->rs);
	memset(res, 0, sizeof(*res));
}
