/* SPDX-License-Identifier: MIT */
/*
 * Internal to the kernel target: the target's own state and the ops each
 * file answers.  kernel.c holds the ops table and opens the target;
 * device.c is /dev/ovup (the only file that opens it or calls ioctl());
 * labels.c reads /proc/kallsyms, build.c runs kbuild, sections.c sorts a
 * patch's sections, finalize.c edits the linked patch as the module
 * loader would edit a module, sites.c checks a patch site, switch.c turns a
 * transaction into the module's pawrite or revert, records.c reads the
 * record and the retired blocks the module keeps.
 */
#ifndef OVUP_KERNEL_H
#define OVUP_KERNEL_H

#include "../target.h"
#include "uapi/ovup_uapi.h"

#include <stddef.h>
#include <stdint.h>

struct kern_target {
	struct ovup_target base;
	int fd;          /* /dev/ovup, -1 offline */
	int writer;      /* this fd holds the module's writer slot */
	const char *dev; /* its path */
	char kver[128];  /* headers to build with */
	struct ovup_k_version v;
	struct ovup_k_cpu cpu; /* ovup_kern_cpu(), once have_cpu */
	int have_cpu;
	/* what the fixup found in the linked patch for the module's tables:
	 * its __bug_table, and its functions (named at pawrite) */
	uint64_t bugs;
	uint32_t bugs_len;
	uint64_t extable;
	uint32_t extable_len;
	uint64_t orc_ip, orc;
	uint32_t norc;
	struct ovup_k_sym *syms;
	size_t nsyms;
	/* kbuild's commands for a module's .o and .s (build.c), recorded
	 * once per run; kb_failed: recording failed, make runs each time */
	char *kb_o, *kb_s, *kb_dir;
	int kb_failed;
};

static inline struct kern_target *ovup_to_kern(struct ovup_target *t)
{
	return ovup_container_of(t, struct kern_target, base);
}

/* ---- device.c: /dev/ovup ---- */

/* Open the device, check the module speaks this ovup's version and tell
 * it where the idle tasks are.  0, or -errno with the message set; -ENODEV
 * when the module is not loaded. */
int ovup_kern_device_open(struct kern_target *k);
/* 0 when the device is open, else -ENODEV saying why it is absent */
int ovup_kern_need_module(struct kern_target *k);
/* One request to the module: 0, or -errno; the causes only the module's
 * answer tells (capabilities, lockdown, a stale module) come with the
 * message set, what names the request in it. */
int ovup_kern_ioctl(struct kern_target *k, unsigned long req, void *arg, const char *what);
/* Take the module's writer slot for a verb that will write. */
int ovup_kern_take_writer(struct kern_target *k);
int ovup_kern_alloc(struct ovup_target *t, enum ovup_block_kind kind, const char *owner,
		    uint64_t size, uint64_t lo, uint64_t hi, uint64_t near, int dry_run,
		    struct ovup_block *out);
int ovup_kern_free(struct ovup_target *t, const struct ovup_block *b, size_t n,
		   struct ovup_busy *busy);
int ovup_kern_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len);
int ovup_kern_chgprot(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot);
int ovup_kern_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len);
/* The CPU's features and return thunk as the module loader sees them
 * (OVUP_IOC_CPU, asked once): 0 or -errno with the message set. */
int ovup_kern_cpu(struct kern_target *k, const struct ovup_k_cpu **out);

/* ---- labels.c: /proc/kallsyms ---- */

int ovup_kern_labels(struct ovup_target *t, struct ovup_symtab *st);
/* The address of the per-CPU variable idle_threads: 0 or -errno with the
 * message set. */
int ovup_kern_idle_threads(uint64_t *addr);

/* ---- kcache.c: what ovup keeps of a kernel ---- */

/* The key: the kernel's build and its modules' (not where they are);
 * NULL when it cannot be known (OVUP_KALLSYMS, addresses hidden). */
const char *ovup_kcache_key(void);
/* Where module name was loaded, as /proc/modules said when the key was
 * made: 0, or -1 if it is not loaded (or there is no key). */
int ovup_kcache_module_addr(const char *name, uint64_t *addr);
/* The name of a cache file of this key ("kernel-HASH-what", in
 * ovup_symcache_dir()), or NULL when there is no cache. */
char *ovup_kcache_name(const char *what);
/* Removes the cache files of other keys. */
void ovup_kcache_prune(void);

/* ---- build.c: kbuild for the installed headers ---- */

/* The headers to build with, into k->kver: 0 or -ENOENT with the message
 * set. */
int ovup_kern_find_kver(struct kern_target *k);
/* The release and version the headers in k->kver were made for, into
 * k->base (left as they are where the headers do not say). */
void ovup_kern_header_identity(struct kern_target *k);
/* kver found and kbuild's commands recorded (or read from the cache) */
int ovup_kern_compile_prepare(struct ovup_target *t);
int ovup_kern_compile(struct ovup_target *t, const char *src, const char *out, char *const extra[],
		      size_t nextra);

/* ---- sections.c: the sections of a kernel patch ---- */

int ovup_kern_classify(const char *name, uint64_t flags, uint32_t type);
const char *ovup_kern_reject_hint(const char *section);
/* the mapfile's lists, drawn from the same table by ovup_kern_sections_init() */
extern const char *ovup_kern_mapfile_discard[];
extern const char *ovup_kern_mapfile_keep_ro[];
extern const char *ovup_kern_mapfile_keep_text[];
void ovup_kern_sections_init(void);

/* ---- finalize.c: the module loader's edits, made in the linked patch ---- */

int ovup_kern_fixup(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st);
/* room for the jump-label stubs the fixup adds after the code */
uint64_t ovup_kern_text_extra(const struct ovup_obj *o);

/* ---- sites.c: the patch site at a function's entry ---- */

int ovup_kern_site(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep);
int ovup_kern_hooked(struct ovup_target *t, const struct ovup_symtab *st, uint64_t site,
		     const uint8_t *bytes, char *why, size_t len);
int ovup_kern_verify_entry(struct ovup_target *t, const struct ovup_symtab *st,
			   const struct ovup_sym *s, const uint8_t *entry, size_t n, int stacked);

/* ---- switch.c: step 8, one ioctl inside which the module stops the machine ---- */

int ovup_kern_stop(struct ovup_target *t);
int ovup_kern_pawrite(struct ovup_target *t, struct ovup_txn *txn);
int ovup_kern_resume(struct ovup_target *t, struct ovup_txn *txn);
void ovup_kern_copy_busy(struct ovup_busy *b, const struct ovup_k_busy *kb);

/* ---- records.c: the record and the retired blocks, kept by the module ---- */

int ovup_kern_records_load(struct ovup_target *t, struct ovup_buf *out);
int ovup_kern_retired(struct ovup_target *t, struct ovup_retired_block **out, size_t *n);

#endif
