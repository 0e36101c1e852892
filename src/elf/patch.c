// SPDX-License-Identifier: MIT
/*
 * libelf readers of the patch's own files: the relocatable object cc made
 * (sections with their flags, symbols, the .ovup.meta and .ovup.build
 * records, whether it uses thread-local storage) and the image ld linked
 * (allocated sections at their final addresses, with their bytes).
 */
#define _GNU_SOURCE
#include "elf.h"
#include "elf_internal.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_tls_reloc(unsigned type)
{
	switch (type) {
	case R_X86_64_TPOFF32:
	case R_X86_64_TPOFF64:
	case R_X86_64_GOTTPOFF:
	case R_X86_64_TLSGD:
	case R_X86_64_TLSLD:
	case R_X86_64_DTPOFF32:
	case R_X86_64_DTPOFF64:
	case R_X86_64_GOTPC32_TLSDESC:
	case R_X86_64_TLSDESC_CALL:
		return 1;
	}
	return 0;
}

/* Every section lies inside the file: libelf reads a truncated object
 * without complaint, as one with fewer sections or none. */
static int complete(Elf *e, int fd, const GElf_Ehdr *eh)
{
	struct stat st;
	Elf_Scn *scn = NULL;

	if (fstat(fd, &st) < 0 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize > (uint64_t)st.st_size)
		return 0;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return 0;
		if (sh.sh_type != SHT_NOBITS && sh.sh_offset + sh.sh_size > (uint64_t)st.st_size)
			return 0;
	}
	return 1;
}

static int alloc_target(Elf *e, size_t ndx)
{
	GElf_Shdr sh;
	Elf_Scn *scn = elf_getscn(e, ndx);

	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC);
}

/* Relocations of code and data; those of .debug_* name thread-local
 * variables too, which the code may never use. */
static void scan_obj_relocs(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct ovup_obj *obj)
{
	Elf_Data *d;
	size_t k, nr;

	if (sh->sh_type != SHT_RELA || !sh->sh_entsize || !alloc_target(e, sh->sh_info))
		return;
	d = elf_getdata(scn, NULL);
	nr = sh->sh_size / sh->sh_entsize;
	for (k = 0; d && k < nr; k++) {
		GElf_Rela r;

		if (gelf_getrela(d, (int)k, &r) && is_tls_reloc((unsigned)GELF_R_TYPE(r.r_info)))
			obj->has_tls_relocs = 1;
	}
}

static void read_obj_syms(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct ovup_obj *obj)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t k, ns = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	obj->syms = ovup_xcalloc(ns, sizeof(*obj->syms));
	for (k = 1; d && k < ns; k++) {
		GElf_Sym sym;
		const char *sn;
		struct ovup_obj_sym *os;

		if (!gelf_getsym(d, (int)k, &sym))
			continue;
		sn = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!sn || !*sn || GELF_ST_TYPE(sym.st_info) == STT_FILE ||
		    GELF_ST_TYPE(sym.st_info) == STT_SECTION)
			continue;
		os = &obj->syms[obj->nsyms++];
		os->name = ovup_xstrdup(sn);
		os->type = ovup_elf_sym_type(sym.st_info);
		os->bind = ovup_elf_sym_bind(sym.st_info);
		os->defined = sym.st_shndx != SHN_UNDEF;
		os->size = sym.st_size;
	}
}

/* Records the named section; the contents of .ovup.meta are appended to
 * meta, those of .ovup.build kept as text. */
static void add_obj_sec(Elf_Scn *scn, const GElf_Shdr *sh, const char *name, struct ovup_obj *obj,
			struct ovup_buf *meta)
{
	struct ovup_obj_sec *s = &obj->secs[obj->nsecs++];
	Elf_Data *d;

	s->name = ovup_xstrdup(name);
	s->size = sh->sh_size;
	s->align = sh->sh_addralign ? sh->sh_addralign : 1;
	s->flags = sh->sh_flags;
	s->type = sh->sh_type;
	if (strcmp(name, ".ovup.meta") && strcmp(name, ".ovup.build"))
		return;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return;
	if (!strcmp(name, ".ovup.meta")) {
		ovup_buf_add(meta, d->d_buf, d->d_size);
	} else {
		obj->build = ovup_xmalloc(d->d_size + 1);
		memcpy(obj->build, d->d_buf, d->d_size);
		obj->build[d->d_size] = 0;
	}
}

int ovup_elf_obj_read(const char *path, struct ovup_obj *obj)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t shstrndx, n;
	Elf_Scn *scn = NULL;
	struct ovup_buf meta = { 0 };
	GElf_Ehdr eh;
	Elf *e;
	int ret = 0;

	memset(obj, 0, sizeof(*obj));
	if (fd < 0)
		return -errno;
	e = ovup_elf_open(fd);
	if (!e || !gelf_getehdr(e, &eh) || elf_getshdrstrndx(e, &shstrndx)) {
		ret = -ENOEXEC;
		goto out_elf;
	}
	obj->machine = eh.e_machine;
	obj->type = eh.e_type;
	if (elf_getshdrnum(e, &n) || !complete(e, fd, &eh)) {
		ret = -ENOEXEC;
		goto out_elf;
	}
	obj->secs = ovup_xcalloc(n, sizeof(*obj->secs));
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		scan_obj_relocs(e, scn, &sh, obj);
		if (sh.sh_type == SHT_SYMTAB)
			read_obj_syms(e, scn, &sh, obj);
		if (name)
			add_obj_sec(scn, &sh, name, obj, &meta);
	}
	obj->meta = meta.s;
	obj->metalen = meta.len;
out_elf:
	if (e)
		elf_end(e);
	close(fd);
	if (ret)
		ovup_elf_obj_free(obj);
	return ret;
}

void ovup_elf_obj_free(struct ovup_obj *obj)
{
	size_t i;

	for (i = 0; i < obj->nsecs; i++)
		free(obj->secs[i].name);
	for (i = 0; i < obj->nsyms; i++)
		free(obj->syms[i].name);
	free(obj->secs);
	free(obj->syms);
	free(obj->meta);
	free(obj->build);
	memset(obj, 0, sizeof(*obj));
}

static void add_img_sec(Elf_Scn *scn, const GElf_Shdr *sh, const char *name, struct ovup_img *img)
{
	struct ovup_img_sec *s = &img->secs[img->nsecs++];
	Elf_Data *d;

	s->name = ovup_xstrdup(name ? name : "?");
	s->addr = sh->sh_addr;
	s->size = sh->sh_size;
	s->flags = sh->sh_flags;
	s->nobits = sh->sh_type == SHT_NOBITS;
	if (s->nobits)
		return;
	d = elf_getdata(scn, NULL);
	s->data = ovup_xcalloc(1, sh->sh_size);
	if (d && d->d_buf)
		memcpy(s->data, d->d_buf, OVUP_MIN(d->d_size, sh->sh_size));
}

static void read_img_syms(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct ovup_img *img)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t k, ns = sh->sh_size / sh->sh_entsize;

	img->syms = ovup_xcalloc(ns, sizeof(*img->syms));
	for (k = 1; d && k < ns; k++) {
		GElf_Sym sym;
		const char *sn;
		struct ovup_img_sym *is;

		if (!gelf_getsym(d, (int)k, &sym))
			continue;
		sn = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!sn || !*sn || sym.st_shndx == SHN_UNDEF)
			continue;
		is = &img->syms[img->nsyms++];
		is->name = ovup_xstrdup(sn);
		is->value = sym.st_value;
		is->size = sym.st_size;
		is->type = ovup_elf_sym_type(sym.st_info);
		is->bind = ovup_elf_sym_bind(sym.st_info);
	}
}

int ovup_elf_img_read(const char *path, struct ovup_img *img)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t shstrndx, n;
	Elf_Scn *scn = NULL;
	Elf *e;
	int ret = 0;

	memset(img, 0, sizeof(*img));
	if (fd < 0)
		return -errno;
	e = ovup_elf_open(fd);
	if (!e || elf_getshdrstrndx(e, &shstrndx) || elf_getshdrnum(e, &n)) {
		ret = -ENOEXEC;
		goto out;
	}
	img->secs = ovup_xcalloc(n, sizeof(*img->secs));
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if ((sh.sh_flags & SHF_ALLOC) && sh.sh_size)
			add_img_sec(scn, &sh, elf_strptr(e, shstrndx, sh.sh_name), img);
		if (sh.sh_type == SHT_SYMTAB && sh.sh_entsize)
			read_img_syms(e, scn, &sh, img);
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	if (ret)
		ovup_elf_img_free(img);
	return ret;
}

uint8_t *ovup_elf_img_add(struct ovup_img *img, const char *name, uint64_t addr, uint64_t size,
			  uint64_t flags)
{
	struct ovup_img_sec *s;

	img->secs = ovup_xrealloc(img->secs, (img->nsecs + 1) * sizeof(*img->secs));
	s = &img->secs[img->nsecs++];
	memset(s, 0, sizeof(*s));
	s->name = ovup_xstrdup(name);
	s->addr = addr;
	s->size = size;
	s->flags = flags;
	s->data = ovup_xcalloc(1, size ? size : 1);
	return s->data;
}

void ovup_elf_img_free(struct ovup_img *img)
{
	size_t i;

	for (i = 0; i < img->nsecs; i++) {
		free(img->secs[i].name);
		free(img->secs[i].data);
	}
	for (i = 0; i < img->nsyms; i++)
		free(img->syms[i].name);
	free(img->secs);
	free(img->syms);
	memset(img, 0, sizeof(*img));
}
