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

int ovup_record_choose(struct ovup_target *t, struct ovup_records *rs, const char *name,
		       const char *verb, struct ovup_record **out)
{
	struct ovup_record *r;
	size_t i;

	if (!rs->n)
		return ovup_err(-ENOENT, "%s: nothing to %s: no patch applied by ovup", t->desc,
				verb);
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
					"'%s'; %s '%s' first",
					t->desc, r->name, top->name, r->funcs[i].name, verb,
					top->name);
	}
	*out = r;
	return 0;
}

/* revert --force: what each site holds now.  A site another tool
 * changed gets its saved bytes back only where they provably make the
 * function the file's code again (ovup_check_rest); the record adopts
 * what it found there as its jump, so that the switch compares against
 * it and a run killed half-way finishes from the record (FORCING). */
static int force_look(struct ovup_target *t, struct ovup_record *r, struct ovup_revert_result *res)
{
	size_t k;
	int ret;

	if (t->ops->keeps_records)
		return ovup_err(-EPERM,
				"%s: revert --force works on processes; ovup.ko keeps the "
				"kernel's record and restores only the jump it wrote",
				t->desc);
	res->seen = ovup_xcalloc(r->nfuncs, sizeof(*res->seen));
	for (k = 0; k < r->nfuncs; k++) {
		struct ovup_rec_func *f = &r->funcs[k];
		struct ovup_site_seen *s = &res->seen[res->nseen];

		ret = ovup_site_look(t, f, s);
		if (ret)
			return ret;
		res->nseen++;
		if (s->holds == OVUP_HOLDS_JUMP)
			continue;
		ret = ovup_check_rest(t, r, f);
		if (ret)
			return ret;
	}
	return 0;
}

/* The jumps of r's functions from jumps[] (NULL: what a forced revert
 * found at the sites it adopts); the old ones into old[] (or dropped). */
static void set_jumps(struct ovup_record *r, const struct ovup_revert_result *res,
		      uint8_t (*jumps)[16], uint8_t (*old)[16])
{
	size_t k;

	for (k = 0; k < res->nseen; k++) {
		if (res->seen[k].holds != OVUP_HOLDS_OTHER)
			continue;
		if (old)
			memcpy(old[k], r->funcs[k].jump, sizeof(old[k]));
		memcpy(r->funcs[k].jump, jumps ? jumps[k] : res->seen[k].bytes, r->funcs[k].len);
	}
}

/* Journal "reverting" (or "forcing"), switch every site back; on
 * failure the record says "applied" again, unless a restore failed
 * half-way (then it stays for the next run to finish). */
static int switch_back(struct ovup_target *t, struct ovup_records *rs, struct ovup_record *r,
		       unsigned retries, int force, struct ovup_revert_result *res,
		       struct ovup_txn *txn)
{
	uint8_t(*ours)[16] = ovup_xcalloc(r->nfuncs, sizeof(*ours));
	const char *hint = t->ops->keeps_records ? ""
						 : "; 'ovup list' shows what it holds, 'revert "
						   "--force' puts its old bytes back, 'forget' "
						   "drops the record";
	size_t i;
	int ret;

	ret = ovup_check_saved(t, rs, r);
	if (!ret && force)
		ret = force_look(t, r, res);
	if (!ret)
		ret = ovup_check_signal("nothing was reverted");
	if (ret)
		goto out;
	/* from here on a signal waits until the revert is done */
	r->state = force ? OVUP_REC_FORCING : OVUP_REC_REVERTING;
	set_jumps(r, res, NULL, ours);
	ret = ovup_records_save(t, rs);
	if (!ret && ovup_fault("crash-before-revert"))
		abort(); /* test hook: die with the record saying "reverting" */
	/* forced: sites that hold their old bytes already are left out */
	if (!ret)
		ret = ovup_switch_record(t, r, 1, force, retries, &i, txn);
	if (ret == -ESTALE)
		ret = ovup_err(-ESTALE,
			       "%s: function '%s': the jump ovup wrote at 0x%" PRIx64
			       " is no longer there (changed by another tool?); not reverting%s",
			       t->desc, r->funcs[i].name, r->funcs[i].site, hint);
	if (ret && !ovup_err_inconsistent()) {
		set_jumps(r, res, ours, NULL); /* applied, as before */
		r->state = OVUP_REC_APPLIED;
		ovup_records_save(t, rs);
	}
out:
	free(ours);
	return ret;
}

const char *const ovup_revert_step_names[OVUP_REVERT_NSTEPS] = { "records", "switch", "save",
								 "release" };

int ovup_revert(struct ovup_target *t, const char *name, unsigned retries, int force,
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
		ret = ovup_record_choose(t, &rs, name, "revert", &r);
	LAP(OVUP_REVERT_RECORDS);
	if (!ret)
		ret = switch_back(t, &rs, r, retries, force, res, &txn);
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
	{
		char why[192];

		if (ovup_release_record(t, &gone, why, sizeof(why)))
			ovup_warn("%s: kept the patch's memory at 0x%" PRIx64 " mapped: %s; a "
				  "later ovup run releases it",
				  t->desc, gone.blocks[0].addr, why);
	}
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
	ovup_sites_seen_free(res->seen, res->nseen);
	free(res->patch);
	memset(res, 0, sizeof(*res));
}
