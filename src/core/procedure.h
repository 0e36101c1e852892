/* SPDX-License-Identifier: MIT */
/*
 * The plan of one apply, threaded through the eight steps of the paper,
 * and the functions of each step.  Internal to core.
 */
#ifndef OVUP_PROCEDURE_H
#define OVUP_PROCEDURE_H

#include "core.h"
#include "../arch/arch.h"
#include "../target/target.h"

#define OVUP_PAGE 4096ull
#define OVUP_ORIG_PREFIX "__ovup_orig_" /* include/ovup.h's OVUP_ORIG */

struct ovup_pfunc {
	const char *name;
	const struct ovup_sym *old;  /* the function replaced */
	uint32_t keep;               /* entry bytes left in place */
	uint32_t len;                /* bytes the branch replaces */
	uint64_t site;               /* old->addr + keep */
	uint8_t cur[OVUP_SITE_MAX];  /* bytes at the site now */
	uint8_t jump[OVUP_SITE_MAX]; /* the branch */
	uint64_t new_addr;
	const char *under; /* name of the patch this one stacks on */
	uint32_t cover;    /* whole instructions the branch displaces */
	int want_orig;     /* the patch calls OVUP_ORIG(name) */
	uint8_t prefix[8]; /* entry bytes the trampoline repeats */
	uint32_t nprefix;
	uint8_t *code; /* the old function's bytes */
	size_t ncode;
	uint32_t tramp_len; /* its trampoline (OVUP_ORIG) */
	uint64_t tramp_addr;
	/* register contract (contract.c) */
	enum ovup_contract contract;
	ovup_regset regs_old;   /* what callers were compiled against */
	ovup_regset regs_new;   /* what the new code may write */
	ovup_regset regs_extra; /* new \ old: saved by the wrapper */
	char why_new[192];      /* why regs_new is the whole ABI set */
	uint64_t wrap_addr;     /* slot reserved after the trampolines */
	uint32_t wrap_len;      /* 0: the branch goes to new_addr */
};

struct ovup_plan {
	struct ovup_target *t;
	const struct ovup_apply_opts *o;
	char *name, *source;
	char *tmp, *objpath;
	struct ovup_obj obj;
	int obj_read; /* obj was read before the labels, which it narrows */
	struct ovup_symtab st;
	struct ovup_records rs;
	struct ovup_selector *sels;
	size_t nsels;
	struct ovup_pfunc *funcs;
	size_t nfuncs;
	struct ovup_label *labels;
	size_t nlabels;
	struct ovup_label *tls; /* thread-local variables: addr is the offset */
	size_t ntls;            /* from the thread pointer (mapfile.c) */
	long scope;
	uint64_t text_size, ro_size, rw_size;
	uint64_t code_size; /* text_size without the trampolines */
	uint64_t wrap_base; /* wrapper slots, after the trampolines */
	struct ovup_block text, data;
	int have_text, have_data; /* allocated, not yet owned by a record */
	char *mapfile;
	uint64_t ro_base, rw_base; /* the mapfile's */
	struct ovup_img img;
	uint64_t pause_ns;
	uint64_t hold_ns;             /* the longest any thread was held */
	uint32_t pause_tasks;         /* tasks the stop considered, 0 if not told */
	uint32_t pause_rechecked;     /* of those, walked while stopped */
	struct ovup_diff_found *diff; /* --diff: what it found (the result takes it) */
};

/* ---- the plan (plan.c) ---- */
void ovup_plan_init(struct ovup_plan *p, struct ovup_target *t, const struct ovup_apply_opts *o);
void ovup_plan_release(struct ovup_plan *p);
/* the selector (OVUP_OBJECT, OVUP_FILE, OVUP_SYMPOS) of name; an empty one
 * is added the first time */
struct ovup_selector *ovup_plan_selector(struct ovup_plan *p, const char *name);
void ovup_plan_add_label(struct ovup_plan *p, const char *name, uint64_t addr, long obj);

/*
 * The steps, in the order ovup_apply() runs them, and the file of each;
 * docs/procedure.md has them in prose.  Between the paper's steps 1 and 2,
 * resolve reads the patch and refuses what cannot be patched safely; every
 * later step relies on its checks.  A step that fails leaves the rest to
 * ovup_plan_release(), which frees what alloc took, so a failed apply
 * leaves the target as it found it.
 */
int ovup_step_labels(struct ovup_plan *p);             /* 1, resolve.c */
int ovup_step_resolve(struct ovup_plan *p);            /* resolve.c, patch.c, sites.c */
int ovup_step_size(struct ovup_plan *p);               /* 2, alloc.c */
int ovup_step_alloc(struct ovup_plan *p, int dry_run); /* 3, alloc.c */
int ovup_step_mapfile(struct ovup_plan *p);            /* 4, link.c (text: mapfile.c) */
int ovup_step_link(struct ovup_plan *p);               /* 5, link.c, contract.c */
int ovup_step_load(struct ovup_plan *p);               /* 6, load.c */
int ovup_step_protect(struct ovup_plan *p);            /* 7, load.c */
int ovup_step_branch(struct ovup_plan *p);             /* 8, branch.c, switch.c */

/* resolve: the patch object read and checked (patch.c) */
int ovup_plan_read_patch(struct ovup_plan *p);
/* each section classified into p->obj, or refused (patch.c) */
int ovup_plan_check_sections(struct ovup_plan *p);
/* each entry of the object's .ovup.meta, checked, to fn; fn's nonzero
 * return stops the walk and is returned */
int ovup_meta_each(const struct ovup_obj *obj, const char *source,
		   int (*fn)(void *arg, const char *kind, const char *name, const char *value),
		   void *arg);
/* resolve: each function's patch site, its bytes checked (sites.c) */
int ovup_plan_sites(struct ovup_plan *p);
/* link step: each function's register contract; wrappers into p->img */
int ovup_plan_contracts(struct ovup_plan *p);

/* ---- the switch (switch.c, txn.c) ---- */
/* Runs a transaction, retrying while a thread is in the way. */
int ovup_switch(struct ovup_target *t, struct ovup_txn *txn, unsigned retries,
		const struct ovup_symtab *st);

/* The transaction that switches the sites of one record one way: to its
 * jumps (apply) or back to the bytes it saved (revert).  The only place
 * either direction's sites and ranges are made. */
struct ovup_record_txn {
	struct ovup_txn txn;
	size_t *func; /* txn.sites[i] is the record's function func[i] */
};
/* cover[k]: bytes at function k's site no thread may be inside (NULL:
 * the site's length); skip[k]: leave function k out (NULL: none) */
void ovup_record_txn_init(struct ovup_record_txn *x, const struct ovup_record *r, int to_saved,
			  const uint32_t *cover, const unsigned char *skip);
/* the record's function whose site failed, or 0 */
size_t ovup_record_txn_failed(const struct ovup_record_txn *x);
void ovup_record_txn_release(struct ovup_record_txn *x);

/* ---- the target's state (state.c) ---- */
/* Loads the record, confirming or dropping patches left pending. */
int ovup_records_load(struct ovup_target *t, struct ovup_records *rs);
int ovup_records_save(struct ovup_target *t, const struct ovup_records *rs);
/* frees blocks; -EBUSY with busy set if a thread may still use them */
int ovup_release(struct ovup_target *t, const struct ovup_block *b, size_t n,
		 struct ovup_busy *busy);
/* why a block was kept, from what blocked its release */
void ovup_kept_why(const struct ovup_busy *b, char *buf, size_t len);
/* what f's site holds now (s->function is a copy: ovup_sites_seen_free) */
int ovup_site_look(struct ovup_target *t, const struct ovup_rec_func *f, struct ovup_site_seen *s);
void ovup_sites_seen_free(struct ovup_site_seen *s, size_t n);
/* is every byte of f's function outside its site the file's? */
int ovup_check_rest(struct ovup_target *t, const struct ovup_record *r,
		    const struct ovup_rec_func *f);
/* frees a dropped record's blocks; 1 (why set) if they stay mapped
 * because a thread may still use them */
int ovup_release_record(struct ovup_target *t, const struct ovup_record *gone, char *why,
			size_t len);
/* are r's saved bytes what a revert may write back? */
int ovup_check_saved(struct ovup_target *t, const struct ovup_records *rs,
		     const struct ovup_record *r);
/* One switch of every site of r to its saved bytes (to_saved) or to its
 * jump; see state.c. */
int ovup_switch_record(struct ovup_target *t, const struct ovup_record *r, int to_saved,
		       int skip_done, unsigned retries, size_t *failed, struct ovup_txn *res);

#endif
