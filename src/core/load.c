// SPDX-License-Identifier: MIT
/*
 * Steps 6 and 7, load and protect: the linked image copied into its
 * blocks, then each block given its final protection.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>

static int in_block(const struct ovup_block *b, uint64_t a, uint64_t n)
{
	return b->size && a >= b->addr && a + n <= b->addr + b->size;
}

/* Step 6, load: every section of the image copied into its block. */
int ovup_step_load(struct ovup_plan *p)
{
	size_t i;
	int ret;

	for (i = 0; i < p->img.nsecs; i++) {
		const struct ovup_img_sec *s = &p->img.secs[i];

		if (!in_block(&p->text, s->addr, s->size) && !in_block(&p->data, s->addr, s->size))
			return ovup_err(-EFAULT,
					"%s: section %s (0x%" PRIx64 ", %" PRIu64 " bytes) "
					"falls outside the allocated blocks",
					p->source, s->name, s->addr, s->size);
		if (s->nobits)
			continue; /* blocks start zero-filled */
		ret = p->t->ops->copyin(p->t, s->addr, s->data, s->size);
		if (ret)
			return ret;
	}
	return 0;
}

/* Only what is not already right: a block mapped r-x stays untouched, so
 * a process whose filter forbids any mprotect() to PROT_EXEC (systemd's
 * MemoryDenyWriteExecute) can still be patched. */
static int protect(struct ovup_plan *p, const struct ovup_block *b, uint64_t off, uint64_t len,
		   enum ovup_prot prot)
{
	if (!len || b->prot == prot)
		return 0;
	return p->t->ops->chgprot(p->t, b->addr + off, len, prot);
}

/* Step 7, protect: text read+exec, read-only data read-only, the rest
 * read+write. */
int ovup_step_protect(struct ovup_plan *p)
{
	uint64_t ro = OVUP_ALIGN_UP(p->ro_size, OVUP_PAGE);
	uint64_t rw = OVUP_ALIGN_UP(p->rw_size, OVUP_PAGE);
	int ret;

	ret = protect(p, &p->text, 0, p->text.size, OVUP_PROT_READ_EXEC);
	if (!ret)
		ret = protect(p, &p->data, 0, ro, OVUP_PROT_READ);
	if (!ret)
		ret = protect(p, &p->data, ro, rw, OVUP_PROT_READ_WRITE);
	return ret;
}
