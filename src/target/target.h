/* SPDX-License-Identifier: MIT */
/*
 * The target ops: what the procedure needs from a target, and nothing more.
 * The paper's four primitives (alloc, chgprot, pawrite, copyin), plus
 * stop/resume, read, labels, compile, and the record of applied patches.
 * A target is a struct embedding `struct ovup_target`; each back end
 * recovers its own struct with container_of.
 */
#ifndef OVUP_TARGET_H
#define OVUP_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "../model/change.h"
#include "../model/symtab.h"
#include "../util/util.h"

struct ovup_target;

/* What a target's symbols and build can and cannot tell: the build of
 * a patch from a diff adapts to these, not to the target's kind. */
enum ovup_target_trait {
	/* its symbols name no files (kallsyms): a static is found by its
	 * distance from a global of the same unit (the near selector) */
	OVUP_TRAIT_STATICS_NEAR = 1 << 0,
	/* patches compile against an installed header tree, not the
	 * source's (linux-headers): only a header next to a unit is read */
	OVUP_TRAIT_INSTALLED_HEADERS = 1 << 1,
	/* its compile takes a patch's assembly, wrapped in a unit of its
	 * own (which names the file) and through its own checks (objtool) */
	OVUP_TRAIT_COMPILES_ASM = 1 << 2,
};

struct ovup_target_ops {
	const char *kind;    /* "process", "kernel": for messages and records */
	unsigned int traits; /* enum ovup_target_trait */
	/* step 1: every object's symbols at run-time addresses */
	int (*labels)(struct ovup_target *t, struct ovup_symtab *st);
	/* build a relocatable object from a C file, with the target's flags */
	int (*compile)(struct ovup_target *t, const char *src, const char *out, char *const extra[],
		       size_t nextra);
	/* what every compile needs, done once before compiles run side by
	 * side (the kernel's kbuild commands); may be NULL */
	int (*compile_prepare)(struct ovup_target *t);
	/* the patch site at a function entry: *keep bytes stay before the
	 * branch (endbr64, the kernel's ftrace NOP5); -EINVAL if unsuitable */
	int (*site)(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep);
	/* where a patch section goes; see enum ovup_sec_class */
	int (*classify)(const char *name, uint64_t flags, uint32_t type);
	/* A thread-local variable s of the target (OVUP_SYM_TLS, addr: its
	 * offset in its object's TLS block): its offset from the thread
	 * pointer, the same in every thread; -errno with the message set where
	 * no such constant exists (a block allocated on demand).  NULL: the
	 * target has no thread-local storage. */
	int (*tls_offset)(struct ovup_target *t, const struct ovup_symtab *st,
			  const struct ovup_sym *s, int64_t *tpoff);
	/* an IFUNC's implementation chosen in this target */
	int (*resolve_ifunc)(struct ovup_target *t, const struct ovup_symtab *st,
			     const struct ovup_sym *s, uint64_t *impl);
	/* step 3: a block whose every byte lies in [lo, hi), as close to near
	 * as the target allows, for the patch called owner; dry_run only
	 * chooses the address */
	int (*alloc)(struct ovup_target *t, enum ovup_block_kind kind, const char *owner,
		     uint64_t size, uint64_t lo, uint64_t hi, uint64_t near, int dry_run,
		     struct ovup_block *out);
	/* release blocks; -EBUSY if a thread may still run in them */
	int (*free)(struct ovup_target *t, const struct ovup_block *b, size_t n,
		    struct ovup_busy *busy);
	/* Every block ovup allocated that the target still holds, as the
	 * target itself shows them, so that those no record owns (left by an
	 * ovup that died, or kept because a thread might return into them)
	 * are found and released.  NULL where the target frees them itself. */
	int (*blocks)(struct ovup_target *t, struct ovup_block **out, size_t *n);
	/* Retired blocks (see struct ovup_retired_block); NULL if none can be. */
	int (*retired)(struct ovup_target *t, struct ovup_retired_block **out, size_t *n);
	/* step 6 */
	int (*copyin)(struct ovup_target *t, uint64_t addr, const void *buf, size_t len);
	/* step 7 */
	int (*chgprot)(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot);
	int (*read)(struct ovup_target *t, uint64_t addr, void *buf, size_t len);
	/* step 8: quiesce, CAS every site (all or none), resume */
	int (*stop)(struct ovup_target *t);
	int (*pawrite)(struct ovup_target *t, struct ovup_txn *txn);
	/* resume sets txn->pause_ns where the target measures it there */
	int (*resume)(struct ovup_target *t, struct ovup_txn *txn);
	/* step 8 without stopping every thread (all or none, like stop,
	 * pawrite, resume); -EOPNOTSUPP where it cannot be used, and then
	 * those run instead.  May be NULL. */
	int (*switch_live)(struct ovup_target *t, struct ovup_txn *txn);
	/* A switch_live of txn (sites: expect the old bytes, write the jump;
	 * blocks: the patch's) that an ovup killed outright left half-way:
	 * brought to all old or all new bytes, and whatever else it had
	 * changed put back; 0 if nothing was left.  May be NULL. */
	int (*repair)(struct ovup_target *t, struct ovup_txn *txn);
	/* The record of applied patches, as text (see core/record.c).  store is
	 * NULL where pawrite keeps the record itself (the kernel module). */
	int (*records_load)(struct ovup_target *t, struct ovup_buf *out);
	int (*records_store)(struct ovup_target *t, const char *text);
	/* The original bytes at addr as the object's file has them, to tell a
	 * foreign hook from an untouched function; -ENOENT if unknown. */
	int (*pristine)(struct ovup_target *t, const struct ovup_symtab *st,
			const struct ovup_sym *s, uint64_t addr, void *buf, size_t len);
	/* The bytes at addr as the file mapped there holds them: what a
	 * revert may write back at the bottom of a site.  -ENOENT if no
	 * file's code is mapped at addr.  NULL where the target checks it. */
	int (*original)(struct ovup_target *t, uint64_t addr, void *buf, size_t len);
	/* The whole executable mapping of the object mapped at addr, as its
	 * file holds it (*buf malloc'd, *start its address), to look for
	 * branches from anywhere into bytes a jump will replace.  NULL where
	 * that cannot be done. */
	int (*code_at)(struct ovup_target *t, uint64_t addr, uint8_t **buf, uint64_t *start,
		       size_t *len);
	/* Before a site is planned: may the function be patched, and are the
	 * bytes a jump would displace its own (no probe, no other tool's
	 * change)?  entry: its first n bytes, read live; stacked: a record
	 * says ovup's own jump is there.  0, or -errno with the message set,
	 * -EBUSY when the cause is transient.  NULL: nothing to check. */
	int (*verify_entry)(struct ovup_target *t, const struct ovup_symtab *st,
			    const struct ovup_sym *s, const uint8_t *entry, size_t n, int stacked);
	/* Where no pristine copy exists: does the site hold someone else's
	 * hook?  1 with a description in why, else 0. */
	int (*hooked)(struct ovup_target *t, const struct ovup_symtab *st, uint64_t site,
		      const uint8_t *bytes, char *why, size_t len);
	/* code the fixup adds after the patch's own (bytes at most, 0 for
	 * none), from the compiled object; may be NULL */
	uint64_t (*text_extra)(const struct ovup_obj *o);
	/* last edits of the linked image before load (e.g. NOP the kernel's
	 * __fentry__ calls) */
	int (*fixup)(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st);
	/* the functions s was inlined into (needs debuginfo); -ENOENT when
	 * that cannot be known */
	int (*inlined)(struct ovup_target *t, const struct ovup_symtab *st,
		       const struct ovup_sym *s, char ***callers, size_t *n);
	/* the mapfile's target-specific sections (each kept one an output
	 * section of its own name), and why a section is refused */
	const char *const *mapfile_keep_ro;
	const char *const *mapfile_keep_text;
	const char *const *mapfile_discard;
	const char *(*reject_hint)(const char *section);
	void (*close)(struct ovup_target *t);
	/* why a function may have no patch site, appended to the refusal */
	const char *no_site_hint;
	/* ld adds a GOT to the patch's read-only data: the code is position
	 * independent and reaches the target through it (user space) */
	int links_got;
	/* the link is ovup's own (elf/link.c) unless it cannot do it as ld
	 * would, or OVUP_LINK=ld; ld's otherwise */
	int own_link;
	/* pawrite keeps the record and revert frees the blocks (kernel) */
	int keeps_records;
	/* `build` compiles for a build machine without resolving (kernel) */
	int build_compiles_only;
	/* ... with the target's symbols all the same (a file on disk) */
	int build_reads_labels;
	/* an object given to apply must carry .ovup.build: without it
	 * nothing says which kernel its code was compiled for */
	int needs_build_info;
	/* Callers may rely on a callee's registers beyond the ABI: code built
	 * with GCC's -fipa-ra (user space at -O2) keeps values in
	 * call-clobbered registers across calls to functions of its unit that
	 * leave them alone, so a replacement must leave them alone too (core
	 * wraps it).  The kernel is built with -pg, which turns -fipa-ra off:
	 * its callers assume the ABI's set. */
	int callers_assume_clobbers;
};

struct ovup_target {
	const struct ovup_target_ops *ops;
	char desc[64];     /* "pid 42", "kernel 6.1.0-56-amd64" */
	int offline;       /* opened to read only: change nothing */
	char release[128]; /* kernel: release and version of the */
	char version[256]; /* running kernel (or of the headers) */
};

/* How a verb opens its target; the value is kept in ovup_target.offline,
 * non-zero for the modes that change nothing. */
enum ovup_open_mode {
	OVUP_OPEN_WRITE = 0, /* take the target's lock (writer slot); may change it */
	OVUP_OPEN_READ,      /* read only: no lock, nothing changed */
	OVUP_OPEN_HEADERS,   /* kernel build: for the installed headers, not the running kernel */
};

int ovup_target_kernel_open(enum ovup_open_mode offline, struct ovup_target **out);

int ovup_target_process_open(int pid, enum ovup_open_mode offline, struct ovup_target **out);
/* a program or library file as the target of build (path NULL: none) */
int ovup_target_file_open(const char *path, struct ovup_target **out);

#endif
