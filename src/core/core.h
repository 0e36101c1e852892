/* SPDX-License-Identifier: MIT */
/*
 * The core of ovup: the paper's procedure (labels, size, alloc, mapfile,
 * link, load, protect, branch), the record of applied patches, and the
 * verbs the CLI offers.  Core talks to a target only through its ops.
 */
#ifndef OVUP_CORE_H
#define OVUP_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "../elf/elf.h"
#include "../model/symtab.h"

struct ovup_target;

/* Documented exit codes (docs/cli.md); main() maps errors onto them. */
enum ovup_exit {
	OVUP_EXIT_OK = 0,
	OVUP_EXIT_FAIL = 1,         /* failed, the target is untouched */
	OVUP_EXIT_USAGE = 2,
	OVUP_EXIT_BUSY = 3,         /* a thread/task is in the way: try again */
	OVUP_EXIT_INCONSISTENT = 4, /* the target may be inconsistent */
};

/* ---- the record of applied patches (record.c) ---- */
struct ovup_rec_func {
	char *name;
	char *object;
	uint64_t old_addr, old_size;
	uint64_t site;       /* where the branch was written */
	uint64_t new_addr;
	uint32_t len;
	uint8_t saved[16];   /* bytes found at the site before */
	uint8_t jump[16];    /* bytes ovup wrote */
};
struct ovup_rec_block {
	uint64_t addr, size;
	int kind;
};
/* The journal of one patch: an apply writes it PENDING before the first
 * site changes and APPLIED after the last; a revert writes REVERTING
 * before and drops it after.  A run that finds PENDING or REVERTING
 * settles it from the bytes at the sites (core/verbs.c). */
enum ovup_rec_state { OVUP_REC_APPLIED = 0, OVUP_REC_PENDING, OVUP_REC_REVERTING };
struct ovup_record {
	char *name;
	char *source;
	uint64_t seq;
	int64_t time;
	enum ovup_rec_state state;
	struct ovup_rec_block *blocks;
	size_t nblocks;
	struct ovup_rec_func *funcs;
	size_t nfuncs;
};
struct ovup_rec_kept {
	uint64_t addr, size;
	int kind;
	char why[192];       /* what may still run in it or point to it */
};
struct ovup_records {
	struct ovup_record *r;
	size_t n;
	/* blocks no record owns that the target still holds, because a
	 * thread may return into them (found when loading) */
	struct ovup_rec_kept *kept;
	size_t nkept;
	/* blocks the target retired and frees itself once unused */
	struct ovup_retired_block *retired;
	size_t nretired;
};

char *ovup_records_format(const struct ovup_records *rs);
int ovup_records_parse(const char *text, struct ovup_records *rs);
void ovup_record_free(struct ovup_record *r);
void ovup_records_free(struct ovup_records *rs);
char *ovup_record_format_one(const struct ovup_record *r);
/* the record on top of the stack at site, or NULL */
const struct ovup_record *ovup_records_top(const struct ovup_records *rs, uint64_t site,
					   const struct ovup_rec_func **f);

/* ---- the linker script (mapfile.c) ---- */
struct ovup_label {
	const char *name;
	uint64_t addr;
	long obj;         /* the target's object it was resolved in, or -1 */
};
struct ovup_mapfile_in {
	const char *title;
	uint64_t text_base, ro_base, rw_base;
	const struct ovup_label *labels;
	size_t nlabels;
	const char *const *keep_ro; /* extra input sections kept read-only */
	const char *const *discard; /* extra input sections dropped */
};
char *ovup_mapfile(const struct ovup_mapfile_in *in);

/* ---- verbs (procedure.c, verbs.c) ---- */
struct ovup_apply_opts {
	const char *patch;      /* .c or an object from `ovup build` */
	const char *name;       /* NULL: from the file name */
	char *const *cflags;    /* after `--` */
	size_t ncflags;
	int dry_run;
	int json;
	unsigned retries;       /* busy retries */
	int timing;
};
int ovup_apply(struct ovup_target *t, const struct ovup_apply_opts *o);
int ovup_build(struct ovup_target *t, const struct ovup_apply_opts *o, const char *out);
int ovup_revert(struct ovup_target *t, const char *name, unsigned retries, int json);
int ovup_list(struct ovup_target *t, int json);
int ovup_symbols(struct ovup_target *t, const char *glob, int json);

#endif
