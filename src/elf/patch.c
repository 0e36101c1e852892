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

/* The TLS access model a relocation belongs to: NULL if it is none,
 * "initial-exec" for the one ovup links (a GOT slot holding the variable's
 * offset from the thread pointer). */
static const char *tls_model(unsigned type)
{
	switch (type) {
	case R_X86_64_GOTTPOFF:
		return "initial-exec";
	case R_X86_64_TPOFF32:
	case R_X86_64_TPOFF64:
		return "local-exec";
	case R_X86_64_TLSGD:
		return "general-dynamic";
	case R_X86_64_TLSLD:
	case R_X86_64_DTPOFF32:
	case R_X86_64_DTPOFF64:
		return "local-dynamic";
	case R_X86_64_GOTPC32_TLSDESC:
	case R_X86_64_TLSDESC_CALL:
		return "TLS descriptors";
	}
	return NULL;
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

/* The name of symbol ndx of the symbol table symtab, or "?" */
static const char *sym_name(Elf *e, size_t symtab, size_t ndx)
{
	Elf_Scn *scn = elf_getscn(e, symtab);
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	const char *n;

	if (!scn || !gelf_getshdr(scn, &sh) || !(d = elf_getdata(scn, NULL)) ||
	    !gelf_getsym(d, (int)ndx, &sym))
		return "?";
	n = elf_strptr(e, sh.sh_link, sym.st_name);
	return n && *n ? n : "?";
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
		const char *model;

		if (!gelf_getrela(d, (int)k, &r) ||
		    !(model = tls_model((unsigned)GELF_R_TYPE(r.r_info))))
			continue;
		obj->has_tls_relocs = 1;
		if (strcmp(model, "initial-exec") && !obj->tls_other_model) {
			obj->tls_other_model = model;
			obj->tls_other_sym = ovup_xstrdup(
				sym_name(e, sh->sh_link, GELF_R_SYM(r.r_info)));
		}
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
		/* cc writes the source file's name first, as an STT_FILE */
		if (sn && *sn && GELF_ST_TYPE(sym.st_info) == STT_FILE && !obj->file)
			obj->file = ovup_xstrdup(sn);
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
	free(obj->file);
	free(obj->tls_other_sym);
	memset(obj, 0, sizeof(*obj));
}

/* Points every initial-exec access at a slot named after its variable:
 * GOTTPOFF (G + GOT + A - P) becomes PC32 (S + A - P) with the same
 * addend, so the code loads the slot's contents where it loaded the GOT
 * entry's.  The count of relocations changed in *n; -ENOTSUP for a
 * variable the object defines itself. */
static int retarget_gottpoff(Elf_Scn *scn, const GElf_Shdr *sh, const unsigned char *is_tls,
			     size_t nsyms, size_t *n)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t k, nr = sh->sh_size / sh->sh_entsize;
	int dirty = 0;

	for (k = 0; d && k < nr; k++) {
		GElf_Rela r;
		size_t sym;

		if (!gelf_getrela(d, (int)k, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_GOTTPOFF)
			continue;
		sym = GELF_R_SYM(r.r_info);
		if (sym >= nsyms || is_tls[sym] != 1)
			return -ENOTSUP;
		r.r_info = GELF_R_INFO(sym, R_X86_64_PC32);
		if (!gelf_update_rela(d, (int)k, &r))
			return -EIO;
		dirty = 1;
		(*n)++;
	}
	if (dirty)
		elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
	return 0;
}

/* Marks in is_tls the undefined TLS symbols (1) and the defined ones (2),
 * and turns the undefined ones into untyped symbols, which ld lets the
 * mapfile define at their slots. */
static int untype_tls(Elf_Scn *scn, unsigned char *is_tls, size_t nsyms)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t k;
	int dirty = 0;

	for (k = 1; d && k < nsyms; k++) {
		GElf_Sym s;

		if (!gelf_getsym(d, (int)k, &s) || GELF_ST_TYPE(s.st_info) != STT_TLS)
			continue;
		is_tls[k] = s.st_shndx == SHN_UNDEF ? 1 : 2;
		if (is_tls[k] != 1)
			continue;
		s.st_info = GELF_ST_INFO(GELF_ST_BIND(s.st_info), STT_NOTYPE);
		if (!gelf_update_sym(d, (int)k, &s))
			return -EIO;
		dirty = 1;
	}
	if (dirty)
		elf_flagdata(d, ELF_C_SET, ELF_F_DIRTY);
	return 0;
}

int ovup_elf_obj_tls_slots(const char *in, const char *out, size_t *n)
{
	size_t len, nsyms = 0;
	char *bytes = ovup_read_file(in, &len);
	unsigned char *is_tls = NULL;
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr symsh;
	Elf *e = NULL;
	int fd = -1, ret;

	*n = 0;
	if (!bytes)
		return -errno;
	ret = ovup_write_file_atomic(out, bytes, len);
	free(bytes);
	if (ret)
		return ret;
	fd = open(out, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_RDWR, NULL)) ||
	    elf_kind(e) != ELF_K_ELF) {
		ret = -ENOEXEC;
		goto out;
	}
	/* keep every offset: only entries change, never a size */
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &symsh) && symsh.sh_type == SHT_SYMTAB)
			break;
	if (!scn || !symsh.sh_entsize) {
		ret = -ENOEXEC;
		goto out;
	}
	symscn = scn;
	nsyms = symsh.sh_size / symsh.sh_entsize;
	is_tls = ovup_xcalloc(nsyms ? nsyms : 1, 1);
	ret = untype_tls(symscn, is_tls, nsyms);
	for (scn = NULL; !ret && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_RELA && sh.sh_entsize &&
		    alloc_target(e, sh.sh_info) && elf_getscn(e, sh.sh_link) == symscn)
			ret = retarget_gottpoff(scn, &sh, is_tls, nsyms, n);
	}
	if (!ret && elf_update(e, ELF_C_WRITE) < 0)
		ret = -EIO;
out:
	if (e)
		elf_end(e);
	close(fd);
	free(is_tls);
	return ret;
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
