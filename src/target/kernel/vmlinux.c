// SPDX-License-Identifier: MIT
/*
 * The running kernel's code as its files hold it: vmlinux, decompressed
 * from the kernel image (/boot/vmlinuz-RELEASE, XZ in Debian), and each
 * module's .ko.  Bytes are relocated the way the kernel did (KASLR from
 * the image's own relocation table, a module's RELA entries against live
 * addresses); the sites the kernel rewrites at boot or load are listed
 * from their tables.  Parsed in memory with <elf.h>: the image is
 * decompressed in memory, and only headers and a few tables are needed.
 */
#define _GNU_SOURCE
#include "kfiles.h"
#include "../../util/util.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

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
static const struct rewritten_table {
	const char *kind, *start, *stop, *section;
	uint8_t entsize, lenoff, len, absolute;
} tables[] = {
	{ "an alternative (CPU-feature patching)", "__alt_instructions", "__alt_instructions_end",
	  ".altinstructions", 12, 10, 0, 0 },
	{ "a jump label (static key)", "__start___jump_table", "__stop___jump_table", "__jump_table",
	  16, 0, 5, 0 },
	{ "a static call", "__start_static_call_sites", "__stop_static_call_sites",
	  ".static_call_sites", 8, 0, 5, 0 },
	{ "a retpoline site", "__retpoline_sites", "__retpoline_sites_end", ".retpoline_sites", 4, 0,
	  6, 0 },
	{ "a return-thunk site", "__return_sites", "__return_sites_end", ".return_sites", 4, 0, 5, 0 },
	{ "a paravirt site", "__parainstructions", "__parainstructions_end", ".parainstructions", 16,
	  9, 0, 1 },
	{ "an SMP lock prefix", "__smp_locks", "__smp_locks_end", ".smp_locks", 4, 0, 1, 0 },
};

/* ---- files: XZ, the kernel image ---- */

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };

/* One XZ stream; what follows it (the image appends the size) is ignored. */
static int xz_decode(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
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
	while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK || (r == LZMA_BUF_ERROR && !s.avail_out)) {
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

/* The payload of a bzImage (boot protocol >= 2.08): the setup header says
 * where it is; Debian compresses it with XZ. */
static int image_payload(const char *path, const uint8_t *d, size_t n, uint8_t **out,
			 size_t *outlen)
{
	size_t setup, off, len;
	uint32_t po, pl;

	if (n < 0x250 || memcmp(d + 0x202, "HdrS", 4))
		return ovup_err(-ENOEXEC, "%s is neither a kernel image (bzImage) nor an ELF "
					  "vmlinux",
				path);
	setup = d[0x1f1] ? d[0x1f1] : 4;
	memcpy(&po, d + 0x248, 4);
	memcpy(&pl, d + 0x24c, 4);
	off = (setup + 1) * 512 + po;
	len = pl;
	if (off > n || len > n - off || len < sizeof(xz_magic))
		return ovup_err(-ENOEXEC, "%s: its payload lies outside the file (truncated?)",
				path);
	if (memcmp(d + off, xz_magic, sizeof(xz_magic)))
		return ovup_err(-ENOTSUP, "%s is not compressed with XZ (payload starts "
					  "%02x %02x); ovup reads XZ images (Debian's); point "
					  "OVUP_VMLINUX at the uncompressed vmlinux",
				path, d[off], d[off + 1]);
	if (xz_decode(d + off, len, out, outlen))
		return ovup_err(-EILSEQ, "%s: its XZ payload does not decompress (corrupt?)",
				path);
	return 0;
}

static int kelf_init(struct kelf *e, const char *path, int type)
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
		    (e->sh[i].sh_offset > e->size || e->sh[i].sh_size > e->size - e->sh[i].sh_offset))
			return ovup_err(-ENOEXEC, "%s: section %zu lies outside the file "
						  "(truncated?)",
					path, i);
	e->shstr = (const char *)e->data + e->sh[eh->e_shstrndx].sh_offset;
	e->shstrlen = e->sh[eh->e_shstrndx].sh_size;
	return 0;
}

static const char *sec_name(const struct kelf *e, size_t i)
{
	uint32_t n = e->sh[i].sh_name;

	return n < e->shstrlen ? e->shstr + n : "";
}

/* Bytes at a link-time address of vmlinux, or NULL. */
static const uint8_t *vm_at(const struct kelf *e, uint64_t a, size_t len)
{
	size_t i;

	for (i = 0; i < e->shnum; i++) {
		const Elf64_Shdr *s = &e->sh[i];

		if ((s->sh_flags & SHF_ALLOC) && s->sh_type != SHT_NOBITS && a >= s->sh_addr &&
		    a - s->sh_addr <= s->sh_size && len <= s->sh_size - (a - s->sh_addr))
			return e->data + s->sh_offset + (a - s->sh_addr);
	}
	return NULL;
}

/* ---- vmlinux ---- */

/* The image appends to vmlinux its relocation table (arch/x86/tools/
 * relocs): from the end backwards, 32-bit fields, 0, inverse 32-bit fields,
 * 0, 64-bit fields, 0; each entry the low half of the field's address. */
static void vm_relocs(struct ovup_kfile *f)
{
	const struct kelf *e = &f->e;
	size_t end = e->eh->e_shoff + e->shnum * sizeof(Elf64_Shdr), i, n, *counts[3];
	const uint32_t **lists[3] = { &f->rel32, &f->relneg, &f->rel64 };
	const uint32_t *w;

	for (i = 0; i < e->shnum; i++)
		if (e->sh[i].sh_type != SHT_NOBITS &&
		    e->sh[i].sh_offset + e->sh[i].sh_size > end)
			end = e->sh[i].sh_offset + e->sh[i].sh_size;
	end = OVUP_ALIGN_UP(end, 4);
	if (e->size < end + 4 || (e->size - end) % 4)
		return; /* a plain vmlinux: nothing appended */
	counts[0] = &f->nrel32;
	counts[1] = &f->nrelneg;
	counts[2] = &f->nrel64;
	w = (const uint32_t *)(e->data + e->size) - 1;
	for (i = 0; i < 3; i++) {
		for (n = 0; w - n >= (const uint32_t *)(e->data + end) && w[-(long)n]; n++)
			;
		*counts[i] = n;
		*lists[i] = w - n + 1;
		w -= n + 1;
		if (w < (const uint32_t *)(e->data + end))
			break;
	}
}

static uint64_t live_sym(const struct ovup_symtab *st, uint32_t obj, const char *name)
{
	size_t first, n, i;

	ovup_symtab_lookup(st, name, &first, &n);
	for (i = first; i < first + n; i++)
		if (st->syms[i].obj == obj && st->syms[i].addr)
			return st->syms[i].addr;
	return 0;
}

/* Decompressing the image takes a second, many under emulation, at every
 * apply: the result is kept in a cache file named after the image's
 * identity (inode, size, mtime) and mapped read-only from then on. */
static char *cache_path(const struct stat *sb)
{
	const char *dir = getenv("OVUP_CACHE_DIR");

	return ovup_xasprintf("%s/vmlinux-%llx-%llx-%llx", dir && *dir ? dir : "/var/cache/ovup",
			      (unsigned long long)sb->st_ino, (unsigned long long)sb->st_size,
			      (unsigned long long)sb->st_mtime);
}

static int cache_map(const char *path, struct kelf *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	void *p;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) || sb.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -ENOENT;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	e->data = p;
	e->size = (size_t)sb.st_size;
	e->mapped = 1;
	return 0;
}

/* Best effort: without a cache the next apply decompresses again. */
static void cache_store(const char *path, const struct kelf *e)
{
	char *dir = ovup_xstrdup(path);

	char *slash;

	/* its parents too (/var/cache may not exist in a small system) */
	for (slash = dir + 1; (slash = strchr(slash, '/')); *slash++ = '/') {
		*slash = 0;
		mkdir(dir, 0755);
	}
	*strrchr(dir, '/') = 0;
	mkdir(dir, 0700);
	if (ovup_write_file_atomic(path, (const char *)e->data, e->size))
		ovup_info("cannot keep the decompressed kernel in %s", path);
	free(dir);
}

/* vmlinux itself, or the ELF in a kernel image. */
static int vm_load(struct ovup_kfile *f)
{
	struct stat sb;
	uint8_t *raw;
	char *cache;
	size_t n;
	int ret;

	if (stat(f->path, &sb))
		return ovup_err(-ENOENT, "cannot read %s (%m), the kernel image ovup checks "
					 "vmlinux's code against; install it, or point OVUP_VMLINUX "
					 "at the image or at vmlinux",
				f->path);
	cache = cache_path(&sb);
	/* an ELF (vmlinux, or a copy of the cache) is mapped as it is */
	if (!cache_map(f->path, &f->e)) {
		if (f->e.size >= SELFMAG && !memcmp(f->e.data, ELFMAG, SELFMAG)) {
			free(cache);
			return 0;
		}
		munmap(f->e.data, f->e.size);
		f->e.mapped = 0;
	}
	if (!cache_map(cache, &f->e)) {
		free(cache);
		return 0;
	}
	raw = (uint8_t *)ovup_read_file(f->path, &n);
	if (!raw) {
		free(cache);
		return ovup_err(-errno, "cannot read %s: %m", f->path);
	}
	if (n >= 4 && !memcmp(raw, ELFMAG, SELFMAG)) {
		f->e.data = raw;
		f->e.size = n;
	} else {
		ret = image_payload(f->path, raw, n, &f->e.data, &f->e.size);
		free(raw);
		if (ret) {
			free(cache);
			return ret;
		}
		/* only a whole vmlinux is worth keeping; vm_open says why not */
		if (!kelf_init(&f->e, f->path, ET_EXEC))
			cache_store(cache, &f->e);
		else
			ovup_err_clear();
	}
	free(cache);
	return 0;
}

static int vm_open(struct ovup_kfile *f, const struct ovup_symtab *st, uint32_t obj)
{
	const char *env = getenv("OVUP_VMLINUX");
	struct utsname u;
	size_t i;
	uint64_t text = 0, live;
	int ret;

	uname(&u);
	if (env && *env)
		snprintf(f->path, sizeof(f->path), "%s", env);
	else
		snprintf(f->path, sizeof(f->path), "/boot/vmlinuz-%s", u.release);
	ret = vm_load(f);
	if (ret)
		return ret;
	ret = kelf_init(&f->e, f->path, ET_EXEC);
	if (ret)
		return ret;
	for (i = 0; i < f->e.shnum; i++)
		if (!strcmp(sec_name(&f->e, i), ".text"))
			text = f->e.sh[i].sh_addr;
	live = live_sym(st, obj, "_text");
	if (!text || !live)
		return ovup_err(-ENOEXEC, "%s has no .text section, or kallsyms no _text", f->path);
	f->delta = (int64_t)(live - text);
	vm_relocs(f);
	return 0;
}

/* Applies the image's relocations that fall in [a, a + len) of buf (link
 * addresses): KASLR moved the kernel by delta. */
static void vm_relocate(const struct ovup_kfile *f, uint64_t a, uint8_t *buf, size_t len)
{
	const uint32_t *lists[3] = { f->rel32, f->relneg, f->rel64 };
	size_t counts[3] = { f->nrel32, f->nrelneg, f->nrel64 }, k, i;

	for (k = 0; k < 3; k++)
		for (i = 0; i < counts[k]; i++) {
			uint64_t r = (uint64_t)(int64_t)(int32_t)lists[k][i];
			size_t w = k == 2 ? 8 : 4;

			if (r < a || r + w > a + len)
				continue;
			if (w == 8) {
				uint64_t v;

				memcpy(&v, buf + (r - a), 8);
				v += (uint64_t)f->delta;
				memcpy(buf + (r - a), &v, 8);
			} else {
				uint32_t v;

				memcpy(&v, buf + (r - a), 4);
				v = k == 0 ? v + (uint32_t)f->delta : v - (uint32_t)f->delta;
				memcpy(buf + (r - a), &v, 4);
			}
		}
}

static int vm_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate)
{
	/* a margin on both sides, so that fields straddling the range are
	 * relocated whole */
	uint64_t a = addr - (uint64_t)f->delta - 8;
	const uint8_t *p = vm_at(&f->e, a, len + 16);
	uint8_t tmp[256];

	if (!p || len + 16 > sizeof(tmp))
		return ovup_err(-ENOENT, "%s has no code at 0x%" PRIx64 " (0x%" PRIx64 " "
					 "before KASLR): not the image of the running kernel?",
				f->path, addr, a + 8);
	memcpy(tmp, p, len + 16);
	if (relocate)
		vm_relocate(f, a, tmp, len + 16);
	memcpy(buf, tmp + 8, len);
	return 0;
}

static const char *vm_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len)
{
	uint64_t lo = addr - (uint64_t)f->delta, hi = lo + len;
	size_t t;

	for (t = 0; t < OVUP_ARRAY_SIZE(tables); t++) {
		const struct rewritten_table *tb = &tables[t];
		uint64_t b = live_sym(f->st, f->obj, tb->start), e = live_sym(f->st, f->obj, tb->stop), ent;
		const uint8_t *p;

		if (!b || !e || e < b)
			return "a table of rewritten sites ovup cannot find in kallsyms";
		b -= (uint64_t)f->delta;
		e -= (uint64_t)f->delta;
		p = vm_at(&f->e, b, (size_t)(e - b));
		if (!p)
			return "a table of rewritten sites missing from the image";
		for (ent = 0; ent + tb->entsize <= e - b; ent += tb->entsize) {
			const uint8_t *q = p + ent;
			uint64_t site;
			int32_t off;
			uint8_t n = tb->lenoff ? q[tb->lenoff] : tb->len;

			if (tb->absolute) {
				memcpy(&site, q, 8);
			} else {
				memcpy(&off, q, 4);
				site = b + ent + (uint64_t)(int64_t)off;
			}
			if (site < hi && site + n > lo)
				return tb->kind;
		}
	}
	return NULL;
}

/* ---- modules ---- */

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
		if (de->d_type == DT_DIR ||
		    ((de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) && !stat(path, &sb) &&
		     S_ISDIR(sb.st_mode))) {
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
	return ovup_err(-ENOENT, "no %s.ko under %s, the file ovup checks the module's code "
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
	return ovup_err(-ENOENT, "%s has no function '%s': not the file module %s was "
				 "loaded from",
			f->path, s->name, f->modname);
}

static int ko_open(struct ovup_kfile *f, const struct ovup_sym *s)
{
	uint8_t *raw;
	size_t n;
	int ret = ko_path(f);

	if (ret)
		return ret;
	raw = (uint8_t *)ovup_read_file(f->path, &n);
	if (!raw)
		return ovup_err(-errno, "cannot read %s: %m", f->path);
	if (n >= sizeof(xz_magic) && !memcmp(raw, xz_magic, sizeof(xz_magic))) {
		ret = xz_decode(raw, n, &f->e.data, &f->e.size);
		free(raw);
		if (ret)
			return ovup_err(ret, "%s does not decompress (corrupt?)", f->path);
	} else {
		f->e.data = raw;
		f->e.size = n;
	}
	ret = kelf_init(&f->e, f->path, ET_REL);
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
		 sec_name(&f->e, shndx));
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
	size_t first, n, i;

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
	ovup_symtab_lookup(f->st, name, &first, &n);
	for (i = first; i < first + n; i++)
		if (f->st->syms[i].addr && f->st->syms[i].bind != OVUP_BIND_LOCAL) {
			*out = f->st->syms[i].addr;
			return 0;
		}
	return -ENOENT;
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
		return ovup_err(-ENOENT, "%s: cannot resolve the relocation at %s+0x%" PRIx64
					 " as the loader did",
				f->path, sec_name(&f->e, f->fsym->st_shndx), (uint64_t)r->r_offset);
	switch (type) {
	case R_X86_64_PC32: case R_X86_64_PLT32: case R_X86_64_PC64:
		v = s + (uint64_t)r->r_addend - p;
		break;
	case R_X86_64_32: case R_X86_64_32S: case R_X86_64_64:
		v = s + (uint64_t)r->r_addend;
		break;
	default:
		return ovup_err(-ENOTSUP, "%s: relocation type %u at 0x%" PRIx64 " is not "
					  "one ovup can check",
				f->path, type, (uint64_t)r->r_offset);
	}
	if (r->r_offset < off || r->r_offset + w > off + len)
		return ovup_err(-ENOTSUP, "%s: a relocated field straddles the bytes ovup "
					  "checks",
				f->path);
	memcpy(buf + (r->r_offset - off), &v, w);
	return 0;
}

static int ko_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate)
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
static const char *ko_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len)
{
	const struct kelf *e = &f->e;
	uint64_t lo = f->fsym->st_value + (addr - f->live_func), hi = lo + len;
	size_t t, i, k;

	for (t = 0; t < OVUP_ARRAY_SIZE(tables); t++)
		for (i = 0; i < e->shnum; i++) {
			const Elf64_Shdr *rs = &e->sh[i], *tab;
			const Elf64_Rela *r = (const Elf64_Rela *)(e->data + rs->sh_offset);

			if (rs->sh_type != SHT_RELA || rs->sh_info >= e->shnum ||
			    strcmp(sec_name(e, rs->sh_info), tables[t].section))
				continue;
			tab = &e->sh[rs->sh_info];
			for (k = 0; k < rs->sh_size / sizeof(*r); k++) {
				uint32_t si = ELF64_R_SYM(r[k].r_info);
				uint64_t site;
				uint8_t n = tables[t].len;

				/* the site is the entry's first field */
				if (r[k].r_offset % tables[t].entsize || si >= f->nsyms ||
				    f->syms[si].st_shndx != f->fsym->st_shndx)
					continue;
				if (tables[t].lenoff && r[k].r_offset + tables[t].lenoff < tab->sh_size)
					n = e->data[tab->sh_offset + r[k].r_offset + tables[t].lenoff];
				site = f->syms[si].st_value + (uint64_t)r[k].r_addend;
				if (site < hi && site + n > lo)
					return tables[t].kind;
			}
		}
	return NULL;
}

/* ---- the interface ---- */

int ovup_kfile_open(const struct ovup_symtab *st, const struct ovup_sym *s,
		    struct ovup_kfile **out)
{
	struct ovup_kfile *f = ovup_xcalloc(1, sizeof(*f));
	int ret;

	f->st = st;
	f->obj = s->obj;
	f->modname = st->objs[s->obj].name;
	f->module = strcmp(f->modname, "vmlinux") != 0;
	ret = f->module ? ko_open(f, s) : vm_open(f, st, s->obj);
	if (ret) {
		ovup_kfile_close(f);
		return ret;
	}
	*out = f;
	return 0;
}

int ovup_kfile_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len,
		    int relocate)
{
	return f->module ? ko_read(f, addr, buf, len, relocate)
			 : vm_read(f, addr, buf, len, relocate);
}

const char *ovup_kfile_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len)
{
	return f->module ? ko_rewritten(f, addr, len) : vm_rewritten(f, addr, len);
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
