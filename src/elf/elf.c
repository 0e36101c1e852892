// SPDX-License-Identifier: MIT
/*
 * libelf readers of the target's objects (symbols, load segments, build-id,
 * debuglink, IRELATIVE slots), and the helpers every reader of this folder
 * shares (elf_internal.h); patch.c reads the patch's own files.
 */
#define _GNU_SOURCE
#include "elf.h"
#include "elf_internal.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
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

Elf *ovup_elf_open(int fd)
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

size_t ovup_elf_notes_build_id(const uint8_t *d, size_t n, uint8_t *id)
{
	size_t off = 0;

	while (off + 12 <= n) {
		uint32_t namesz, descsz, type;
		size_t name, desc, next;

		memcpy(&namesz, d + off, 4);
		memcpy(&descsz, d + off + 4, 4);
		memcpy(&type, d + off + 8, 4);
		name = off + 12;
		desc = name + ((namesz + 3u) & ~3u);
		next = desc + ((descsz + 3u) & ~3u);
		if (next > n || desc > n || descsz > n - desc)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(d + name, "GNU", 4) &&
		    descsz && descsz <= OVUP_BUILD_ID_MAX) {
			memcpy(id, d + desc, descsz);
			return descsz;
		}
		off = next;
	}
	return 0;
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
	Elf *e = ovup_elf_open(fd);
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

enum ovup_sym_type ovup_elf_sym_type(unsigned char info)
{
	switch (GELF_ST_TYPE(info)) {
	case STT_FUNC:
		return OVUP_SYM_FUNC;
	case STT_OBJECT:
	case STT_COMMON:
		return OVUP_SYM_OBJECT;
	case STT_TLS:
		return OVUP_SYM_TLS;
	case STT_GNU_IFUNC:
		return OVUP_SYM_IFUNC;
	default:
		return OVUP_SYM_OTHER;
	}
}

enum ovup_sym_bind ovup_elf_sym_bind(unsigned char info)
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

/* The names of a .dynsym's version definitions, by version index. */
struct verdefs {
	const char *name[256];
	Elf_Data *versym;
};

static void read_verdefs(Elf *e, struct verdefs *v)
{
	GElf_Shdr sh;
	Elf_Scn *scn;
	Elf_Data *d;
	size_t off = 0;
	GElf_Verdef vd;

	memset(v, 0, sizeof(*v));
	scn = find_scn(e, SHT_GNU_versym, NULL, NULL);
	v->versym = scn ? elf_getdata(scn, NULL) : NULL;
	scn = find_scn(e, SHT_GNU_verdef, NULL, &sh);
	d = scn ? elf_getdata(scn, NULL) : NULL;
	while (d && gelf_getverdef(d, (int)off, &vd)) {
		GElf_Verdaux va;

		if (vd.vd_ndx < OVUP_ARRAY_SIZE(v->name) &&
		    gelf_getverdaux(d, (int)(off + vd.vd_aux), &va))
			v->name[vd.vd_ndx] = elf_strptr(e, sh.sh_link, va.vda_name);
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
}

/* The name a reference means, and the version: "f@@V" is f's default
 * version V, "f@V" stays whole (only a reference naming V means it);
 * in .dynsym the same comes from .gnu.version.  buf holds a built name. */
static const char *versioned_name(const char *name, size_t i, const struct verdefs *v,
				  const char **version, char *buf, size_t len)
{
	const char *at = strstr(name, "@@");
	GElf_Versym vs;

	*version = NULL;
	if (at && (size_t)(at - name) < len) {
		snprintf(buf, len, "%.*s", (int)(at - name), name);
		*version = at + 2;
		return buf;
	}
	if (!v->versym || !gelf_getversym(v->versym, (int)i, &vs) ||
	    (vs & 0x7fff) >= OVUP_ARRAY_SIZE(v->name) || !v->name[vs & 0x7fff] ||
	    (vs & 0x7fff) <= VER_NDX_GLOBAL)
		return name;
	if (vs & 0x8000) {
		snprintf(buf, len, "%s@%s", name, v->name[vs & 0x7fff]);
		return buf;
	}
	*version = v->name[vs & 0x7fff];
	return name;
}

int ovup_elf_symbols(int fd, int want_dynsym, ovup_elf_sym_fn fn, void *ctx)
{
	Elf *e = ovup_elf_open(fd);
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t i, n;
	const char *file = NULL;
	struct verdefs v;
	char buf[512];

	if (!e)
		return -ENOEXEC;
	scn = want_dynsym ? NULL : find_scn(e, SHT_SYMTAB, NULL, &sh);
	if (!scn)
		scn = find_scn(e, SHT_DYNSYM, NULL, &sh);
	if (!scn) {
		elf_end(e);
		return -ENOENT;
	}
	read_verdefs(e, &v);
	if (sh.sh_type != SHT_DYNSYM)
		v.versym = NULL;
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
		os.type = ovup_elf_sym_type(s.st_info);
		if (os.type == OVUP_SYM_OTHER)
			continue;
		os.name = versioned_name(name, i, &v, &os.version, buf, sizeof(buf));
		os.value = s.st_value;
		os.size = s.st_size;
		os.bind = ovup_elf_sym_bind(s.st_info);
		os.vis = (enum ovup_sym_vis)GELF_ST_VISIBILITY(s.st_other);
		os.file = os.bind == OVUP_BIND_LOCAL ? file : NULL;
		fn(ctx, &os);
	}
	elf_end(e);
	return 0;
}

/* A dynamic relocation against a named .dynsym entry, as each_dynrel
 * hands it over. */
struct dynrel {
	Elf *e;
	GElf_Rela r;
	GElf_Sym sym;
	size_t symndx;
	const char *name;
};

/* Calls fn for every relocation, against a named symbol, of the sections
 * that refer to .dynsym (.rela.dyn, .rela.plt), until fn returns nonzero;
 * that value, or 0; -ENOEXEC if fd is no ELF file. */
static int each_dynrel(int fd, int (*fn)(void *ctx, const struct dynrel *dr), void *ctx)
{
	struct dynrel dr = { .e = ovup_elf_open(fd) };
	Elf_Scn *scn = NULL, *dynsym;
	GElf_Shdr dsh;
	Elf_Data *syms;
	int ret = 0;

	if (!dr.e)
		return -ENOEXEC;
	dynsym = find_scn(dr.e, SHT_DYNSYM, NULL, &dsh);
	syms = dynsym ? elf_getdata(dynsym, NULL) : NULL;
	while (!ret && syms && (scn = elf_nextscn(dr.e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize ||
		    elf_ndxscn(dynsym) != sh.sh_link)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; !ret && d && i < n; i++) {
			if (!gelf_getrela(d, (int)i, &dr.r) || !GELF_R_SYM(dr.r.r_info))
				continue;
			dr.symndx = GELF_R_SYM(dr.r.r_info);
			if (!gelf_getsym(syms, (int)dr.symndx, &dr.sym))
				continue;
			dr.name = elf_strptr(dr.e, dsh.sh_link, dr.sym.st_name);
			if (dr.name && *dr.name)
				ret = fn(ctx, &dr);
		}
	}
	elf_end(dr.e);
	return ret;
}

struct self_ctx {
	void (*fn)(void *ctx, const char *name);
	void *ctx;
};

static int self_import(void *arg, const struct dynrel *dr)
{
	struct self_ctx *c = arg;

	if (dr->sym.st_shndx != SHN_UNDEF)
		c->fn(c->ctx, dr->name);
	return 0;
}

int ovup_elf_self_imports(int fd, void (*fn)(void *ctx, const char *name), void *ctx)
{
	struct self_ctx c = { fn, ctx };
	int ret = each_dynrel(fd, self_import, &c);

	return ret < 0 ? ret : 0;
}

/* The version a .dynsym entry that is undefined asks for, from
 * .gnu.version_r, or NULL. */
static const char *needed_version(Elf *e, Elf_Data *versym, size_t i)
{
	GElf_Versym vs;
	GElf_Shdr sh;
	Elf_Scn *scn;
	Elf_Data *d;
	GElf_Verneed vn;
	size_t off = 0;

	if (!versym || !gelf_getversym(versym, (int)i, &vs) || (vs & 0x7fff) <= VER_NDX_GLOBAL)
		return NULL;
	scn = find_scn(e, SHT_GNU_verneed, NULL, &sh);
	d = scn ? elf_getdata(scn, NULL) : NULL;
	while (d && gelf_getverneed(d, (int)off, &vn)) {
		size_t aoff = off + vn.vn_aux, k;
		GElf_Vernaux va;

		for (k = 0; k < vn.vn_cnt && gelf_getvernaux(d, (int)aoff, &va); k++) {
			if (va.vna_other == (vs & 0x7fff))
				return elf_strptr(e, sh.sh_link, va.vna_name);
			aoff += va.vna_next;
		}
		if (!vn.vn_next)
			break;
		off += vn.vn_next;
	}
	return NULL;
}

struct slot_ctx {
	const char *name, *version;
	Elf_Data *versym; /* of the file each_dynrel opened, found on first use */
	int versym_read;
	uint64_t slot;
};

static int import_slot(void *arg, const struct dynrel *dr)
{
	struct slot_ctx *c = arg;
	const char *v;

	if ((GELF_R_TYPE(dr->r.r_info) != R_X86_64_GLOB_DAT &&
	     GELF_R_TYPE(dr->r.r_info) != R_X86_64_JUMP_SLOT) ||
	    dr->sym.st_shndx != SHN_UNDEF || strcmp(dr->name, c->name))
		return 0;
	if (!c->versym_read) {
		Elf_Scn *vscn = find_scn(dr->e, SHT_GNU_versym, NULL, NULL);

		c->versym = vscn ? elf_getdata(vscn, NULL) : NULL;
		c->versym_read = 1;
	}
	v = needed_version(dr->e, c->versym, dr->symndx);
	if (c->version && v && strcmp(v, c->version))
		return 0;
	c->slot = dr->r.r_offset;
	return 1;
}

int ovup_elf_import_slot(int fd, const char *name, const char *version, uint64_t *slot)
{
	struct slot_ctx c = { .name = name, .version = version };
	int ret = each_dynrel(fd, import_slot, &c);

	if (ret < 0)
		return ret;
	if (!ret)
		return -ENOENT;
	*slot = c.slot;
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
	Elf *e = ovup_elf_open(fd);
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
