// SPDX-License-Identifier: MIT
/*
 * Step 8, branch: the record of the patch saved as pending before the
 * target changes, every site switched to its jump in one transaction
 * (switch.c), and the record saved as applied.  A failure leaves the
 * target and the record as they were.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fill_record(struct ovup_plan *p, struct ovup_record *r, uint64_t seq)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->name = ovup_xstrdup(p->name);
	r->source = ovup_xstrdup(p->source);
	r->seq = seq;
	r->time = (int64_t)time(NULL);
	r->state = OVUP_REC_PENDING;
	r->blocks = ovup_xcalloc(2, sizeof(*r->blocks));
	if (p->text.size)
		r->blocks[r->nblocks++] = (struct ovup_rec_block){ p->text.addr, p->text.size,
								   p->text.kind };
	if (p->data.size)
		r->blocks[r->nblocks++] = (struct ovup_rec_block){ p->data.addr, p->data.size,
								   p->data.kind };
	r->funcs = ovup_xcalloc(p->nfuncs, sizeof(*r->funcs));
	r->nfuncs = p->nfuncs;
	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_rec_func *f = &r->funcs[i];

		f->name = ovup_xstrdup(p->funcs[i].name);
		f->object = ovup_xstrdup(p->st.objs[p->funcs[i].old->obj].path);
		f->old_addr = p->funcs[i].old->addr;
		f->old_size = p->funcs[i].old->size;
		f->site = p->funcs[i].site;
		f->new_addr = p->funcs[i].new_addr;
		f->len = p->funcs[i].len;
		memcpy(f->saved, p->funcs[i].cur, f->len);
		memcpy(f->jump, p->funcs[i].jump, f->len);
	}
}

/* One address in each object, other than the main one, that a label was
 * resolved in: the objects the patch's code or data refers to. */
static struct ovup_dep *plan_deps(const struct ovup_plan *p, size_t *n)
{
	struct ovup_dep *deps = ovup_xcalloc(p->nlabels + 1, sizeof(*deps));
	size_t i, k;

	*n = 0;
	for (i = 0; i < p->nlabels; i++) {
		const struct ovup_label *l = &p->labels[i];

		if (l->obj < 0 || p->st.objs[l->obj].is_main)
			continue;
		for (k = 0; k < i; k++)
			if (p->labels[k].obj == l->obj)
				break;
		if (k < i)
			continue;
		deps[*n].addr = l->addr;
		deps[(*n)++].object = p->st.objs[l->obj].name;
	}
	return deps;
}

/* Undoes record_pending: the last record goes, and the store says so. */
static void drop_record(struct ovup_plan *p)
{
	ovup_record_free(&p->rs.r[p->rs.n - 1]);
	p->rs.n--;
	ovup_records_save(p->t, &p->rs);
}

/* The undo data goes to the record before the target changes: saved as
 * pending, which a run that finds it settles from the bytes at the sites. */
static int record_pending(struct ovup_plan *p, struct ovup_record **rec)
{
	uint64_t seq = 1;
	size_t i;
	int ret;

	for (i = 0; i < p->rs.n; i++)
		seq = OVUP_MAX(seq, p->rs.r[i].seq + 1);
	p->rs.r = ovup_xrealloc(p->rs.r, (p->rs.n + 1) * sizeof(*p->rs.r));
	*rec = &p->rs.r[p->rs.n++];
	fill_record(p, *rec, seq);
	ret = ovup_records_save(p->t, &p->rs);
	if (ret)
		drop_record(p);
	return ret;
}

/* The apply's transaction: every site to its jump, with the blocks, the
 * record and the objects the patch refers to, for a target that keeps
 * them itself. */
static int switch_sites(struct ovup_plan *p, const struct ovup_record *rec)
{
	uint32_t *cover = ovup_xcalloc(p->nfuncs, sizeof(*cover));
	struct ovup_block blocks[2];
	struct ovup_record_txn x;
	struct ovup_dep *deps;
	char *blob;
	size_t i, nb = 0;
	int ret;

	for (i = 0; i < p->nfuncs; i++)
		cover[i] = p->funcs[i].cover;
	ovup_record_txn_init(&x, rec, 0, cover, NULL);
	free(cover);
	for (i = 0; i < x.txn.nsites; i++)
		if (ovup_fault_n("stale-site", i + 1))
			x.txn.sites[i].expect[0] ^= 0xff; /* test hook: as if the site changed */
	if (p->text.size)
		blocks[nb++] = p->text;
	if (p->data.size)
		blocks[nb++] = p->data;
	blob = ovup_record_format_one(rec);
	x.txn.blocks = blocks;
	x.txn.nblocks = nb;
	x.txn.blob = blob;
	deps = plan_deps(p, &x.txn.ndeps);
	x.txn.deps = deps;
	x.txn.failed_dep = -1;
	ret = ovup_switch(p->t, &x.txn, p->o->retries, &p->st);
	free(deps);
	free(blob);
	if (ret == -ESTALE) {
		i = ovup_record_txn_failed(&x);
		ret = ovup_err(-ESTALE,
			       "%s: function '%s': the bytes at 0x%" PRIx64 " changed while "
			       "the patch was prepared; nothing was switched, try again",
			       p->t->desc, p->funcs[i].name, p->funcs[i].site);
	}
	p->pause_ns = x.txn.pause_ns;
	p->hold_ns = OVUP_MAX(x.txn.hold_ns, x.txn.pause_ns);
	p->pause_tasks = x.txn.stop_tasks;
	p->pause_rechecked = x.txn.stop_rechecked;
	ovup_record_txn_release(&x);
	return ret;
}

/* Step 8, branch: record, switch every site in one transaction, record
 * again.  Failing before the switch, the record is dropped and the target
 * untouched; a switch that failed half-way keeps the record pending. */
int ovup_step_branch(struct ovup_plan *p)
{
	struct ovup_record *rec;
	int ret;

	ret = record_pending(p, &rec);
	if (ret)
		return ret;
	if (ovup_fault("crash-before-branch"))
		abort(); /* test hook: die with the record saying "pending" */
	rec->state = OVUP_REC_APPLIED;
	ret = switch_sites(p, rec);
	if (ret && ovup_err_inconsistent()) {
		/* a restore failed: some site may still jump into the blocks.
		 * The record stays pending and keeps them; the next run rolls
		 * the patch back from the bytes it finds. */
		rec->state = OVUP_REC_PENDING;
		p->have_text = p->have_data = 0;
		return ret;
	}
	if (ret) {
		drop_record(p);
		return ret;
	}
	if (ovup_fault("crash-after-branch"))
		abort(); /* test hook: switched, but the record still says pending */
	if (ovup_records_save(p->t, &p->rs)) {
		/* applied, but the record still says pending: the next run
		 * confirms it from the target's bytes */
		ovup_warn("%s", ovup_err_msg());
		ovup_err_clear();
	}
	p->have_text = p->have_data = 0; /* the record owns them now */
	return 0;
}
