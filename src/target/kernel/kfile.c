// SPDX-License-Identifier: MIT
/*
 * The running kernel's code as its files hold it (the interface of
 * kfiles.h): vmlinux, decompressed from the kernel image (vmlinux.c), or
 * a module's .ko (module.c).  Bytes are relocated the way the kernel did;
 * the sites the kernel rewrites at boot or load are listed from their
 * tables.  Here: the dispatch, the tables' layout, the ELF headers, XZ.
 */
#define _GNU_SOURCE
#include "kelf.h"

#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* kind, bounds in kallsyms (vmlinux), section (a module), entsize, offset
 * of a length byte, length, absolute */
const struct ovup_krewritten ovup_krewritten[] = {
	{ "an alternative (CPU-feature patching)", "__alt_instructions", "__alt_instructions_end",
	  ".altinstructions", 12, 10, 0, 0 },
	{ "a jump label (static key)", "__start___jump_table", "__stop___jump_table",
	  "__jump_table", 16, 0, 5, 0 },
	{ "a static call", "__start_static_call_sites", "__stop_static_call_sites",
	  ".static_call_sites", 8, 0, 5, 0 },
	{ "a retpoline site", "__retpoline_sites", "__retpoline_sites_end", ".retpoline_sites", 4,
	  0, 6, 0 },
	{ "a return-thunk site", "__return_sites", "__return_sites_end", ".return_sites", 4, 0, 5,
	  0 },
	{ "a paravirt site", "__parainstructions", "__parainstructions_end", ".parainstructions",
	  16, 9, 0, 1 },
	{ "an SMP lock prefix", "__smp_locks", "__smp_locks_end", ".smp_locks", 4, 0, 1, 0 },
};
const size_t ovup_nkrewritten = OVUP_ARRAY_SIZE(ovup_krewritten);

/* ---- files: XZ, ELF ---- */

const uint8_t ovup_kelf_xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };

/* One XZ stream; what follows it (the image appends the size) is ignored. */
int ovup_kelf_xz_decode(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = inlen * 4 + 4096;
	lzma_ret r;

	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return -ENOMEM;
	*out = ovup_xmalloc(cap);
	s.next_in = in;
	s.avail_in = inlen;
	s.next_out = *out;
	s.avail_out = cap;
	while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK ||
	       (r == LZMA_BUF_ERROR && !s.avail_out)) {
		if (s.avail_out)
			continue;
		*out = ovup_xrealloc(*out, cap * 2);
		s.next_out = *out + cap;
		s.avail_out = cap;
		cap *= 2;
	}
	*outlen = cap - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END) {
		free(*out);
		*out = NULL;
		return -EILSEQ;
	}
	return 0;
}

int ovup_kelf_init(struct kelf *e, const char *path, int type)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)e->data;
	size_t i;

	if (e->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 || eh->e_type != type)
		return ovup_err(-ENOEXEC, "%s is not an x86-64 %s", path,
				type == ET_REL ? "module" : "vmlinux");
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > e->size ||
	    (size_t)eh->e_shnum > (e->size - eh->e_shoff) / sizeof(Elf64_Shdr) ||
	    eh->e_shstrndx >= eh->e_shnum)
		return ovup_err(-ENOEXEC, "%s: bad section headers (truncated?)", path);
	e->eh = eh;
	e->sh = (const Elf64_Shdr *)(e->data + eh->e_shoff);
	e->shnum = eh->e_shnum;
	for (i = 0; i < e->shnum; i++)
		if (e->sh[i].sh_type != SHT_NOBITS &&
		    (e->sh[i].sh_offset > e->size ||
		     e->sh[i].sh_size > e->size - e->sh[i].sh_offset))
			return ovup_err(-ENOEXEC,
					"%s: section %zu lies outside the file "
					"(truncated?)",
					path, i);
	e->shstr = (const char *)e->data + e->sh[eh->e_shstrndx].sh_offset;
	e->shstrlen = e->sh[eh->e_shstrndx].sh_size;
	return 0;
}

/* ---- the interface ---- */

int ovup_kfile_open(const struct ovup_symtab *st, const struct ovup_sym *s, struct ovup_kfile **out)
{
	struct ovup_kfile *f = ovup_xcalloc(1, sizeof(*f));
	int ret;

	f->st = st;
	f->obj = s->obj;
	f->modname = st->objs[s->obj].name;
	f->module = strcmp(f->modname, "vmlinux") != 0;
	ret = f->module ? ovup_kko_open(f, s) : ovup_kvm_open(f, st, s->obj);
	if (ret) {
		ovup_kfile_close(f);
		return ret;
	}
	*out = f;
	return 0;
}

int ovup_kfile_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate)
{
	return f->module ? ovup_kko_read(f, addr, buf, len, relocate)
			 : ovup_kvm_read(f, addr, buf, len, relocate);
}

const char *ovup_kfile_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len)
{
	return f->module ? ovup_kko_rewritten(f, addr, len) : ovup_kvm_rewritten(f, addr, len);
}

const char *ovup_kfile_path(const struct ovup_kfile *f)
{
	return f->path;
}

void ovup_kfile_close(struct ovup_kfile *f)
{
	if (!f)
		return;
	if (f->e.mapped)
		munmap(f->e.data, f->e.size);
	else
		free(f->e.data);
	free(f);
}
