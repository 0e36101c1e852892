/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Internal interface between the parts of ovup.ko: the device and ioctl
 * decoding (ovup_main.c), the areas, blocks and page protections
 * (ovup_mem.c), the branch writes, stack check and records
 * (ovup_patch.c), and the modules records depend on (ovup_deps.c).  All
 * state is guarded by ovup_lock.
 */
#ifndef OVUP_INTERNAL_H
#define OVUP_INTERNAL_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include "ovup_uapi.h"

/* One of the two areas reserved in ovup_area.S. */
struct ovup_area {
	const char *name;
	u32 kind;              /* OVUP_K_TEXT or OVUP_K_DATA */
	unsigned long base;
	unsigned long npages;
	unsigned long *used;   /* bitmap, one bit per page */
};

/* A run of pages handed out by alloc.  It belongs to the fd that allocated
 * it until a successful pawrite hands it to a record. */
struct ovup_block {
	struct list_head node;
	struct ovup_area *area;
	unsigned long addr;
	unsigned long npages;
	struct file *file;           /* allocating fd, or NULL once owned */
	struct ovup_record *record;  /* owner after pawrite, or NULL */
};

/* An applied patch. */
struct ovup_record {
	struct list_head node;
	char name[OVUP_NAME_MAX];
	u64 seq;
	u32 nsites;
	struct ovup_k_site *sites;   /* expect = saved original, write = written */
	struct module **mods;        /* per site: pinned owner module or NULL */
	u32 nblocks;
	struct ovup_block **blocks;
	u32 bloblen;
	void *blob;
	u32 ndeps;
	struct module **deps;        /* modules the patch's code or data refers
	                              * to, pinned (ovup_deps.c) */
	bool dropping;               /* ovup_deps.c: marked for a forced drop */
};

extern struct mutex ovup_lock;
extern struct ovup_area ovup_text, ovup_data;

/* ovup_mem.c */
int ovup_mem_init(void);
void ovup_mem_exit(void);
struct ovup_area *ovup_area_of(unsigned long addr, unsigned long len);
bool ovup_overlaps_areas(unsigned long addr, unsigned long len);
bool ovup_is_kernel_text(unsigned long addr, unsigned long len);
void *ovup_alias_map(unsigned long addr, unsigned long len);
void ovup_alias_unmap(void *alias);
int ovup_block_alloc(u32 kind, u64 size, struct file *file, unsigned long *addr);
struct ovup_block *ovup_block_at(unsigned long addr);
struct ovup_block *ovup_block_containing(unsigned long addr, unsigned long len);
void ovup_block_free(struct ovup_block *b);
void ovup_blocks_release(struct file *file);
int ovup_block_copyin(struct ovup_block *b, unsigned long addr,
		      const void __user *src, unsigned long len);
int ovup_block_chgprot(struct ovup_block *b, unsigned long addr,
		       unsigned long len, u32 prot);

/* ovup_patch.c */
extern struct list_head ovup_records;  /* oldest first */
int ovup_pawrite(struct ovup_k_pawrite *pw);
int ovup_revert(struct ovup_k_revert *rv);
int ovup_record_get(struct ovup_k_record *rec);
u32 ovup_record_count(void);
bool ovup_sites_overlap(const struct ovup_k_site *a, const struct ovup_k_site *b);
int ovup_sites_restore(const struct ovup_record *rec, const struct module *skip);
int ovup_stacks_check(const struct ovup_k_range *ranges, u32 nranges,
		      struct ovup_k_busy *busy);
void ovup_record_drop(struct ovup_record *rec);

/* ovup_deps.c */
struct module *ovup_module_at(unsigned long addr);
int ovup_deps_pin(struct ovup_record *rec, const u64 *addrs, u32 n, u32 *failed);
void ovup_deps_put(struct ovup_record *rec);
int ovup_deps_init(void);
void ovup_deps_exit(void);
/* Blocks of a record dropped while a task may still run in them: owned by
 * no record and no fd, freed only once no task can (retired). */
void ovup_blocks_retire(struct ovup_record *rec);

#endif
