// SPDX-License-Identifier: MIT
/*
 * A loaded module's .ko (found under /lib/modules/RELEASE or
 * OVUP_MODULE_DIR, XZ or not): the function's symbol in it, its bytes
 * relocated with the module's RELA entries against live addresses (sysfs
 * gives its sections' bases), and the sites the loader rewrote, from the
 * relocations of the module's tables.
 */
#define _GNU_SOURCE
#include "kelf.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

static int find_ko(const char *dir, const char *mod, int depth, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char path[1300], base[256];
		struct stat sb;

		if (strlen(dir) + strlen(de->d_name) + 2 > len)
			continue;
		size_t i, n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* symlinks too: a distribution's "updates" or "extra" may be
		 * links (the depth bounds a loop) */
		if (de->d_type == DT_DIR || ((de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) &&
					     !stat(path, &sb) && S_ISDIR(sb.st_mode))) {
			if (depth < 8)
				found = find_ko(path, mod, depth + 1, out, len);
			continue;
		}
		/* module names use '_' where file names may use '-' */
		snprintf(base, sizeof(base), "%s", de->d_name);
		n = strlen(base);
		if (n > 3 && !strcmp(base + n - 3, ".ko"))
			base[n - 3] = 0;
		else if (n > 6 && !strcmp(base + n - 6, ".ko.xz"))
			base[n - 6] = 0;
		else
			continue;
		for (i = 0; base[i]; i++)
			if (base[i] == '-')
				base[i] = '_';
		if (!strcmp(base, mod)) {
			memcpy(out, path, strlen(path) + 1);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static int ko_path(struct ovup_kfile *f)
{
	const char *env = getenv("OVUP_MODULE_DIR");
	struct utsname u;
	char tried[1024] = "", dir[512], *list, *one, *save = NULL;

	uname(&u);
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	list = ovup_xasprintf("%s%s%s", env && *env ? env : "", env && *env ? ":" : "", dir);
	for (one = strtok_r(list, ":", &save); one; one = strtok_r(NULL, ":", &save)) {
		if (find_ko(one, f->modname, 0, f->path, sizeof(f->path))) {
			free(list);
			return 0;
		}
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s",
			 tried[0] ? ", " : "", one);
	}
	free(list);
	return ovup_err(-ENOENT,
			"no %s.ko under %s, the file ovup checks the module's code "
			"against; install it there or set OVUP_MODULE_DIR",
			f->modname, tried);
}

static int ko_symbol(struct ovup_kfile *f, const struct ovup_sym *s)
{
	const struct kelf *e = &f->e;
	size_t i, rank = 0;

	for (i = 0; i < e->shnum; i++)
		if (e->sh[i].sh_type == SHT_SYMTAB && e->sh[i].sh_link < e->shnum) {
			f->syms = (const Elf64_Sym *)(e->data + e->sh[i].sh_offset);
			f->nsyms = e->sh[i].sh_size / sizeof(Elf64_Sym);
			f->strtab = (const char *)e->data + e->sh[e->sh[i].sh_link].sh_offset;
		}
	/* the pos-th of its name, as kallsyms lists a module's symbols in
	 * its symbol table's order */
	for (i = 0; i < f->nsyms; i++) {
		const Elf64_Sym *y = &f->syms[i];

		if (ELF64_ST_TYPE(y->st_info) != STT_FUNC || y->st_shndx == SHN_UNDEF ||
		    y->st_shndx >= e->shnum || strcmp(f->strtab + y->st_name, s->name))
			continue;
		if (++rank == (s->pos ? s->pos : 1)) {
			f->fsym = y;
			return 0;
		}
	}
	return ovup_err(-ENOENT,
			"%s has no function '%s': not the file module %s was "
			"loaded from",
			f->path, s->name, f->modname);
}

int ovup_kko_open(struct ovup_kfile *f, const struct ovup_sym *s)
{
	uint8_t *raw;
	size_t n;
	int ret = ko_path(f);

	if (ret)
		return ret;
	raw = (uint8_t *)ovup_read_file(f->path, &n);
	if (!raw)
		return ovup_err(-errno, "cannot read %s: %m", f->path);
	if (n >= sizeof(ovup_kelf_xz_magic) &&
	    !memcmp(raw, ovup_kelf_xz_magic, sizeof(ovup_kelf_xz_magic))) {
		ret = ovup_kelf_xz_decode(raw, n, &f->e.data, &f->e.size);
		free(raw);
		if (ret)
			return ovup_err(ret, "%s does not decompress (corrupt?)", f->path);
	} else {
		f->e.data = raw;
		f->e.size = n;
	}
	ret = ovup_kelf_init(&f->e, f->path, ET_REL);
	if (!ret)
		ret = ko_symbol(f, s);
	f->live_func = s->addr;
	return ret;
}

/* Where the module loader put a section of the .ko: sysfs says, and the
 * function's own section follows from the function's address. */
static int ko_section_base(struct ovup_kfile *f, size_t shndx, uint64_t *out)
{
	char path[512], *text;

	if (shndx == f->fsym->st_shndx) {
		*out = f->live_func - f->fsym->st_value;
		return 0;
	}
	snprintf(path, sizeof(path), "/sys/module/%s/sections/%s", f->modname,
		 kelf_sec_name(&f->e, shndx));
	text = ovup_read_file(path, NULL);
	if (!text)
		return -errno;
	*out = strtoull(text, NULL, 16);
	free(text);
	return *out ? 0 : -EACCES;
}

static int ko_symval(struct ovup_kfile *f, const Elf64_Sym *y, uint64_t *out)
{
	const char *name = f->strtab + y->st_name;

	if (y->st_shndx == SHN_ABS) {
		*out = y->st_value;
		return 0;
	}
	if (y->st_shndx != SHN_UNDEF && y->st_shndx < f->e.shnum &&
	    !ko_section_base(f, y->st_shndx, out)) {
		*out += y->st_value;
		return 0;
	}
	/* undefined: what the loader resolved it to, an export of vmlinux or
	 * of another module */
	*out = ovup_symtab_addr(f->st, name, -1, 1);
	return *out ? 0 : -ENOENT;
}

/* One RELA entry applied to buf, which holds [off, off + len) of the
 * function's section. */
static int ko_apply(struct ovup_kfile *f, const Elf64_Rela *r, uint64_t off, uint8_t *buf,
		    size_t len)
{
	uint32_t type = ELF64_R_TYPE(r->r_info), si = ELF64_R_SYM(r->r_info);
	size_t w = type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
	uint64_t s, p = f->live_func - f->fsym->st_value + r->r_offset, v;

	if (r->r_offset + w <= off || r->r_offset >= off + len)
		return 0;
	if (si >= f->nsyms || ko_symval(f, &f->syms[si], &s))
		return ovup_err(-ENOENT,
				"%s: cannot resolve the relocation at %s+0x%" PRIx64
				" as the loader did",
				f->path, kelf_sec_name(&f->e, f->fsym->st_shndx),
				(uint64_t)r->r_offset);
	switch (type) {
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_PC64:
		v = s + (uint64_t)r->r_addend - p;
		break;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_64:
		v = s + (uint64_t)r->r_addend;
		break;
	default:
		return ovup_err(-ENOTSUP,
				"%s: relocation type %u at 0x%" PRIx64 " is not "
				"one ovup can check",
				f->path, type, (uint64_t)r->r_offset);
	}
	if (r->r_offset < off || r->r_offset + w > off + len)
		return ovup_err(-ENOTSUP,
				"%s: a relocated field straddles the bytes ovup "
				"checks",
				f->path);
	memcpy(buf + (r->r_offset - off), &v, w);
	return 0;
}

int ovup_kko_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate)
{
	const struct kelf *e = &f->e;
	const Elf64_Shdr *sec = &e->sh[f->fsym->st_shndx];
	uint64_t off = f->fsym->st_value + (addr - f->live_func);
	size_t i, k;
	int ret;

	if (sec->sh_type == SHT_NOBITS || off > sec->sh_size || len > sec->sh_size - off)
		return ovup_err(-ENOENT, "%s: '%s' is shorter than the loaded one", f->path,
				f->strtab + f->fsym->st_name);
	memcpy(buf, e->data + sec->sh_offset + off, len);
	for (i = 0; relocate && i < e->shnum; i++) {
		const Elf64_Rela *r = (const Elf64_Rela *)(e->data + e->sh[i].sh_offset);

		if (e->sh[i].sh_type != SHT_RELA || e->sh[i].sh_info != f->fsym->st_shndx)
			continue;
		for (k = 0; k < e->sh[i].sh_size / sizeof(*r); k++) {
			ret = ko_apply(f, &r[k], off, buf, len);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The module's tables of rewritten sites are relocatable: each entry's
 * RELA names the section and offset of its site. */
const char *ovup_kko_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len)
{
	const struct kelf *e = &f->e;
	uint64_t lo = f->fsym->st_value + (addr - f->live_func), hi = lo + len;
	size_t t, i, k;

	for (t = 0; t < ovup_nkrewritten; t++)
		for (i = 0; i < e->shnum; i++) {
			const Elf64_Shdr *rs = &e->sh[i], *tab;
			const Elf64_Rela *r = (const Elf64_Rela *)(e->data + rs->sh_offset);

			if (rs->sh_type != SHT_RELA || rs->sh_info >= e->shnum ||
			    strcmp(kelf_sec_name(e, rs->sh_info), ovup_krewritten[t].section))
				continue;
			tab = &e->sh[rs->sh_info];
			for (k = 0; k < rs->sh_size / sizeof(*r); k++) {
				uint32_t si = ELF64_R_SYM(r[k].r_info);
				uint64_t site;
				uint8_t n = ovup_krewritten[t].len;

				/* the site is the entry's first field */
				if (r[k].r_offset % ovup_krewritten[t].entsize || si >= f->nsyms ||
				    f->syms[si].st_shndx != f->fsym->st_shndx)
					continue;
				if (ovup_krewritten[t].lenoff &&
				    r[k].r_offset + ovup_krewritten[t].lenoff < tab->sh_size)
					n = e->data[tab->sh_offset + r[k].r_offset +
						    ovup_krewritten[t].lenoff];
				site = f->syms[si].st_value + (uint64_t)r[k].r_addend;
				if (site < hi && site + n > lo)
					return ovup_krewritten[t].kind;
			}
		}
	return NULL;
}
