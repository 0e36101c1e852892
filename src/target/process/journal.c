// SPDX-License-Identifier: MIT
/*
 * The record of applied patches, kept in the target itself: a read-only
 * memfd mapping "ovup-record" with two slots, each a header (generation,
 * length, hash) and the record's text.  A new version goes to the slot
 * not in use, text first and header last, so the newest slot that checks
 * out is always a whole record, whenever ovup is killed.  Being part of
 * the process, the record is exactly as true as the process: a fork child
 * carries it with the patched code, exec and exit wipe it with everything
 * else, and no file anywhere can be stale, forged or planted.
 */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAGIC "OVUPREC1"
#define HDR 32
#define PAGE 4096ull

struct slot_hdr {
	char magic[8];
	uint64_t gen;
	uint64_t len;
	uint64_t hash;
};
_Static_assert(sizeof(struct slot_hdr) == HDR, "slot header is 32 bytes");

struct area {
	uint64_t addr, size;
	uint64_t best_gen; /* 0: no valid slot */
	int best_slot;
};

static uint64_t fnv(uint64_t gen, const char *s, size_t len)
{
	return ovup_fnv1a(OVUP_FNV_BASIS ^ gen, s, len);
}

/* The text of slot k of area a if it checks out, else NULL. */
static char *read_slot(struct proc_target *p, const struct area *a, int k, uint64_t *gen)
{
	uint64_t slot = a->size / 2, at = a->addr + (uint64_t)k * slot;
	struct slot_hdr h;
	char *text;

	if (pread(p->memfd, &h, sizeof(h), (off_t)at) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, MAGIC, 8) || !h.gen || h.len > slot - HDR)
		return NULL;
	text = ovup_xmalloc(h.len + 1);
	if (pread(p->memfd, text, h.len, (off_t)(at + HDR)) != (ssize_t)h.len ||
	    fnv(h.gen, text, h.len) != h.hash) {
		free(text);
		return NULL;
	}
	text[h.len] = 0;
	*gen = h.gen;
	return text;
}

/* Every record area in the target, with its newest valid slot. */
static int find_areas(struct proc_target *p, struct area **out, size_t *nout, char **text)
{
	struct ovup_map *m;
	size_t n, i;
	uint64_t best = 0;
	int ret;

	*out = NULL;
	*nout = 0;
	if (text)
		*text = NULL;
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct area *a;
		int k;

		if (strncmp(m[i].path, "/memfd:" OVUP_MEMFD_RECORD, 7 + strlen(OVUP_MEMFD_RECORD)))
			continue;
		*out = ovup_xrealloc(*out, (*nout + 1) * sizeof(**out));
		a = &(*out)[(*nout)++];
		memset(a, 0, sizeof(*a));
		a->addr = m[i].start;
		a->size = m[i].end - m[i].start;
		for (k = 0; k < 2 && a->size >= 2 * PAGE; k++) {
			uint64_t gen;
			char *t = read_slot(p, a, k, &gen);

			if (!t)
				continue;
			if (gen > a->best_gen) {
				a->best_gen = gen;
				a->best_slot = k;
			}
			if (text && gen > best) {
				free(*text);
				*text = t;
				best = gen;
			} else {
				free(t);
			}
		}
	}
	ovup_maps_free(m, n);
	return 0;
}

static uint64_t best_gen(const struct area *a, size_t n)
{
	uint64_t g = 0;
	size_t i;

	for (i = 0; i < n; i++)
		g = OVUP_MAX(g, a[i].best_gen);
	return g;
}

/* Areas that no longer hold the record go: older ones, one a killed ovup
 * mapped and never filled, all of them once nothing is applied.  Only a
 * warning if the target will not let go of one (a seccomp filter that
 * forbids munmap): the record in the newest slot is still the truth. */
static void drop_areas(struct proc_target *p, const struct area *a, size_t n,
		       const struct area *keep)
{
	char *saved = ovup_err_save();
	size_t i;

	for (i = 0; i < n; i++) {
		if (&a[i] == keep)
			continue;
		if (ovup_proc_unmap(p, a[i].addr, a[i].size, OVUP_MEMFD_RECORD))
			ovup_warn("%s: could not release 0x%" PRIx64 ": %s", p->base.desc,
				  a[i].addr, ovup_err_msg() ? ovup_err_msg() : "unmap failed");
		ovup_err_clear();
	}
	ovup_err_restore(saved);
}

int ovup_proc_records_load(struct ovup_target *t, struct ovup_buf *out)
{
	struct proc_target *p = ovup_to_proc(t);
	const struct area *keep = NULL;
	struct area *a;
	size_t n, i;
	char *text;
	int ret;

	ret = find_areas(p, &a, &n, &text);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (text && *text && a[i].best_gen == best_gen(a, n))
			keep = &a[i];
	if (!t->offline && n > (keep ? 1u : 0u))
		drop_areas(p, a, n, keep);
	free(a);
	if (text)
		ovup_buf_add(out, text, strlen(text));
	free(text);
	return 0;
}

/* Text first, the header last: the header is 32 bytes at the start of a
 * page, written by one pwrite that a kill cannot cut in two. */
static int write_slot(struct proc_target *p, uint64_t at, uint64_t gen, const char *text,
		      size_t len)
{
	struct slot_hdr h;

	memcpy(h.magic, MAGIC, 8);
	h.gen = gen;
	h.len = len;
	h.hash = fnv(gen, text, len);
	if ((len && pwrite(p->memfd, text, len, (off_t)(at + HDR)) != (ssize_t)len) ||
	    pwrite(p->memfd, &h, sizeof(h), (off_t)at) != (ssize_t)sizeof(h))
		return ovup_err(-errno ? -errno : -EIO,
				"pid %d: cannot write ovup's record at 0x%" PRIx64 ": %m", p->pid,
				at);
	return 0;
}

int ovup_proc_records_store(struct ovup_target *t, const char *text)
{
	struct proc_target *p = ovup_to_proc(t);
	size_t len = strlen(text), n, i;
	struct area *a, *best = NULL;
	uint64_t gen = 0;
	int ret = 0;

	ret = find_areas(p, &a, &n, NULL);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (a[i].best_gen > gen) {
			gen = a[i].best_gen;
			best = &a[i];
		}
	if (best && HDR + len <= best->size / 2) {
		/* also "nothing applied": true at once, even where the area
		 * cannot be unmapped below */
		ret = write_slot(p, best->addr + (uint64_t)(1 - best->best_slot) * (best->size / 2),
				 gen + 1, text, len);
	} else if (len) {
		/* a new area, with room to grow; the old one goes after */
		uint64_t slot = OVUP_ALIGN_UP(HDR + 2 * len, PAGE), at;

		ret = ovup_proc_map(p, OVUP_MEMFD_RECORD, 0, 2 * slot, PROT_READ, &at);
		if (!ret)
			ret = write_slot(p, at, gen + 1, text, len);
		best = NULL;
	}
	if (!ret)
		drop_areas(p, a, n, len ? best : NULL);
	free(a);
	return ret;
}
