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
#include "../model/change.h"
#include "../model/symtab.h"

struct ovup_target;

/* Documented exit codes (docs/cli.md); main() maps errors onto them. */
enum ovup_exit {
	OVUP_EXIT_OK = 0,
	OVUP_EXIT_FAIL = 1, /* failed, the target is untouched */
	OVUP_EXIT_USAGE = 2,
	OVUP_EXIT_BUSY = 3,         /* a thread/task is in the way: try again */
	OVUP_EXIT_INCONSISTENT = 4, /* the target may be inconsistent */
	OVUP_EXIT_SOME = 5,         /* --all: some processes were not done */
};

/* ---- the record of applied patches (record.c) ---- */
struct ovup_rec_func {
	char *name;
	char *object;
	uint64_t old_addr, old_size;
	uint64_t site; /* where the branch was written */
	uint64_t new_addr;
	uint32_t len;
	uint8_t saved[16]; /* bytes found at the site before */
	uint8_t jump[16];  /* bytes ovup wrote */
};
struct ovup_rec_block {
	uint64_t addr, size;
	int kind;
};
/* The journal of one patch: an apply writes it PENDING before the first
 * site changes and APPLIED after the last; a revert writes REVERTING
 * before and drops it after.  A run that finds PENDING or REVERTING
 * settles it from the bytes at the sites (core/state.c). */
/* FORCING: a revert --force, which the next run finishes even where the
 * record's jump (adopted from what another tool wrote) is still there */
enum ovup_rec_state {
	OVUP_REC_APPLIED = 0,
	OVUP_REC_PENDING,
	OVUP_REC_REVERTING,
	OVUP_REC_FORCING
};
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
	char why[192]; /* what may still run in it or point to it */
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
	long obj; /* the target's object it was resolved in, or -1 */
};
struct ovup_mapfile_in {
	const char *title;
	uint64_t text_base, ro_base, rw_base;
	const struct ovup_label *labels;
	size_t nlabels;
	const char *const *keep_ro;   /* extra input sections kept read-only */
	const char *const *discard;   /* extra input sections dropped */
	const char *const *keep_text; /* extra input sections in the code */
	/* thread-local variables: name, and in addr the offset from the
	 * thread pointer its slot holds (two's complement) */
	const struct ovup_label *tls;
	size_t ntls;
};
char *ovup_mapfile(const struct ovup_mapfile_in *in);

/* ---- verbs (apply.c, build.c, revert.c, list.c, symbols.c) ----
 * Each verb does its work and returns what it did in a result; it prints
 * nothing on stdout (cli/ renders the result as text or JSON).  Warnings
 * and notes still go to stderr through util.  Every result has a _free. */
struct ovup_apply_opts {
	const char *patch;      /* .c or an object from `ovup build` */
	const char *name;       /* NULL: from the file name */
	const char *diff;       /* --diff: patch is built from this diff ... */
	const char *source_dir; /* ... of the sources in this directory */
	char *const *cflags;    /* after `--` */
	size_t ncflags;
	int dry_run;
	unsigned retries; /* busy retries */
	int timing;
};

/* the paper's eight steps, in order: the names of apply's step_ns[] */
#define OVUP_NSTEPS 8
extern const char *const ovup_step_names[OVUP_NSTEPS];

/* What keeping a replaced function's register contract took (contract.c). */
enum ovup_contract {
	OVUP_CONTRACT_UNCHECKED = 0, /* the target's callers assume only the ABI */
	OVUP_CONTRACT_KEPT,          /* the new code writes nothing more */
	OVUP_CONTRACT_WRAPPED,       /* a wrapper saves what it writes more */
	OVUP_CONTRACT_INTERPOSABLE,  /* it writes more, but no caller relies on it */
	OVUP_CONTRACT_FAULT,         /* test hook: wrapper left out (OVUP_FAULT) */
};

/* Register sets are given as the arch's names, space-separated ("rax rcx"). */
#define OVUP_REGS_TEXT 512

struct ovup_apply_func {
	char *name;                 /* the patch's function */
	char *impl;                 /* an IFUNC's implementation replaced, or NULL */
	char *object, *object_name; /* the target's object: path, file name */
	uint64_t old_addr, old_size;
	uint64_t site;   /* where the branch goes */
	int after_entry; /* site is after kept entry bytes */
	uint64_t new_addr;
	uint8_t jump[OVUP_SITE_MAX];
	uint32_t len;
	char *under; /* the patch this one stacks on, or NULL */
	enum ovup_contract contract;
	char regs_old[OVUP_REGS_TEXT];   /* what callers were compiled against */
	char regs_new[OVUP_REGS_TEXT];   /* what the new code may write */
	char regs_extra[OVUP_REGS_TEXT]; /* new \ old: what a wrapper saves */
	char why_new[192];               /* why regs_new is the whole ABI set */
	uint64_t wrap_addr;
	uint32_t wrap_len; /* 0: no wrapper */
};

/* What --diff found in the unit (diff.c): the functions whose code
 * changed, the new ones, and the unchanged ones a change was inlined into */
enum {
	OVUP_DIFF_CHANGED,
	OVUP_DIFF_NEW,
	OVUP_DIFF_AFFECTED,
	OVUP_DIFF_CARRIED, /* unchanged, but the target inlined it: a copy */
	OVUP_DIFF_NKINDS
};
extern const char *const ovup_diff_kind_names[OVUP_DIFF_NKINDS];
struct ovup_diff_found {
	char *file; /* the .c file, as the diff names it */
	char **names[OVUP_DIFF_NKINDS];
	size_t n[OVUP_DIFF_NKINDS];
	char **flags; /* the unit's compiler flags: from flags_from, then '--' */
	size_t nflags;
	char *flags_from; /* compile_commands.json, or NULL */
};
void ovup_diff_found_free(struct ovup_diff_found *d);

struct ovup_apply_result {
	char target[64];              /* "pid 42", "kernel 6.1.0" */
	struct ovup_diff_found *diff; /* --diff: what it found, or NULL */
	char *patch;
	int dry_run; /* a plan: nothing was changed */
	uint64_t text_addr, text_size;
	uint64_t data_addr, data_size;
	uint64_t ro_size, rw_size; /* of data, before page rounding */
	struct ovup_apply_func *funcs;
	size_t nfuncs;
	uint64_t step_ns[OVUP_NSTEPS];
	uint64_t pause_ns, total_ns;
	/* the longest any thread was held: the pause, or a hold of one
	 * thread for the system calls of alloc and protect */
	uint64_t hold_ns;
	uint32_t stop_tasks, stop_rechecked; /* tasks the stop considered, walked */
};

struct ovup_build_result {
	char target[64];
	struct ovup_diff_found *diff; /* --diff: what it found, or NULL */
	char *patch;
	char *output; /* NULL for a dry run */
	size_t nfuncs;
	int dry_run; /* --dry-run: nothing written */
};

/* 'ovup info PATCH.o': what an object from 'ovup build' holds */
struct ovup_info_sel {
	char *object, *file; /* OVUP_OBJECT, OVUP_FILE, or NULL */
	unsigned sympos;     /* OVUP_SYMPOS, or 0 */
	char *near;          /* a diff's kernel static: "ANCHOR BYTES", or NULL */
};
struct ovup_info_func {
	char *name;
	uint64_t size;
	int calls_orig; /* the patch calls OVUP_ORIG(name) */
	struct ovup_info_sel sel;
};
struct ovup_info_sym {
	char *name; /* as the object names it, "memcpy@GLIBC_2.2.5" if versioned */
	int tls, versioned;
	struct ovup_info_sel sel;
};
struct ovup_info_object {
	char *path, *build_id;
};
struct ovup_info_result {
	char *path;                            /* the object */
	char *patch;                           /* the patch's name */
	char *source;                          /* the .c file it was built from, or NULL */
	char *target;                          /* "process" or "kernel" */
	char *kernel_release, *kernel_version; /* kernel objects, or NULL */
	struct ovup_info_object *objs;         /* process objects: built against */
	size_t nobjs;
	struct ovup_info_func *funcs; /* replaced */
	size_t nfuncs;
	struct ovup_info_sym *syms; /* used: the object's undefined symbols */
	size_t nsyms;
	/* the sizes of the patch's own code and data, by section kind */
	uint64_t text, rodata, data, bss;
};

/* the parts of a revert, as -v times them */
enum {
	OVUP_REVERT_RECORDS,
	OVUP_REVERT_SWITCH,
	OVUP_REVERT_SAVE,
	OVUP_REVERT_RELEASE,
	OVUP_REVERT_NSTEPS
};
extern const char *const ovup_revert_step_names[OVUP_REVERT_NSTEPS];

/* What a patched function's site held when forget or revert --force
 * looked at it: ovup's jump, the bytes it saved (the old code, put back
 * by another tool), or other bytes. */
enum ovup_site_holds { OVUP_HOLDS_JUMP, OVUP_HOLDS_SAVED, OVUP_HOLDS_OTHER };
struct ovup_site_seen {
	char *function;
	uint64_t site;
	enum ovup_site_holds holds;
	uint32_t len;
	uint8_t bytes[16];
};
/* "ovup's jump", "its old bytes", "other bytes" */
const char *ovup_site_holds_name(enum ovup_site_holds h);

struct ovup_revert_result {
	char target[64];
	char *patch; /* the patch reverted */
	/* with --force: what each site held before the revert */
	struct ovup_site_seen *seen;
	size_t nseen;
	uint64_t pause_ns, total_ns;
	uint64_t step_ns[OVUP_REVERT_NSTEPS];
	uint32_t retired; /* blocks left for the target to free */
	uint32_t stop_tasks, stop_rechecked;
};

struct ovup_forget_result {
	char target[64];
	char *patch; /* the patch whose record was dropped */
	uint64_t seq;
	struct ovup_site_seen *seen; /* what each of its sites holds */
	size_t nseen;
	int kept;      /* its memory stays mapped: why says why */
	char why[192]; /* ... until a later run can release it */
};

struct ovup_list_func {
	const struct ovup_rec_func *f;
	const char *status; /* "active", "under a newer patch", ... */
};
struct ovup_list_patch {
	const struct ovup_record *r;
	struct ovup_list_func *funcs; /* r->funcs, each with its status */
};
/* a function patched more than once: its patches, newest first */
struct ovup_list_stack {
	const char *function;
	const char **patches;
	size_t npatches;
};
struct ovup_list_result {
	char target[64];
	struct ovup_records rs;          /* sorted by seq; kept and retired too */
	struct ovup_list_patch *patches; /* one per rs.r[], in that order */
	struct ovup_list_stack *stacks;
	size_t nstacks;
};

struct ovup_symbols_result {
	char target[64];
	const char *glob; /* NULL: every symbol */
	struct ovup_symtab st;
	const struct ovup_sym **syms; /* the matches, by name */
	size_t n;
	/* the objects with only .dynsym, whose static symbols are unknown:
	 * index into st.objs, and ovup_object_symbols_hint() */
	struct ovup_symbols_dynsym {
		size_t obj;
		char *hint;
	} * dynsym;
	size_t ndynsym;
};

int ovup_apply(struct ovup_target *t, const struct ovup_apply_opts *o,
	       struct ovup_apply_result *res);
int ovup_build(struct ovup_target *t, const struct ovup_apply_opts *o, const char *out,
	       struct ovup_build_result *res);
/* force: also where another tool changed a site, if the bytes saved are
 * provably the old code (revert.c) */
int ovup_revert(struct ovup_target *t, const char *name, unsigned retries, int force,
		struct ovup_revert_result *res);
/* drops the record of a patch the target no longer runs (forget.c) */
int ovup_forget(struct ovup_target *t, const char *name, struct ovup_forget_result *res);
int ovup_list(struct ovup_target *t, struct ovup_list_result *res);
int ovup_symbols(struct ovup_target *t, const char *glob, struct ovup_symbols_result *res);
/* needs no target: reads the object only */
int ovup_info_read(const char *path, struct ovup_info_result *res);
/* the kind of a section's bytes as 'info' sums them: "text", "rodata",
 * "data", "bss", or NULL for what is not loaded */
const char *ovup_info_sec_kind(const char *name, uint64_t flags, uint32_t type);

void ovup_apply_result_free(struct ovup_apply_result *res);
void ovup_build_result_free(struct ovup_build_result *res);
void ovup_revert_result_free(struct ovup_revert_result *res);
void ovup_forget_result_free(struct ovup_forget_result *res);
void ovup_list_result_free(struct ovup_list_result *res);
void ovup_symbols_result_free(struct ovup_symbols_result *res);
void ovup_info_result_free(struct ovup_info_result *res);

#endif
