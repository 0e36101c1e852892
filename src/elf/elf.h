/* SPDX-License-Identifier: MIT */
/*
 * Everything ovup reads from ELF files, through libelf: the symbols and
 * load layout of the target's objects, the sections and symbols of a
 * compiled patch, and the image `ld` produced; and what DWARF says of a
 * function.  Only the files of src/elf/ call libelf and libdw.
 */
#ifndef OVUP_ELF_H
#define OVUP_ELF_H

#include <stddef.h>
#include <stdint.h>

/* symbol kinds and bindings, independent of <elf.h>.  A thread-local
 * variable (STT_TLS) has no address of its own: its value is its offset
 * in its object's TLS block. */
enum ovup_sym_type {
	OVUP_SYM_FUNC = 1,
	OVUP_SYM_OBJECT,
	OVUP_SYM_IFUNC,
	OVUP_SYM_OTHER,
	OVUP_SYM_TLS
};
enum ovup_sym_bind { OVUP_BIND_LOCAL = 1, OVUP_BIND_GLOBAL, OVUP_BIND_WEAK };
/* ELF's STV_*: only a default-visibility symbol can be interposed */
enum ovup_sym_vis { OVUP_VIS_DEFAULT = 0, OVUP_VIS_INTERNAL, OVUP_VIS_HIDDEN, OVUP_VIS_PROTECTED };

#define OVUP_BUILD_ID_MAX 64

struct ovup_elf_load {
	uint64_t vaddr, offset, filesz, memsz;
	int flags; /* PF_R/W/X */
};

struct ovup_elf_info {
	int type; /* ET_EXEC, ET_DYN, ET_REL ... */
	int machine;
	uint8_t build_id[OVUP_BUILD_ID_MAX];
	size_t build_id_len;
	char debuglink[256];
	int has_symtab;
	struct ovup_elf_load load[16];
	size_t nload;
};

int ovup_elf_info(int fd, struct ovup_elf_info *info);
/* The length of the GNU build-id (into id, OVUP_BUILD_ID_MAX bytes) among
 * raw ELF notes of 4-byte alignment, as the kernel shows them in sysfs;
 * 0 if none. */
size_t ovup_elf_notes_build_id(const uint8_t *d, size_t n, uint8_t *id);

/* Calls fn for every defined function/object/ifunc/TLS symbol of fd: from
 * .symtab when present, else .dynsym.  `file` is the source file a local
 * symbol belongs to (from STT_FILE), or NULL; `pos` counts earlier symbols
 * of the same name in this file (1-based, as kernel livepatch's sympos). */
struct ovup_elf_sym {
	const char *name;
	uint64_t value, size;
	enum ovup_sym_type type;
	enum ovup_sym_bind bind;
	enum ovup_sym_vis vis;
	const char *file;
	/* the default version of a versioned symbol (memcpy@@GLIBC_2.14 is
	 * named "memcpy", version "GLIBC_2.14"), or NULL; a non-default one
	 * keeps its whole name, "memcpy@GLIBC_2.2.5", which no unversioned
	 * reference means */
	const char *version;
};
typedef void (*ovup_elf_sym_fn)(void *ctx, const struct ovup_elf_sym *s);
int ovup_elf_symbols(int fd, int want_dynsym, ovup_elf_sym_fn fn, void *ctx);

/* Calls fn with the name of every symbol that fd defines and also reaches
 * through a dynamic relocation of its own (a PLT or GOT slot): the
 * dynamic linker may bind those calls to another object's definition. */
int ovup_elf_self_imports(int fd, void (*fn)(void *ctx, const char *name), void *ctx);

/* Finds the GOT slot (link-time address) that a GLOB_DAT or JUMP_SLOT
 * relocation fills with another object's name, of version (NULL: any);
 * -ENOENT when fd imports no such symbol. */
int ovup_elf_import_slot(int fd, const char *name, const char *version, uint64_t *slot);

/* Reads len bytes at link-time address vaddr from the file's contents. */
int ovup_elf_read_vaddr(int fd, uint64_t vaddr, void *buf, size_t len);

/* Finds the GOT slot (link-time address) that an R_X86_64_IRELATIVE
 * relocation with addend `resolver` fills; -ENOENT when there is none. */
int ovup_elf_irelative_slot(int fd, uint64_t resolver, uint64_t *slot);

/* A compiled patch (relocatable object). */
enum ovup_sec_class {
	OVUP_SEC_IGNORE = 0, /* not allocated, or dropped on purpose */
	OVUP_SEC_TEXT,
	OVUP_SEC_RO,
	OVUP_SEC_RW,
	OVUP_SEC_BSS,
	OVUP_SEC_META,   /* .ovup.* : selectors and build records */
	OVUP_SEC_REJECT, /* allocated but not supported (TLS, ctors) */
};
struct ovup_obj_sec {
	char *name;
	uint64_t size, align;
	uint64_t flags;
	uint32_t type;
	enum ovup_sec_class cls;
};
struct ovup_obj_sym {
	char *name;
	enum ovup_sym_type type;
	enum ovup_sym_bind bind;
	int defined;
	uint64_t size;
};
struct ovup_obj {
	int machine, type;
	struct ovup_obj_sec *secs;
	size_t nsecs;
	struct ovup_obj_sym *syms;
	size_t nsyms;
	char *meta; /* concatenated .ovup.meta strings, NUL-separated */
	size_t metalen;
	char *build;        /* .ovup.build contents (text), or NULL */
	char *file;         /* the first STT_FILE symbol: the source's name, or NULL */
	int has_tls_relocs; /* the code or data uses thread-local variables */
	/* the first such use by another model than initial-exec, and the
	 * symbol it names ("?" if none): "local-exec", "general-dynamic",
	 * "local-dynamic", "TLS descriptors"; NULL if there is none */
	const char *tls_other_model;
	char *tls_other_sym;
};
int ovup_elf_obj_read(const char *path, struct ovup_obj *obj);
void ovup_elf_obj_free(struct ovup_obj *obj);
/* Writes to out a copy of the object at in for ld, where each
 * initial-exec access of an undefined thread-local variable x
 * (R_X86_64_GOTTPOFF) reads an 8-byte slot at the symbol x instead
 * (R_X86_64_PC32), and x is no longer a TLS symbol: the mapfile defines x
 * at a slot holding x's offset from the thread pointer.  *n: relocations
 * changed.  -ENOTSUP if one names a variable the object defines. */
int ovup_elf_obj_tls_slots(const char *in, const char *out, size_t *n);

/* The linked image: allocated sections at their final addresses. */
struct ovup_img_sec {
	char *name;
	uint64_t addr, size;
	uint64_t flags;
	int nobits;
	uint8_t *data;
};
struct ovup_img_sym {
	char *name;
	uint64_t value, size;
	enum ovup_sym_type type;
	enum ovup_sym_bind bind;
};
struct ovup_img {
	struct ovup_img_sec *secs;
	size_t nsecs;
	struct ovup_img_sym *syms;
	size_t nsyms;
};
int ovup_elf_img_read(const char *path, struct ovup_img *img);
void ovup_elf_img_free(struct ovup_img *img);
/* Appends a section of size zero bytes at addr (code a fixup generates);
 * returns its bytes, owned by the image. */
uint8_t *ovup_elf_img_add(struct ovup_img *img, const char *name, uint64_t addr, uint64_t size,
			  uint64_t flags);

/* link.c: ovup's own link of the relocatable object obj to the layout of
 * the mapfile (core/mapfile.c) with these bases, labels (undefined
 * symbols) and thread-local slots, into img.  -EOPNOTSUPP, with the
 * reason in why, for anything it does not do as ld would: ld then links. */
struct ovup_link_sym {
	const char *name;
	uint64_t addr;
};
struct ovup_link_in {
	uint64_t text_base, ro_base, rw_base;
	const struct ovup_link_sym *labels, *tls;
	size_t nlabels, ntls;
	const char *const *keep_text, *const *keep_ro, *const *discard;
};
int ovup_elf_link(const char *obj, const struct ovup_link_in *in, struct ovup_img *img, char *why,
		  size_t whylen);
/* Whether two links of obj (this link's, and ld's) mean the same: every
 * relocated field of the object's functions and variables reaches the
 * same label, GOT slot content, string or place in a symbol, and every
 * other byte of them is equal.  0, or -EINVAL with the first difference
 * in why. */
int ovup_elf_link_compare(const char *obj, const struct ovup_link_in *in,
			  const struct ovup_img *mine, const struct ovup_img *ld, char *why,
			  size_t whylen);

/* dwarf_call.c: how the function `name` defined in the relocatable object at
 * path is called, by its prototype in the object's DWARF and the SysV
 * x86-64 classification: whether it may receive arguments on the stack
 * (with the reason), and the eightbytes of its return value that come back
 * in the integer (rax, rdx) and in the SSE registers (xmm0, xmm1).  0,
 * or -ENOENT when the object has no DWARF for it. */
struct ovup_dwarf_call {
	int stack_args;
	unsigned ret_int, ret_sse;
	int ret_unknown; /* returns something this cannot place */
	char why[256];   /* why stack_args or ret_unknown */
};
int ovup_dwarf_call(const char *path, const char *name, struct ovup_dwarf_call *out);

/* dwarf_inline.c: the functions `name` (at link-time address addr) was inlined
 * into, from the DWARF of path; -ENOENT when there is no DWARF for it. */
/* DW_AT_producer of the unit that holds addr ("GNU C17 12.2.0 -O2 ..."),
 * malloc'd; -ENOENT without DWARF or without the attribute */
int ovup_dwarf_producer(const char *path, uint64_t addr, char **producer);
int ovup_dwarf_inlined_callers(const char *path, uint64_t addr, const char *name, char ***callers,
			       size_t *ncallers);

#endif
