// SPDX-License-Identifier: MIT
/*
 * Parsing /proc/PID/maps and choosing where ovup's blocks go: inside the
 * +-2 GiB window the jumps can reach, never where brk or the stack grows.
 */
#define _GNU_SOURCE
#include "maps.h"
#include "../../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ovup_maps_parse(const char *text, struct ovup_map **out, size_t *np)
{
	struct ovup_map *m = NULL;
	size_t n = 0, cap = 0;
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[4096 + 256], perms[8], dev[32];
		uint64_t start, end, off, ino;
		int pathpos = 0;

		if (len >= sizeof(buf))
			goto bad;
		memcpy(buf, line, len);
		buf[len] = 0;
		line = eol ? eol + 1 : NULL;
		if (!len)
			continue;
		if (sscanf(buf, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %31s %" SCNu64 " %n",
			   &start, &end, perms, &off, dev, &ino, &pathpos) < 6 ||
		    strlen(perms) != 4 || end <= start)
			goto bad;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			m = ovup_xrealloc(m, cap * sizeof(*m));
		}
		m[n].start = start;
		m[n].end = end;
		m[n].offset = off;
		memcpy(m[n].perms, perms, 5);
		m[n].inode = ino;
		m[n].path = ovup_xstrdup(pathpos ? buf + pathpos : "");
		n++;
	}
	*out = m;
	*np = n;
	return 0;
bad:
	ovup_maps_free(m, n);
	return -EINVAL;
}

void ovup_maps_free(struct ovup_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}

#define PAGE 4096ull
#define HEAP_ROOM (1ull << 30)   /* brk may grow this far above [heap] */
#define STACK_ROOM (64ull << 20) /* guard gap + growth below [stack] */

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int try_hole(uint64_t hs, uint64_t he, uint64_t size, uint64_t near, uint64_t *best,
		    uint64_t *bestd)
{
	uint64_t a, d;

	if (he <= hs || he - hs < size)
		return 0;
	a = OVUP_ALIGN_DOWN(clamp(near, hs, he - size), PAGE);
	if (a < hs)
		a += PAGE;
	if (a + size > he)
		return 0;
	d = a > near ? a - near : near - a;
	if (d < *bestd) {
		*bestd = d;
		*best = a;
	}
	return 1;
}

int ovup_maps_hole(const struct ovup_map *m, size_t n, uint64_t size, uint64_t lo, uint64_t hi,
		   uint64_t near, uint64_t brk_start, uint64_t *addr)
{
	uint64_t avoid_lo = 0, avoid_hi = 0, brk = brk_start;
	uint64_t best = 0, bestd = UINT64_MAX;
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].path, "[heap]"))
			brk = OVUP_MAX(brk, m[i].end);
	if (brk_start) {
		avoid_lo = OVUP_ALIGN_DOWN(brk_start, PAGE);
		avoid_hi = OVUP_MAX(brk, brk_start) + HEAP_ROOM;
	}
	size = OVUP_ALIGN_UP(size, PAGE);
	lo = OVUP_MAX(OVUP_ALIGN_UP(lo, PAGE), OVUP_USER_MIN);
	hi = OVUP_MIN(OVUP_ALIGN_DOWN(hi, PAGE), OVUP_USER_MAX);
	for (i = 0; i <= n; i++) {
		uint64_t hs = i ? m[i - 1].end : OVUP_USER_MIN;
		uint64_t he = i < n ? m[i].start : OVUP_USER_MAX;

		if (i < n && !strcmp(m[i].path, "[stack]"))
			he = he > STACK_ROOM ? he - STACK_ROOM : 0;
		hs = OVUP_MAX(hs, lo);
		he = OVUP_MIN(he, hi);
		/* the part of the hole below and the part above the heap's room */
		if (avoid_hi > avoid_lo && hs < avoid_hi && he > avoid_lo) {
			try_hole(hs, OVUP_MIN(he, avoid_lo), size, near, &best, &bestd);
			try_hole(OVUP_MAX(hs, avoid_hi), he, size, near, &best, &bestd);
			continue;
		}
		try_hole(hs, he, size, near, &best, &bestd);
	}
	if (bestd == UINT64_MAX)
		return -ENOSPC;
	*addr = best;
	return 0;
}
