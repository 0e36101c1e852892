// SPDX-License-Identifier: MIT
/*
 * Steps 2 and 3, size and alloc: the blocks the patch needs, computed from
 * the compiled object, and allocated within a jump's reach of every
 * replaced function (and the data within reach of the code).
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define REACH (1ull << 31) /* what a jmp rel32 reaches */

/* An upper bound of what a class of sections needs once ld lays them out
 * in any order: every section may need its full alignment as padding. */
static uint64_t sum_class(const struct ovup_obj *o, enum ovup_sec_class cls)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < o->nsecs; i++)
		if (o->secs[i].cls == cls)
			total += o->secs[i].size + o->secs[i].align - 1;
	return total;
}

/* Step 2, size: what the blocks must hold.  The resolve step has read
 * the patch and checked everything by now; this only computes. */
int ovup_step_size(struct ovup_plan *p)
{
	size_t i;

	/* The sizes come from the compiled object, as in the paper; the one
	 * thing ld adds is the GOT, at most one slot per symbol plus its
	 * reserved header.  The link step checks the image fits. */
	p->text_size = sum_class(&p->obj, OVUP_SEC_TEXT);
	/* and what the target's fixup adds after it (kernel: jump-label stubs) */
	if (p->t->ops->text_extra)
		p->text_size += p->t->ops->text_extra(&p->obj);
	p->ro_size = sum_class(&p->obj, OVUP_SEC_RO);
	if (p->t->ops->links_got)
		p->ro_size += 8 * (p->obj.nsyms + 4) + 8;
	/* a slot per thread-local variable (mapfile.c) */
	if (p->ntls)
		p->ro_size += 8 * p->ntls + 8;
	p->rw_size = sum_class(&p->obj, OVUP_SEC_RW) + sum_class(&p->obj, OVUP_SEC_BSS);
	/* trampolines for OVUP_ORIG go after the code */
	p->code_size = OVUP_ALIGN_UP(p->text_size, 16);
	p->text_size = p->code_size;
	for (i = 0; i < p->nfuncs; i++)
		if (p->funcs[i].want_orig)
			p->text_size += OVUP_ALIGN_UP(OVUP_ARCH_TRAMP_MAX, 16);
	/* and a wrapper's slot per function where callers may rely on more
	 * than the ABI: whether one is needed shows only after the link */
	p->wrap_base = p->text_size;
	if (p->t->ops->callers_assume_clobbers)
		p->text_size += p->nfuncs * OVUP_ALIGN_UP(OVUP_ARCH_WRAP_MAX, 16);
	if (!p->text_size)
		return ovup_err(-EINVAL, "%s: the patch has no code", p->source);
	return 0;
}

/* Step 3, alloc: the text block within a jump's reach of every site, the
 * data block within reach of the text.  dry_run only finds the places. */
int ovup_step_alloc(struct ovup_plan *p, int dry_run)
{
	uint64_t lo = 0, hi = UINT64_MAX, dsize, near;
	size_t i;
	int ret;

	for (i = 0; i < p->nfuncs; i++) {
		uint64_t from = p->funcs[i].site + p->funcs[i].len;

		lo = OVUP_MAX(lo, from > REACH - OVUP_PAGE ? from - REACH + OVUP_PAGE : 0);
		/* kernel addresses sit at the top: saturate, do not wrap */
		hi = OVUP_MIN(hi,
			      from > UINT64_MAX - REACH ? UINT64_MAX : from + REACH - OVUP_PAGE);
	}
	if (lo >= hi || hi - lo < p->text_size)
		return ovup_err(-ERANGE,
				"%s: the replaced functions lie more than 4 GiB apart, so "
				"no block is within a 5-byte jump of all of them; split "
				"the patch (one per object)",
				p->t->desc);
	near = p->funcs[0].site; /* close to the code it replaces */
	ret = p->t->ops->alloc(p->t, OVUP_BLOCK_TEXT, p->name, p->text_size, lo, hi, near, dry_run,
			       &p->text);
	if (ret)
		return ret;
	p->have_text = !dry_run;
	dsize = OVUP_ALIGN_UP(p->ro_size, OVUP_PAGE) + OVUP_ALIGN_UP(p->rw_size, OVUP_PAGE);
	if (!dsize)
		return 0;
	/* data within +-2 GiB of the code that addresses it PC-relatively */
	lo = p->text.addr + p->text.size > REACH ? p->text.addr + p->text.size - REACH + OVUP_PAGE
						 : 0;
	hi = p->text.addr > UINT64_MAX - REACH ? UINT64_MAX : p->text.addr + REACH - OVUP_PAGE;
	ret = p->t->ops->alloc(p->t, OVUP_BLOCK_DATA, p->name, dsize, lo, hi, p->text.addr, dry_run,
			       &p->data);
	if (ret)
		return ret;
	p->have_data = !dry_run;
	return 0;
}
