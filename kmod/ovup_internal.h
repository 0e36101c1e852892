/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Internal interface between the parts of ovup.ko: the device and ioctl
 * decoding (ovup_main.c), the areas, blocks and page protections
 * (ovup_mem.c), the branch writes and records (ovup_patch.c), the stack
 * check (ovup_stack.c), the code reverts leave behind (ovup_retire.c),
 * the modules records depend on (ovup_deps.c), and who may call when
 * (ovup_gate.c).  All state but the writer slot is guarded by ovup_lock.
 */
#ifndef OVUP_INTERNAL_H
#define OVUP_INTERNAL_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/security.h>
#include <linux/types.h>
#include "uapi/ovup_uapi.h"

/* One of the two areas reserved in ovup_area.S. */
struct ovup_area {
	const char *name;
	u32 kind;              /* OVUP_K_TEXT or OVUP_K_DATA */
	unsigned long base;
	unsigned long npages;
	unsigned long *used;   /* bitmap, one bit per page */
};

/* A run of pages handed out by alloc.  It belongs to the fd that allocated
 * it until a successful pawrite hands it to a record.
 */
struct ovup_block {
	struct list_head node;
	struct ovup_area *area;
	unsigned long addr;
	unsigned long npages;
	struct file *file;           /* allocating fd, or NULL once owned */
	struct ovup_record *record;  /* owner after pawrite, or NULL */
	bool retired;                /* left by a revert; freed by ovup_retire.c */
	struct ovup_k_sym *syms;     /* names of the code in it (ovup_tables.c) */
	u32 nsyms;
	unsigned long orc_end;       /* ORC rows cover [addr, orc_end), 0: none */
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
	/* modules the patch's code or data refers to, pinned (ovup_deps.c) */
	struct module **deps;
	bool dropping;               /* ovup_deps.c: marked for a forced drop */
};

extern struct mutex ovup_lock;
extern struct ovup_area ovup_text, ovup_data;

/* ovup_area.S: the memory the two areas hand out */
extern char ovup_text_area[], ovup_text_area_end[];
extern char ovup_data_area[], ovup_data_area_end[];

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

/* ovup_gate.c */
int ovup_gate(struct file *file, bool writer, enum lockdown_reason lock);
int ovup_gate_begin(struct file *file, struct ovup_k_begin *b);
int ovup_gate_end(struct file *file);
/* ovup_stack.c */
/* Ranges a stack walk looks for: a frame in `hard` makes a task busy, a
 * frame in `soft` (code being retired) is only noted.
 */
struct ovup_walk_ranges {
	const struct ovup_k_range *hard;
	u32 nhard;
	const struct ovup_k_range *soft;
	u32 nsoft;
};

enum {
	OVUP_WALK_CLEAN,
	OVUP_WALK_SOFT,     /* a frame in a soft range, none in a hard one */
	OVUP_WALK_HARD,     /* a frame in a hard range */
	OVUP_WALK_UNWIND,   /* the stack could not be walked */
	OVUP_WALK_RUNNING,  /* the task ran during the walk */
};

/* A task found in code being retired, to be seen clean once. */
struct ovup_pending {
	struct task_struct *task;
	u64 start_time;
	pid_t pid;
	bool seen;       /* seen clean (or gone) since */
	bool found;      /* on the task list in the current check */
};

struct ovup_seen;

/* One stack check: pass one outside stop_machine, the stop pass inside. */
struct ovup_scan {
	struct ovup_walk_ranges wr;
	struct ovup_seen *seen;    /* pass one's table */
	u32 mask, cap, nseen;
	struct ovup_pending *pending;  /* tasks in soft ranges at the stop */
	u32 npending, pending_cap;
	bool pending_all;          /* more than fit: every task is pending */
	bool soft_hit;
	struct ovup_k_busy busy;       /* on -EBUSY */
	struct ovup_k_busy soft_busy;  /* the last task found in soft ranges */
	u32 tasks, rechecked;
};

int ovup_idle_set(u64 idle_threads);
bool ovup_idle_known(void);
struct task_struct *ovup_idle_task(int cpu);
int ovup_walk_task(struct task_struct *t, const struct ovup_walk_ranges *wr,
		   struct ovup_k_busy *busy);
int ovup_walk_quiet(struct task_struct *t, const struct ovup_walk_ranges *wr,
		    struct ovup_k_busy *busy, unsigned long *nsw);
int ovup_scan_prepare(struct ovup_scan *sc);
int ovup_scan_stop(struct ovup_scan *sc);
void ovup_scan_free(struct ovup_scan *sc);

/* ovup_retire.c, all with ovup_lock held (ovup_retire_exit without).
 * ovup_blocks_retire: a record leaves without a stack check (it is being
 * dropped): its blocks are retired until every task that exists now has
 * been seen outside them; rec keeps no blocks afterwards.
 */
void ovup_blocks_retire(struct ovup_record *rec);
int ovup_blocks_retire_pending(struct ovup_record *rec, const struct ovup_scan *sc);
void ovup_retired_check(void);
u32 ovup_retired_count(void);
int ovup_retired_get(struct ovup_k_retired *out);
void ovup_retire_exit(void);

/* ovup_patch.c */
extern struct list_head ovup_records;  /* oldest first */
int ovup_pawrite(struct file *file, struct ovup_k_pawrite *pw);
int ovup_revert(struct ovup_k_revert *rv);
int ovup_record_get(struct ovup_k_record *rec);
u32 ovup_record_count(void);
u64 ovup_record_newest_seq(void);
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

/* ovup_cpu.c */
long ovup_ioc_cpu(struct file *file, void *arg);

/* ovup_tables.c: bug table and kallsyms of patch code, with ovup_lock */
extern struct list_head ovup_blocks;  /* ovup_mem.c: every block */
int ovup_tables_prepare(struct ovup_k_pawrite *pw, struct ovup_block **blocks, u32 nblocks);
void ovup_tables_publish(void);  /* inside the apply's stop */
void ovup_tables_cancel(void);
void ovup_tables_forget(struct ovup_block *b);
int ovup_tables_prepare_revert(const struct ovup_record *rec);
void ovup_tables_quiesce(void);
void ovup_tables_count(struct ovup_k_version *v);
/* is addr in patch code the unwinder has rows for (ovup_stack.c) */
bool ovup_orc_covers(unsigned long addr);
int ovup_tables_init(void);
void ovup_tables_exit(void);

#endif
