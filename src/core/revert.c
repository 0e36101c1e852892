// SPDX-License-Identifier: MIT
/*
 * The verb revert: put back the bytes a patch overwrote, journaled so
 * that a run killed half-way is finished by the next, then drop the
 * patch from the record and free its memory once nothing can run in it.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The patch to revert: NAME, or the latest; only one on top of every
 * function it patched. */
static int choose(struct ovup_target *t, struct ovup_records *rs, const char *name,
		  struct ovup_record **out)
{
	struct ovup_record *r;
	size_t i;

	if (!rs->n)
		return ovup_err(-ENOENT, "%s: nothing to revert: no patch applied by ovup",
				t->desc);
	r = name ? ovup_record_find(rs, name) : ovup_record_latest(rs);
	if (!r) {
		struct ovup_buf names = { 0 };
		int ret;

		for (i = 0; i < rs->n; i++)
			ovup_buf_printf(&names, "%s'%s'", i ? ", " : "", rs->r[i].name);
		ret = ovup_err(-ENOENT, "%s: no patch named '%s' (applied: %s)", t->desc, name,
			       names.s);
		ovup_buf_free(&names);
		return ret;
	}
	for (i = 0; i < r->nfuncs; i++) {
		const struct ovup_rec_func *tf = NULL;
		const struct ovup_record *top = ovup_records_top(rs, r->funcs[i].site, &tf);

		if (top != r)
			return ovup_err(-ENOTEMPTY,
					"%s: patch '%s' is under patch '%s' on function "
					"'%s'; revert '%s' first",
					t->desc, r->name, top->name, r->funcs[i].name, top->name);
	}
	*out = r;
	return 0;
}

/* Journal "reverting", switch every site back; on failure the record
 * says "applied" again, unless a restore failed half-way (then it stays
 * "reverting" for the next run to finish). */
static int switch_back(struct ovup_target *t, struct ovup_records *rs, struct ovup_record *r,
		       unsigned retries, struct ovup_txn *txn)
{
	size_t i;
	int ret;

	ret = ovup_check_saved(t, rs, r);
	if (!ret)
		ret = ovup_check_signal("nothing was reverted");
	if (ret)
		return ret;
	/* from here on a signal waits until the revert is done */
	r->state = OVUP_REC_REVERTING;
	ret = ovup_records_save(t, rs);
	if (ret)
		return ret;
	if (ovup_fault("crash-before-revert"))
		abort(); /* test hook: die with the record saying "reverting" */
	ret = ovup_switch_record(t, r, 1, 0, retries, &i, txn);
	if (ret == -ESTALE) {
		ret = ovup_err(-ESTALE,
			       "%s: function '%s': the branch ovup wrote at 0x%" PRIx64
			       " is no longer there (changed by another tool?); not "
			       "reverting",
			       t->desc, r->funcs[i].name, r->funcs[i].site);
	}
	if (ret && !ovup_err_inconsistent()) {
		r->state = OVUP_REC_APPLIED;
		ovup_records_save(t, rs);
	}
	return ret;
}

/* The reverted patch's memory, unless the target keeps its own. */
static void release_blocks(struct ovup_target *t, const struct ovup_record *gone)
{
	struct ovup_block *blk;
	struct ovup_busy busy;
	size_t i;

	if (t->ops->keeps_records || !gone->nblocks)
		return;
	blk = ovup_xcalloc(gone->nblocks, sizeof(*blk));
	for (i = 0; i < gone->nblocks; i++)
		blk[i] = (struct ovup_block){ gone->blocks[i].addr, gone->blocks[i].size,
					      (enum ovup_block_kind)gone->blocks[i].kind, 0 };
	if (ovup_release(t, blk, gone->nblocks, &busy) == -EBUSY) {
		char why[192];

		ovup_kept_why(&busy, why, sizeof(why));
		ovup_warn("%s: kept the patch's memory at 0x%" PRIx64 " mapped: %s; a later "
			  "ovup run releases it",
			  t->desc, blk[0].addr, why);
	}
	free(blk);
}

const char *const ovup_revert_step_names[OVUP_REVERT_NSTEPS] = { "records", "switch", "save",
								 "release" };

int ovup_revert(struct ovup_target *t, const char *name, unsigned retries,
		struct ovup_revert_result *res)
{
	struct ovup_records rs = { 0 };
	struct ovup_record *r = NULL, gone;
	uint64_t start = ovup_now_ns(), mark = start, now;
	struct ovup_txn txn = { 0 };
	int ret;

#define LAP(step) (now = ovup_now_ns(), res->step_ns[step] = now - mark, mark = now)
	memset(res, 0, sizeof(*res));
	ret = ovup_records_load(t, &rs);
	if (!ret)
		ret = choose(t, &rs, name, &r);
	LAP(OVUP_REVERT_RECORDS);
	if (!ret)
		ret = switch_back(t, &rs, r, retries, &txn);
	LAP(OVUP_REVERT_SWITCH);
	if (ret)
		goto out;
	if (ovup_fault("crash-after-revert"))
		abort(); /* test hook: switched back, the record still says "reverting" */
	gone = *r;
	memmove(r, r + 1, (size_t)(rs.r + rs.n - r - 1) * sizeof(*r));
	rs.n--;
	if (ovup_records_save(t, &rs)) {
		/* reverted, but the record still says "reverting": the next
		 * run drops it, seeing the old bytes at every site */
		ovup_warn("%s", ovup_err_msg() ? ovup_err_msg() : "cannot save the record");
		ovup_err_clear();
	}
	LAP(OVUP_REVERT_SAVE);
	release_blocks(t, &gone);
	LAP(OVUP_REVERT_RELEASE);
#undef LAP
	snprintf(res->target, sizeof(res->target), "%s", t->desc);
	res->patch = ovup_xstrdup(gone.name);
	res->pause_ns = txn.pause_ns;
	res->total_ns = ovup_now_ns() - start;
	res->retired = txn.retired;
	res->stop_tasks = txn.stop_tasks;
	res->stop_rechecked = txn.stop_rechecked;
	if (txn.retired)
		ovup_note("%s: patch '%s': %" PRIu32 " block(s) of its code retired, not freed: a "
			  "thread may still return into them; they are freed once none can "
			  "('list' shows them)",
			  t->desc, gone.name, txn.retired);
	ovup_record_free(&gone);
out:
	ovup_records_free(&rs);
	return ret;
}

void ovup_revert_result_free(struct ovup_revert_result *res)
{
	free(res->patch);
	memset(res, 0, sizeof(*res));
}
