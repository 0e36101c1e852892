// SPDX-License-Identifier: MIT
/*
 * The plan of one apply: what every step reads and writes, from the patch's
 * selectors and the labels it uses to the blocks allocated for it, and its
 * release, which frees blocks no record owns yet.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ovup_selector *ovup_plan_selector(struct ovup_plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nsels; i++)
		if (!strcmp(p->sels[i].name, name))
			return &p->sels[i];
	p->sels = ovup_xrealloc(p->sels, (p->nsels + 1) * sizeof(*p->sels));
	memset(&p->sels[p->nsels], 0, sizeof(p->sels[0]));
	p->sels[p->nsels].name = ovup_symtab_intern(&p->st, name);
	return &p->sels[p->nsels++];
}

void ovup_plan_add_label(struct ovup_plan *p, const char *name, uint64_t addr, long obj)
{
	p->labels = ovup_xrealloc(p->labels, (p->nlabels + 1) * sizeof(*p->labels));
	p->labels[p->nlabels].name = ovup_symtab_intern(&p->st, name);
	p->labels[p->nlabels].addr = addr;
	p->labels[p->nlabels].obj = obj;
	p->nlabels++;
}

void ovup_plan_init(struct ovup_plan *p, struct ovup_target *t, const struct ovup_apply_opts *o)
{
	memset(p, 0, sizeof(*p));
	p->t = t;
	p->o = o;
	p->scope = -1;
}

void ovup_plan_release(struct ovup_plan *p)
{
	if (p->have_text || p->have_data) {
		struct ovup_block b[2];
		struct ovup_busy busy;
		size_t n = 0;

		if (p->have_text)
			b[n++] = p->text;
		if (p->have_data)
			b[n++] = p->data;
		int ret = p->t->ops->free(p->t, b, n, &busy);

		if (ret && ret != -ESRCH) /* a dead target needs no cleanup */
			ovup_warn("%s: could not release ovup's memory at 0x%" PRIx64 "",
				  p->t->desc, b[0].addr);
	}
	ovup_elf_obj_free(&p->obj);
	ovup_elf_img_free(&p->img);
	ovup_symtab_free(&p->st);
	ovup_records_free(&p->rs);
	if (p->tmp)
		ovup_tmpdir_remove(p->tmp);
	free(p->tmp);
	free(p->objpath);
	for (size_t i = 0; i < p->nfuncs; i++)
		free(p->funcs[i].code);
	free(p->funcs);
	free(p->labels);
	free(p->tls);
	ovup_diff_found_free(p->diff);
	free(p->sels);
	free(p->mapfile);
	free(p->name);
	free(p->source);
}
