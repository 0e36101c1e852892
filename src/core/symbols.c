// SPDX-License-Identifier: MIT
/*
 * The verb symbols: the target's functions and variables (the labels a
 * patch can use), those matching a glob, ordered by name; and the objects
 * whose static symbols are unknown (only .dynsym), with how to get them.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sym_by_name(const void *a, const void *b)
{
	const struct ovup_sym *x = *(const struct ovup_sym *const *)a;
	const struct ovup_sym *y = *(const struct ovup_sym *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int ovup_symbols(struct ovup_target *t, const char *glob, struct ovup_symbols_result *res)
{
	struct ovup_symtab *st = &res->st;
	size_t i;
	int ret;

	memset(res, 0, sizeof(*res));
	snprintf(res->target, sizeof(res->target), "%s", t->desc);
	res->glob = glob;
	ret = t->ops->labels(t, st);
	if (ret) {
		ovup_symbols_result_free(res);
		return ret;
	}
	/* the table is ordered by hash; show the matches by name */
	res->syms = ovup_xcalloc(st->nsyms ? st->nsyms : 1, sizeof(*res->syms));
	for (i = 0; i < st->nsyms; i++)
		if (!glob || !fnmatch(glob, st->syms[i].name, 0))
			res->syms[res->n++] = &st->syms[i];
	qsort(res->syms, res->n, sizeof(*res->syms), sym_by_name);
	res->dynsym = ovup_xcalloc(st->nobjs ? st->nobjs : 1, sizeof(*res->dynsym));
	ovup_symbols_hints_prefetch(st);
	for (i = 0; i < st->nobjs; i++) {
		if (st->objs[i].full)
			continue;
		res->dynsym[res->ndynsym].obj = i;
		res->dynsym[res->ndynsym++].hint = ovup_object_symbols_hint(&st->objs[i]);
	}
	return 0;
}

void ovup_symbols_result_free(struct ovup_symbols_result *res)
{
	size_t i;

	for (i = 0; i < res->ndynsym; i++)
		free(res->dynsym[i].hint);
	free(res->dynsym);
	free(res->syms);
	ovup_symtab_free(&res->st);
	memset(res, 0, sizeof(*res));
}
