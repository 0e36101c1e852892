// SPDX-License-Identifier: MIT
/*
 * What ovup.ko keeps across runs: the record of applied patches (each
 * patch's blob as pawrite gave it, with the module's own sequence
 * number), and the retired blocks a revert left because a task could
 * still return into them, which the module frees itself.
 */
#define _GNU_SOURCE
#include "kernel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record's text with the module's sequence number in place of the one
 * the tool guessed when it wrote the blob ("patch NAME SEQ TIME ..."): the
 * module's is the order in which the switches really happened. */
static void add_with_seq(struct ovup_buf *out, const char *blob, size_t len, uint64_t seq)
{
	const char *p = blob, *end = blob + len;

	if (len > 6 && !strncmp(p, "patch ", 6)) {
		p += 6;
		while (p < end && *p != ' ' && *p != '\n')
			p++; /* the name: put_tok never leaves a space in it */
		if (p < end && *p == ' ' && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
			ovup_buf_add(out, blob, (size_t)(p + 1 - blob));
			ovup_buf_printf(out, "%" PRIu64, seq);
			for (p++; p < end && *p >= '0' && *p <= '9'; p++)
				;
			ovup_buf_add(out, p, (size_t)(end - p));
			return;
		}
	}
	ovup_buf_add(out, blob, len); /* not ours to fix: the parser says so */
}

int ovup_kern_records_load(struct ovup_target *t, struct ovup_buf *out)
{
	struct kern_target *k = ovup_to_kern(t);
	uint32_t i;
	int ret;

	ret = ovup_kern_need_module(k);
	if (ret)
		return ret;
	/* list and dry runs open the target offline: they only read */
	if (!t->offline) {
		ret = ovup_kern_take_writer(k);
		if (ret)
			return ret;
	}
	for (i = 0;; i++) {
		struct ovup_k_record r = { 0 };
		char *blob;

		r.index = i;
		ret = ovup_kern_ioctl(k, OVUP_IOC_RECORD, &r, "record");
		if (ret == -ENOENT)
			return 0;
		if (ret && ret != -ENOSPC)
			return ovup_err(ret, "kernel: cannot read record %u: %s", i,
					strerror(-ret));
		blob = ovup_xcalloc(1, r.bloblen + 1);
		r.index = i;
		r.nsites = 0;
		r.nblocks = 0;
		r.sites = r.blocks = 0;
		r.blob = (uint64_t)(uintptr_t)blob;
		ret = ovup_kern_ioctl(k, OVUP_IOC_RECORD, &r, "record");
		if (!ret)
			add_with_seq(out, blob, strnlen(blob, r.bloblen), r.seq);
		free(blob);
		if (ret)
			return ovup_err(ret, "kernel: cannot read record %u: %s", i,
					strerror(-ret));
	}
}

int ovup_kern_retired(struct ovup_target *t, struct ovup_retired_block **out, size_t *n)
{
	struct kern_target *k = ovup_to_kern(t);
	uint32_t i;
	int ret;

	*out = NULL;
	*n = 0;
	if (k->fd < 0)
		return 0; /* no module loaded, nothing retired */
	for (i = 0;; i++) {
		struct ovup_k_retired r = { .index = i };
		struct ovup_retired_block *b;

		ret = ovup_kern_ioctl(k, OVUP_IOC_RETIRED, &r, "retired");
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return ovup_err(ret, "kernel: cannot read retired block %u: %s", i,
					strerror(-ret));
		*out = ovup_xrealloc(*out, (i + 1) * sizeof(**out));
		b = &(*out)[(*n)++];
		memset(b, 0, sizeof(*b));
		b->addr = r.addr;
		b->size = r.size;
		snprintf(b->patch, sizeof(b->patch), "%.*s", (int)sizeof(r.name), r.name);
		ovup_kern_copy_busy(&b->busy, &r.busy);
	}
}
