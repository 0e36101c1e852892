/* SPDX-License-Identifier: MIT */
/*
 * Internal to the files behind kfiles.h's ovup_kfile: kfile.c (the
 * interface, ELF headers, XZ), vmlinux.c (vmlinux from the kernel image)
 * and module.c (a module's .ko).  Parsed in memory with <elf.h>.
 */
#ifndef OVUP_KELF_H
#define OVUP_KELF_H

#include "kfiles.h"
#include "../../util/util.h"

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

struct kelf {
	uint8_t *data;
	size_t size;
	int mapped; /* data is a mapping of the cache, not malloc'd */
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	size_t shnum;
	const char *shstr;
	size_t shstrlen;
};

struct ovup_kfile {
	char path[1024];
	struct kelf e;
	int module;
	/* vmlinux: live = file + delta (KASLR); the image's relocation table */
	int64_t delta;
	const uint32_t *rel32, *relneg, *rel64;
	size_t nrel32, nrelneg, nrel64;
	const struct ovup_symtab *st;
	uint32_t obj;
	/* module: the function's symbol in the .ko and its live address */
	const char *modname;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strtab;
	const Elf64_Sym *fsym;
	uint64_t live_func;
};

/* What the kernel rewrites at boot (vmlinux, bounds from kallsyms) or load
 * (a module, its section); entries hold offsets from themselves unless
 * absolute. */
struct ovup_krewritten {
	const char *kind, *start, *stop, *section;
	uint8_t entsize, lenoff, len, absolute;
};
extern const struct ovup_krewritten ovup_krewritten[];
extern const size_t ovup_nkrewritten;

/* ---- kfile.c ---- */

extern const uint8_t ovup_kelf_xz_magic[6];
/* One XZ stream into *out (malloc'd): 0, -ENOMEM or -EILSEQ. */
int ovup_kelf_xz_decode(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen);
/* e->data holds an x86-64 ELF file of type (ET_EXEC, ET_REL): its
 * section headers, checked to lie in the file.  0 or -ENOEXEC with the
 * message set. */
int ovup_kelf_init(struct kelf *e, const char *path, int type);

static inline const char *kelf_sec_name(const struct kelf *e, size_t i)
{
	uint32_t n = e->sh[i].sh_name;

	return n < e->shstrlen ? e->shstr + n : "";
}

/* ---- vmlinux.c ---- */

int ovup_kvm_open(struct ovup_kfile *f, const struct ovup_symtab *st, uint32_t obj);
int ovup_kvm_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate);
const char *ovup_kvm_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len);

/* ---- module.c ---- */

int ovup_kko_open(struct ovup_kfile *f, const struct ovup_sym *s);
int ovup_kko_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate);
const char *ovup_kko_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len);

#endif
