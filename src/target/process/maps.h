/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID/maps as data, and the search for a free hole in the target's
 * address space within reach of the functions being replaced.  Pure code:
 * the unit tests feed it text.
 */
#ifndef OVUP_MAPS_H
#define OVUP_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct ovup_map {
	uint64_t start, end, offset;
	char perms[5];
	uint64_t inode;
	char *path; /* "" for anonymous, "[heap]", "/usr/lib/..." */
};

int ovup_maps_parse(const char *text, struct ovup_map **out, size_t *n);
void ovup_maps_free(struct ovup_map *m, size_t n);

/* Lowest and highest address a user mapping may have on this machine. */
#define OVUP_USER_MIN 0x10000ull
#define OVUP_USER_MAX 0x7ffffffff000ull

/* Finds a page-aligned [addr, addr+size) that overlaps no mapping, lies in
 * [lo, hi), keeps clear of the stack's guard gap and of the heap's room to
 * grow (from brk_start, /proc/PID/stat field 47, past the end of [heap]),
 * and is as close to `near` as possible.  0, or -ENOSPC. */
int ovup_maps_hole(const struct ovup_map *m, size_t n, uint64_t size, uint64_t lo, uint64_t hi,
		   uint64_t near, uint64_t brk_start, uint64_t *addr);

#endif
