// SPDX-License-Identifier: MIT
/*
 * The verb apply: the eight steps of the paper on one patch, timed, and
 * what they did (or, for a dry run, would do) returned as a result for
 * cli/ to show.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ovup_step_names[OVUP_NSTEPS] = { "labels", "size", "alloc",   "mapfile",
						   "link",   "load", "protect", "branch" };

static void result_func(const struct ovup_plan *p, const struct ovup_pfunc *f,
			struct ovup_apply_func *rf)
{
	const struct ovup_object *ob = &p->st.objs[f->old->obj];

	rf->name = ovup_xstrdup(f->name);
	rf->impl = strcmp(f->name, f->old->name) ? ovup_xstrdup(f->old->name) : NULL;
	rf->object = ovup_xstrdup(ob->path);
	rf->object_name = ovup_xstrdup(ob->name);
	rf->old_addr = f->old->addr;
	rf->old_size = f->old->size;
	rf->site = f->site;
	rf->after_entry = f->keep != 0;
	rf->new_addr = f->new_addr;
	memcpy(rf->jump, f->jump, f->len);
	rf->len = f->len;
	rf->under = f->under ? ovup_xstrdup(f->under) : NULL;
	rf->contract = f->contract;
	ovup_arch_regs_format(f->regs_old, rf->regs_old, sizeof(rf->regs_old));
	ovup_arch_regs_format(f->regs_new, rf->regs_new, sizeof(rf->regs_new));
	ovup_arch_regs_format(f->regs_extra, rf->regs_extra, sizeof(rf->regs_extra));
	snprintf(rf->why_new, sizeof(rf->why_new), "%s", f->why_new);
	rf->wrap_addr = f->wrap_addr;
	rf->wrap_len = f->wrap_len;
}

static void result_fill(const struct ovup_plan *p, struct ovup_apply_result *res)
{
	size_t i;

	snprintf(res->target, sizeof(res->target), "%s", p->t->desc);
	res->patch = ovup_xstrdup(p->name);
	res->dry_run = p->o->dry_run;
	res->text_addr = p->text.addr;
	res->text_size = p->text.size;
	res->data_addr = p->data.addr;
	res->data_size = p->data.size;
	res->ro_size = p->ro_size;
	res->rw_size = p->rw_size;
	res->funcs = ovup_xcalloc(p->nfuncs ? p->nfuncs : 1, sizeof(*res->funcs));
	res->nfuncs = p->nfuncs;
	for (i = 0; i < p->nfuncs; i++)
		result_func(p, &p->funcs[i], &res->funcs[i]);
	res->pause_ns = p->pause_ns;
	res->hold_ns = p->hold_ns;
	res->stop_tasks = p->pause_tasks;
	res->stop_rechecked = p->pause_rechecked;
}

/* An apply must not reuse the name of an applied patch (a dry run may). */
static int check_unique(struct ovup_plan *p)
{
	char *name = ovup_patch_name(p->o);
	struct ovup_record *dup = ovup_record_find(&p->rs, name);
	int ret = 0;

	if (dup && !p->o->dry_run)
		ret = ovup_err(-EEXIST,
			       "%s: patch '%s' is already applied (seq %" PRIu64 "); "
			       "revert it first or pick another --name",
			       p->t->desc, name, dup->seq);
	free(name);
	return ret;
}

int ovup_apply(struct ovup_target *t, const struct ovup_apply_opts *o,
	       struct ovup_apply_result *res)
{
	struct ovup_plan p;
	uint64_t *ns = res->step_ns, start = ovup_now_ns(), t0;
	int ret;

	memset(res, 0, sizeof(*res));
	ovup_plan_init(&p, t, o);
	ret = ovup_records_load(t, &p.rs);
	if (!ret)
		ret = check_unique(&p);
	if (!ret)
		ret = ovup_prepare(&p, ns);
	if (ret)
		goto out;
		/* up to the branch, a signal rolls everything back */
#define STEP(i, call)                                           \
	do {                                                    \
		ret = ovup_check_signal("nothing was applied"); \
		if (ret)                                        \
			goto out;                               \
		t0 = ovup_now_ns();                             \
		ret = (call);                                   \
		ns[i] = ovup_now_ns() - t0;                     \
		if (ret)                                        \
			goto out;                               \
	} while (0)
	STEP(2, ovup_step_alloc(&p, o->dry_run));
	STEP(3, ovup_step_mapfile(&p));
	STEP(4, ovup_step_link(&p));
	if (!o->dry_run) {
		STEP(5, ovup_step_load(&p));
		STEP(6, ovup_fault("fail-at-protect")
				? ovup_err(-EIO, "fault injected by OVUP_FAULT=fail-at-protect")
				: ovup_step_protect(&p));
		STEP(7, ovup_step_branch(&p));
	}
#undef STEP
	result_fill(&p, res);
	res->diff = p.diff;
	p.diff = NULL;
	res->total_ns = ovup_now_ns() - start;
out:
	ovup_plan_release(&p);
	return ret;
}

void ovup_apply_result_free(struct ovup_apply_result *res)
{
	size_t i;

	for (i = 0; i < res->nfuncs; i++) {
		free(res->funcs[i].name);
		free(res->funcs[i].impl);
		free(res->funcs[i].object);
		free(res->funcs[i].object_name);
		free(res->funcs[i].under);
	}
	free(res->funcs);
	free(res->patch);
	ovup_diff_found_free(res->diff);
	memset(res, 0, sizeof(*res));
}
