// SPDX-License-Identifier: MIT
/*
 * The verb forget: drop the record of a patch the target no longer runs,
 * because another tool (a debugger, another live patcher) put other
 * bytes at its sites.  What each site holds is read and printed first;
 * a site that still holds ovup's jump, or a jump into the patch's
 * memory, is refused: that patch is running, and 'revert' undoes it.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does the branch in b (a jmp or call rel32 at site) land in r's memory? */
static int branches_into(const struct ovup_record *r, uint64_t site, const uint8_t *b, uint32_t len)
{
	uint64_t to;
	int32_t rel;
	size_t i;

	if (len < 5 || (b[0] != 0xe9 && b[0] != 0xe8))
		return 0;
	memcpy(&rel, b + 1, sizeof(rel));
	to = site + 5 + (uint64_t)(int64_t)rel;
	for (i = 0; i < r->nblocks; i++)
		if (to >= r->blocks[i].addr && to - r->blocks[i].addr < r->blocks[i].size)
			return 1;
	return 0;
}

/* Every site of r, as the target holds it; refused if r still runs. */
static int look(struct ovup_target *t, const struct ovup_record *r, struct ovup_forget_result *res)
{
	size_t k;
	int ret;

	res->seen = ovup_xcalloc(r->nfuncs ? r->nfuncs : 1, sizeof(*res->seen));
	for (k = 0; k < r->nfuncs; k++) {
		const struct ovup_rec_func *f = &r->funcs[k];
		struct ovup_site_seen *s = &res->seen[res->nseen];

		ret = ovup_site_look(t, f, s);
		if (ret)
			return ret;
		res->nseen++;
		if (s->holds == OVUP_HOLDS_JUMP || branches_into(r, f->site, s->bytes, f->len))
			return ovup_err(-EPERM,
					"%s: function '%s' at 0x%" PRIx64 " still branches to "
					"patch '%s'; the patch runs: 'ovup revert %s' undoes it",
					t->desc, f->name, f->site, r->name, r->name);
	}
	return 0;
}

int ovup_forget(struct ovup_target *t, const char *name, struct ovup_forget_result *res)
{
	struct ovup_records rs = { 0 };
	struct ovup_record *r = NULL, gone;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!t->ops->records_store)
		return ovup_err(-EPERM,
				"%s: forget works on processes; ovup.ko keeps the kernel's "
				"record and drops a record only by reverting it",
				t->desc);
	ret = ovup_records_load(t, &rs);
	if (ret)
		goto out;
	ret = ovup_record_choose(t, &rs, name, "forget", &r);
	if (!ret)
		ret = look(t, r, res);
	if (!ret)
		ret = ovup_check_signal("nothing was forgotten");
	if (ret)
		goto out;
	gone = *r;
	memmove(r, r + 1, (size_t)(rs.r + rs.n - r - 1) * sizeof(*r));
	rs.n--;
	ret = ovup_records_save(t, &rs);
	if (ret) {
		ovup_record_free(&gone);
		goto out;
	}
	snprintf(res->target, sizeof(res->target), "%s", t->desc);
	res->patch = ovup_xstrdup(gone.name);
	res->seq = gone.seq;
	res->kept = ovup_release_record(t, &gone, res->why, sizeof(res->why));
	ovup_record_free(&gone);
out:
	ovup_records_free(&rs);
	return ret;
}

void ovup_forget_result_free(struct ovup_forget_result *res)
{
	ovup_sites_seen_free(res->seen, res->nseen);
	free(res->patch);
	memset(res, 0, sizeof(*res));
}
