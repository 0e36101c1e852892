// SPDX-License-Identifier: MIT
/*
 * The one place a transaction's sites and ranges are made, for apply and
 * revert alike: from a record, switching each site from one of its byte
 * strings (saved, jump) to the other.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <stdlib.h>
#include <string.h>

void ovup_record_txn_init(struct ovup_record_txn *x, const struct ovup_record *r, int to_saved,
			  const uint32_t *cover, const unsigned char *skip)
{
	struct ovup_site *sites = ovup_xcalloc(r->nfuncs, sizeof(*sites));
	struct ovup_range *ranges = ovup_xcalloc(r->nfuncs, sizeof(*ranges));
	size_t k, n = 0;

	memset(x, 0, sizeof(*x));
	x->func = ovup_xcalloc(r->nfuncs, sizeof(*x->func));
	for (k = 0; k < r->nfuncs; k++) {
		const struct ovup_rec_func *f = &r->funcs[k];

		if (skip && skip[k])
			continue;
		sites[n].addr = f->site;
		sites[n].func = f->old_addr;
		sites[n].len = f->len;
		memcpy(sites[n].expect, to_saved ? f->jump : f->saved, f->len);
		memcpy(sites[n].write, to_saved ? f->saved : f->jump, f->len);
		/* A thread may sit at the site (it runs the new bytes), never
		 * inside the bytes being replaced: on apply, the whole
		 * instructions the jump displaces.  Only those bytes: where the
		 * target frees the code itself (the kernel), it checks the
		 * patch's own code on revert and keeps it, retired, while a
		 * thread may still return into it. */
		ranges[n].start = f->site + 1;
		ranges[n].end = f->site + OVUP_MAX(f->len, cover ? cover[k] : 0);
		x->func[n++] = k;
	}
	x->txn.revert = to_saved;
	x->txn.name = r->name;
	x->txn.sites = sites;
	x->txn.nsites = n;
	x->txn.ranges = ranges;
	x->txn.nranges = n;
}

size_t ovup_record_txn_failed(const struct ovup_record_txn *x)
{
	long i = x->txn.failed_site;

	return i >= 0 && (size_t)i < x->txn.nsites ? x->func[i] : 0;
}

void ovup_record_txn_release(struct ovup_record_txn *x)
{
	free(x->txn.sites);
	free(x->txn.ranges);
	free(x->func);
	memset(x, 0, sizeof(*x));
}
