// SPDX-License-Identifier: MIT
/*
 * The state of the target as the record of applied patches tells it: load
 * it, settle patches a dead run left half-applied or half-reverted from the
 * bytes at their sites, release memory no record owns, and switch a
 * record's sites one way or the other.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ovup_records_save(struct ovup_target *t, const struct ovup_records *rs)
{
	char *text;
	int ret;

	if (!t->ops->records_store)
		return 0;
	text = ovup_records_format(rs);
	ret = t->ops->records_store(t, text);
	free(text);
	return ret;
}

/* Unmaps blocks together: code that may still run must keep its data
 * too.  If a thread may return into them, they stay mapped (busy says
 * who), and a later run tries again: the target itself shows them. */
int ovup_release(struct ovup_target *t, const struct ovup_block *b, size_t n,
		 struct ovup_busy *busy)
{
	char *saved;
	int ret;

	memset(busy, 0, sizeof(*busy));
	if (!n)
		return 0;
	saved = ovup_err_save();
	ret = t->ops->free(t, b, n, busy);
	if (ret == -ESRCH)
		ret = 0; /* its memory went with it */
	if (ret != -EBUSY && ret)
		ovup_warn("%s: could not release 0x%" PRIx64 ": %s", t->desc, b[0].addr,
			  ovup_err_msg() ? ovup_err_msg() : strerror(-ret));
	ovup_err_restore(saved);
	return ret;
}

int ovup_release_record(struct ovup_target *t, const struct ovup_record *gone, char *why,
			size_t len)
{
	struct ovup_block *blk;
	struct ovup_busy busy;
	size_t i;
	int kept = 0;

	if (t->ops->keeps_records || !gone->nblocks)
		return 0;
	blk = ovup_xcalloc(gone->nblocks, sizeof(*blk));
	for (i = 0; i < gone->nblocks; i++)
		blk[i] = (struct ovup_block){ gone->blocks[i].addr, gone->blocks[i].size,
					      (enum ovup_block_kind)gone->blocks[i].kind, 0 };
	if (ovup_release(t, blk, gone->nblocks, &busy) == -EBUSY) {
		ovup_kept_why(&busy, why, len);
		kept = 1;
	}
	free(blk);
	return kept;
}

/* Why memory is kept: "thread 42 (worker) may still return into it (at
 * 0x...)" or where a pointer into it was found. */
void ovup_kept_why(const struct ovup_busy *b, char *buf, size_t len)
{
	if (b->unchecked)
		snprintf(buf, len,
			 "the process has too much memory to search for pointers into it");
	else if (b->tid)
		snprintf(buf, len, "thread %d (%s) may still return into it (at 0x%" PRIx64 ")",
			 b->tid, b->comm, b->addr);
	else
		snprintf(buf, len,
			 "a pointer to 0x%" PRIx64 " is stored at 0x%" PRIx64
			 " (a return address, a saved context or a callback)",
			 b->addr, b->ref);
}

static int by_owner(const void *a, const void *b)
{
	const struct ovup_block *x = a, *y = b;

	return strcmp(x->owner, y->owner);
}

/* Blocks the target holds that no record owns: left by an ovup that died
 * before recording them, or kept by a revert because a thread might
 * return into them.  Released when nothing can run in them any more. */
static int collect_garbage(struct ovup_target *t, struct ovup_records *rs)
{
	struct ovup_block *b = NULL;
	struct ovup_busy busy;
	size_t n = 0, i, k, j, ng = 0;
	int ret;

	if (!t->ops->blocks || t->offline)
		return 0;
	ret = t->ops->blocks(t, &b, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		int owned = 0;

		for (k = 0; k < rs->n && !owned; k++)
			for (j = 0; j < rs->r[k].nblocks; j++)
				owned |= rs->r[k].blocks[j].addr == b[i].addr;
		if (!owned)
			b[ng++] = b[i];
	}
	/* a patch's blocks go together, each patch on its own: one that a
	 * coroutine may still return into keeps no other */
	qsort(b, ng, sizeof(*b), by_owner);
	for (i = 0; i < ng; i = k) {
		for (k = i + 1; k < ng && !strcmp(b[k].owner, b[i].owner); k++)
			;
		if (ovup_release(t, b + i, k - i, &busy) != -EBUSY)
			continue;
		rs->kept = ovup_xrealloc(rs->kept, (rs->nkept + k - i) * sizeof(*rs->kept));
		for (j = i; j < k; j++) {
			struct ovup_rec_kept *kb = &rs->kept[rs->nkept++];

			kb->addr = b[j].addr;
			kb->size = b[j].size;
			kb->kind = b[j].kind;
			ovup_kept_why(&busy, kb->why, sizeof(kb->why));
		}
	}
	free(b);
	return 0;
}

/* The record of the patch right under r at site, or NULL. */
static const struct ovup_rec_func *under(const struct ovup_records *rs, const struct ovup_record *r,
					 uint64_t site)
{
	const struct ovup_rec_func *best = NULL;
	uint64_t seq = 0;
	size_t i, k;

	for (i = 0; i < rs->n; i++)
		for (k = 0; k < rs->r[i].nfuncs; k++)
			if (rs->r[i].funcs[k].site == site && rs->r[i].seq < r->seq &&
			    rs->r[i].seq >= seq) {
				seq = rs->r[i].seq;
				best = &rs->r[i].funcs[k];
			}
	return best;
}

/* The bytes a record would write back must be what was there before, as
 * the target itself shows it: the jump of the patch underneath, or at the
 * bottom the code of the file mapped there.  A record is only data; it is
 * never trusted to choose bytes for a target's code. */
int ovup_check_saved(struct ovup_target *t, const struct ovup_records *rs,
		     const struct ovup_record *r)
{
	size_t k;

	for (k = 0; k < r->nfuncs; k++) {
		const struct ovup_rec_func *f = &r->funcs[k], *u = under(rs, r, f->site);
		uint8_t file[16];
		char want[64], have[64];

		if (u) {
			if (u->len == f->len && !memcmp(u->jump, f->saved, f->len))
				continue;
			return ovup_err(
				-EPERM,
				"%s: patch '%s': the saved bytes of function '%s' at 0x%" PRIx64
				" are not the jump of the patch under it; the "
				"record is wrong, refusing to restore them",
				t->desc, r->name, f->name, f->site);
		}
		if (!t->ops->original)
			continue;
		if (t->ops->original(t, f->site, file, f->len))
			return ovup_err(-EPERM,
					"%s: patch '%s': function '%s' at 0x%" PRIx64 " lies in "
					"no file's code; the record is wrong, refusing to "
					"write there",
					t->desc, r->name, f->name, f->site);
		if (memcmp(file, f->saved, f->len)) {
			ovup_hex_spaced(want, file, f->len);
			ovup_hex_spaced(have, f->saved, f->len);
			return ovup_err(
				-EPERM,
				"%s: patch '%s': the saved bytes of function '%s' at 0x%" PRIx64
				" (%s) are not the file's (%s); the record is "
				"wrong, refusing to restore them",
				t->desc, r->name, f->name, f->site, have, want);
		}
	}
	return 0;
}

const char *ovup_site_holds_name(enum ovup_site_holds h)
{
	switch (h) {
	case OVUP_HOLDS_JUMP:
		return "ovup's jump";
	case OVUP_HOLDS_SAVED:
		return "its old bytes";
	default:
		return "other bytes";
	}
}

int ovup_site_look(struct ovup_target *t, const struct ovup_rec_func *f, struct ovup_site_seen *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->site = f->site;
	s->len = f->len;
	ret = t->ops->read(t, f->site, s->bytes, f->len);
	if (ret)
		return ret;
	s->function = ovup_xstrdup(f->name);
	if (!memcmp(s->bytes, f->jump, f->len))
		s->holds = OVUP_HOLDS_JUMP;
	else if (!memcmp(s->bytes, f->saved, f->len))
		s->holds = OVUP_HOLDS_SAVED;
	else
		s->holds = OVUP_HOLDS_OTHER;
	return 0;
}

void ovup_sites_seen_free(struct ovup_site_seen *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i].function);
	free(s);
}

/* Every byte of f's function but its site, as the file has it: then the
 * bytes saved, written back at the site, make the function the file's
 * code again, whatever another tool left there. */
int ovup_check_rest(struct ovup_target *t, const struct ovup_record *r,
		    const struct ovup_rec_func *f)
{
	uint64_t size = f->old_size, end, at;
	uint8_t cur[256], file[256];
	int ret;

	if (!t->ops->original)
		return ovup_err(-EPERM,
				"%s: patch '%s': the code of '%s' as its file has it is unknown "
				"here; not reverting",
				t->desc, r->name, f->name);
	if (size > 65536)
		size = 65536;
	end = f->old_addr + size;
	if (end < f->site + f->len)
		end = f->site + f->len;
	for (at = f->old_addr; at < end; at += sizeof(cur)) {
		size_t n = (size_t)OVUP_MIN(sizeof(cur), end - at), i;

		ret = t->ops->read(t, at, cur, n);
		if (!ret)
			ret = t->ops->original(t, at, file, n);
		if (ret)
			return ovup_err(ret,
					"%s: patch '%s': cannot compare function '%s' with its "
					"file; not reverting",
					t->desc, r->name, f->name);
		for (i = 0; i < n; i++)
			if (at + i >= f->site && at + i < f->site + f->len)
				continue;
			else if (cur[i] != file[i])
				return ovup_err(
					-EPERM,
					"%s: patch '%s': function '%s' differs from its file at "
					"0x%" PRIx64 ", outside the bytes ovup wrote: its old "
					"bytes would not make it the file's code again; not "
					"reverting",
					t->desc, r->name, f->name, at + i);
	}
	return 0;
}

/* done[k]: function k's site holds the bytes wanted already. */
static int done_sites(struct ovup_target *t, const struct ovup_record *r, int to_saved,
		      unsigned char *done)
{
	size_t k;
	int ret;

	for (k = 0; k < r->nfuncs; k++) {
		const struct ovup_rec_func *f = &r->funcs[k];
		uint8_t cur[16];

		ret = t->ops->read(t, f->site, cur, f->len);
		if (ret)
			return ret;
		done[k] = !memcmp(cur, to_saved ? f->saved : f->jump, f->len);
	}
	return 0;
}

/* One switch of every site of r to its saved bytes (to_saved) or to its
 * jump, compare-and-swap from the other (the transaction: txn.c).  With
 * skip_done, sites that already hold the bytes wanted are left out
 * (settling a half-done one).  *failed: the function whose site did not
 * hold what it should. */
int ovup_switch_record(struct ovup_target *t, const struct ovup_record *r, int to_saved,
		       int skip_done, unsigned retries, size_t *failed, struct ovup_txn *res)
{
	unsigned char *skip = NULL;
	struct ovup_record_txn x;
	int ret = 0;

	if (skip_done) {
		skip = ovup_xcalloc(r->nfuncs, sizeof(*skip));
		ret = done_sites(t, r, to_saved, skip);
		if (ret) {
			free(skip);
			return ret;
		}
	}
	ovup_record_txn_init(&x, r, to_saved, NULL, skip);
	free(skip);
	if (x.txn.nsites)
		ret = ovup_switch(t, &x.txn, retries, NULL);
	*failed = ovup_record_txn_failed(&x);
	if (res) /* the out fields; the arrays are freed below */
		*res = x.txn;
	ovup_record_txn_release(&x);
	return ret;
}

/* What the target's own switch (ops->repair) left half-way, brought to
 * bytes settle can tell: all old or all new. */
static int repair(struct ovup_target *t, const struct ovup_record *r)
{
	struct ovup_block *b = ovup_xcalloc(r->nblocks + 1, sizeof(*b));
	struct ovup_record_txn x;
	size_t k;
	int ret;

	ovup_record_txn_init(&x, r, 0, NULL, NULL);
	for (k = 0; k < r->nblocks; k++) {
		b[k].addr = r->blocks[k].addr;
		b[k].size = r->blocks[k].size;
	}
	x.txn.blocks = b;
	x.txn.nblocks = r->nblocks;
	ret = t->ops->repair(t, &x.txn);
	ovup_record_txn_release(&x);
	free(b);
	return ret;
}

/* An apply or revert that did not finish (ovup was killed, or a restore
 * failed): the bytes at the sites say how far it got.  An apply that
 * switched every site is confirmed and one that switched none is
 * dropped; anything in between, and any revert that had begun, is
 * finished toward the old code. */
static int settle(struct ovup_target *t, struct ovup_records *rs, size_t i, int *changed)
{
	struct ovup_record *r = &rs->r[i];
	size_t k, jumped = 0, untouched = 0;
	int ret;

	if (t->ops->repair && r->state == OVUP_REC_PENDING) {
		ret = repair(t, r);
		if (ret)
			return ret;
	}

	for (k = 0; k < r->nfuncs; k++) {
		const struct ovup_rec_func *f = &r->funcs[k];
		uint8_t cur[16];

		ret = t->ops->read(t, f->site, cur, f->len);
		if (ret)
			return ret;
		if (!memcmp(cur, f->jump, f->len))
			jumped++;
		else if (!memcmp(cur, f->saved, f->len))
			untouched++;
		else {
			ovup_err_set_inconsistent();
			return ovup_err(-EIO,
					"%s: patch '%s' was interrupted and function '%s' "
					"(0x%" PRIx64 ") now holds neither its old bytes nor "
					"ovup's jump; changed behind ovup?",
					t->desc, r->name, f->name, f->site);
		}
	}
	*changed = 1;
	if (r->state == OVUP_REC_PENDING && jumped == r->nfuncs) {
		r->state = OVUP_REC_APPLIED;
		return 0;
	}
	/* a forced revert is finished even if it never began: its user
	 * asked for it, and the jump it recorded may be another tool's */
	if (r->state == OVUP_REC_REVERTING && jumped == r->nfuncs) {
		r->state = OVUP_REC_APPLIED; /* the revert never began */
		return 0;
	}
	if (untouched != r->nfuncs) {
		size_t failed;

		ret = ovup_check_saved(t, rs, r);
		for (k = 0; !ret && r->state == OVUP_REC_FORCING && k < r->nfuncs; k++)
			ret = ovup_check_rest(t, r, &r->funcs[k]);
		if (!ret)
			ret = ovup_switch_record(t, r, 1, 1, 50, &failed, NULL);
		if (ret)
			return ovup_err(ret,
					"%s: patch '%s' was interrupted half-way and cannot be "
					"rolled back yet: %s",
					t->desc, r->name,
					ovup_err_msg() ? ovup_err_msg() : strerror(-ret));
		ovup_note("%s: rolled back patch '%s', which an earlier ovup left half-%s", t->desc,
			  r->name, r->state == OVUP_REC_PENDING ? "applied" : "reverted");
	}
	/* its blocks are garbage now, released below */
	ovup_record_free(r);
	memmove(r, r + 1, (rs->n - i - 1) * sizeof(*r));
	rs->n--;
	return 1;
}

int ovup_records_load(struct ovup_target *t, struct ovup_records *rs)
{
	struct ovup_buf b = { 0 };
	int ret, changed = 0;
	size_t i;

	ret = t->ops->records_load(t, &b);
	if (ret)
		return ret;
	ret = ovup_records_parse(b.s ? b.s : "", rs);
	ovup_buf_free(&b);
	if (ret)
		return ovup_err(ret,
				"%s: the record of applied patches is corrupt; not touching "
				"the target",
				t->desc);
	/* read-only: list -k opens the kernel offline (no writer slot) */
	if (t->ops->retired) {
		ret = t->ops->retired(t, &rs->retired, &rs->nretired);
		if (ret)
			return ret;
	}
	if (t->offline || !t->ops->records_store)
		return 0;
	for (i = 0; i < rs->n; i++) {
		if (rs->r[i].state == OVUP_REC_APPLIED)
			continue;
		ret = settle(t, rs, i, &changed);
		if (ret < 0)
			break;
		i -= (size_t)ret; /* the record was dropped */
	}
	if (changed) {
		int r2 = ovup_records_save(t, rs);

		if (!ret)
			ret = r2;
	}
	if (ret < 0)
		return ret;
	return collect_garbage(t, rs);
}
