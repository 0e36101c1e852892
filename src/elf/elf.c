// SPDX-License-Identifier: MIT
/*
 * libelf readers for the three kinds of ELF file ovup meets: the target's
 * objects (symbols, load segments, build-id, IRELATIVE slots), a compiled
 * patch (sections, symbols, .ovup.* records) and the linked image.
 */
#define _GNU_SOURCE
#include "elf.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int elf_ready(void)
{
	static int ready;

	if (!ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -ENOSYS;
		ready = 1;
	}
	return 0;
}

static Elf *elf_open_fd(int fd)
{
	Elf *e;

	if (elf_ready())
		return NULL;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return NULL;
	}
	return e;
}

static Elf_Scn *find_scn(Elf *e, GElf_Word type, const char *name, GElf_Shdr *out)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (type && sh.sh_type != type)
			continue;
		n = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && (!n || strcmp(n, name)))
			continue;
		if (out)
			*out = sh;
		return scn;
	}
	return NULL;
}

static void read_loads(Elf *e, struct ovup_elf_info *info)
{
	size_t i, nph;

	if (elf_getphdrnum(e, &nph))
		return;
	for (i = 0; i < nph && info->nload < OVUP_ARRAY_SIZE(info->load); i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		info->load[info->nload++] = (struct ovup_elf_load){
			ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz, (int)ph.p_flags,
		};
	}
}

/* build-id: an NT_GNU_BUILD_ID note in any SHT_NOTE section */
static void read_build_id(Elf *e, struct ovup_elf_info *info)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + name_off, "GNU", 4) &&
			    nh.n_descsz <= OVUP_BUILD_ID_MAX) {
				memcpy(info->build_id, (char *)d->d_buf + desc_off, nh.n_descsz);
				info->build_id_len = nh.n_descsz;
			}
		}
	}
}

static void read_debuglink(Elf *e, struct ovup_elf_info *info)
{
	Elf_Scn *scn = find_scn(e, SHT_PROGBITS, ".gnu_debuglink", NULL);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t n;

	if (!d || d->d_size == 0)
		return;
	n = strnlen(d->d_buf, d->d_size);
	if (n < sizeof(info->debuglink)) {
		memcpy(info->debuglink, d->d_buf, n);
		info->debuglink[n] = 0;
	}
}

int ovup_elf_info(int fd, struct ovup_elf_info *info)
{
	Elf *e = elf_open_fd(fd);
	GElf_Ehdr eh;

	memset(info, 0, sizeof(*info));
	if (!e)
		return -ENOEXEC;
	if (!gelf_getehdr(e, &eh)) {
		elf_end(e);
		return -ENOEXEC;
	}
	info->type = eh.e_type;
	info->machine = eh.e_machine;
	read_loads(e, info);
	info->has_symtab = find_scn(e, SHT_SYMTAB, NULL, NULL) != NULL;
	read_build_id(e, info);
	read_debuglink(e, info);
	elf_end(e);
	return 0;
}

static enum ovup_sym_type sym_type(unsigned char info)
{
	switch (GELF_ST_TYPE(info)) {
	case STT_FUNC:
		return OVUP_SYM_FUNC;
	case STT_OBJECT:
	case STT_COMMON:
	case STT_TLS:
		return OVUP_SYM_OBJECT;
	case STT_GNU_IFUNC:
		return OVUP_SYM_IFUNC;
	default:
		return OVUP_SYM_OTHER;
	}
}

static enum ovup_sym_bind sym_bind(unsigned char info)
{
	switch (GELF_ST_BIND(info)) {
	case STB_LOCAL:
		return OVUP_BIND_LOCAL;
	case STB_WEAK:
		return OVUP_BIND_WEAK;
	default:
		return OVUP_BIND_GLOBAL;
	}
}

int ovup_elf_symbols(int fd, int want_dynsym, ovup_elf_sym_fn fn, void *ctx)
{
	Elf *e = elf_open_fd(fd);
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t i, n;
	const char *file = NULL;

	if (!e)
		return -ENOEXEC;
	scn = want_dynsym ? NULL : find_scn(e, SHT_SYMTAB, NULL, &sh);
	if (!scn)
		scn = find_scn(e, SHT_DYNSYM, NULL, &sh);
	if (!scn) {
		elf_end(e);
		return -ENOENT;
	}
	d = elf_getdata(scn, NULL);
	n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
	for (i = 1; d && i < n; i++) {
		GElf_Sym s;
		struct ovup_elf_sym os;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s))
			continue;
		name = elf_strptr(e, sh.sh_link, s.st_name);
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			file = name && *name ? name : NULL;
			continue;
		}
		if (GELF_ST_BIND(s.st_info) != STB_LOCAL)
			file = NULL; /* globals follow all locals */
		if (!name || !*name || s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS)
			continue;
		os.type = sym_type(s.st_info);
		if (os.type == OVUP_SYM_OTHER || GELF_ST_TYPE(s.st_info) == STT_TLS)
			continue;
		os.name = name;
		os.value = s.st_value;
		os.size = s.st_size;
		os.bind = sym_bind(s.st_info);
		os.vis = (enum ovup_sym_vis)GELF_ST_VISIBILITY(s.st_other);
		os.file = os.bind == OVUP_BIND_LOCAL ? file : NULL;
		fn(ctx, &os);
	}
	elf_end(e);
	return 0;
}

int ovup_elf_read_vaddr(int fd, uint64_t vaddr, void *buf, size_t len)
{
	struct ovup_elf_info info;
	size_t i;
	int ret = ovup_elf_info(fd, &info);

	if (ret)
		return ret;
	for (i = 0; i < info.nload; i++) {
		const struct ovup_elf_load *l = &info.load[i];

		if (vaddr >= l->vaddr && vaddr + len <= l->vaddr + l->filesz) {
			ssize_t n = pread(fd, buf, len, (off_t)(l->offset + vaddr - l->vaddr));

			return n == (ssize_t)len ? 0 : -EIO;
		}
	}
	return -ENOENT;
}

int ovup_elf_irelative_slot(int fd, uint64_t resolver, uint64_t *slot)
{
	Elf *e = elf_open_fd(fd);
	Elf_Scn *scn = NULL;
	int ret = -ENOENT;

	if (!e)
		return -ENOEXEC;
	while (ret && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; d && i < n; i++) {
			GElf_Rela r;

			if (!gelf_getrela(d, (int)i, &r))
				continue;
			if (GELF_R_TYPE(r.r_info) == R_X86_64_IRELATIVE &&
			    (uint64_t)r.r_addend == resolver) {
				*slot = r.r_offset;
				ret = 0;
				break;
			}
		}
	}
	elf_end(e);
	return ret;
}

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
		os->type = sym_type(sym.st_info);
		os->bind = sym_bind(sym.st_info);
		os->defined = sym.st_shndx != SHN_UNDEF;
		os->size = sym.st_size;
	}
}

/* Records the named section; the contents of .ovup.meta are appended to
 * meta, those of .ovup.build kept as text. */
static void add_obj_sec(Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
			struct ovup_obj *obj, struct ovup_buf *meta)
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
	e = elf_open_fd(fd);
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

static void add_img_sec(Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
			struct ovup_img *img)
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
		is->type = sym_type(sym.st_info);
		is->bind = sym_bind(sym.st_info);
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
	e = elf_open_fd(fd);
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
