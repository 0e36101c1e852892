// SPDX-License-Identifier: MIT
/*
 * vmlinux as the running kernel was loaded from it: decompressed from the
 * kernel image (/boot/vmlinuz-RELEASE, XZ in Debian) and cached, its
 * bytes relocated for KASLR from the image's own relocation table, and
 * the sites the kernel rewrote at boot found from their tables, whose
 * bounds kallsyms gives.
 */
#define _GNU_SOURCE
#include "kelf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The payload of a bzImage (boot protocol >= 2.08): the setup header says
 * where it is; Debian compresses it with XZ. */
static int image_payload(const char *path, const uint8_t *d, size_t n, uint8_t **out,
			 size_t *outlen)
{
	size_t setup, off, len;
	uint32_t po, pl;

	if (n < 0x250 || memcmp(d + 0x202, "HdrS", 4))
		return ovup_err(-ENOEXEC,
				"%s is neither a kernel image (bzImage) nor an ELF "
				"vmlinux",
				path);
	setup = d[0x1f1] ? d[0x1f1] : 4;
	memcpy(&po, d + 0x248, 4);
	memcpy(&pl, d + 0x24c, 4);
	off = (setup + 1) * 512 + po;
	len = pl;
	if (off > n || len > n - off || len < sizeof(ovup_kelf_xz_magic))
		return ovup_err(-ENOEXEC, "%s: its payload lies outside the file (truncated?)",
				path);
	if (memcmp(d + off, ovup_kelf_xz_magic, sizeof(ovup_kelf_xz_magic)))
		return ovup_err(-ENOTSUP,
				"%s is not compressed with XZ (payload starts "
				"%02x %02x); ovup reads XZ images (Debian's); point "
				"OVUP_VMLINUX at the uncompressed vmlinux",
				path, d[off], d[off + 1]);
	if (ovup_kelf_xz_decode(d + off, len, out, outlen))
		return ovup_err(-EILSEQ, "%s: its XZ payload does not decompress (corrupt?)", path);
	return 0;
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
		if (e->sh[i].sh_type != SHT_NOBITS && e->sh[i].sh_offset + e->sh[i].sh_size > end)
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
	return ovup_symtab_addr(st, name, (long)obj, 0);
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
		return ovup_err(-ENOENT,
				"cannot read %s (%m), the kernel image ovup checks "
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
		if (!ovup_kelf_init(&f->e, f->path, ET_EXEC))
			cache_store(cache, &f->e);
		else
			ovup_err_clear();
	}
	free(cache);
	return 0;
}

int ovup_kvm_open(struct ovup_kfile *f, const struct ovup_symtab *st, uint32_t obj)
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
	ret = ovup_kelf_init(&f->e, f->path, ET_EXEC);
	if (ret)
		return ret;
	for (i = 0; i < f->e.shnum; i++)
		if (!strcmp(kelf_sec_name(&f->e, i), ".text"))
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

int ovup_kvm_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate)
{
	/* a margin on both sides, so that fields straddling the range are
	 * relocated whole */
	uint64_t a = addr - (uint64_t)f->delta - 8;
	const uint8_t *p = vm_at(&f->e, a, len + 16);
	uint8_t tmp[256];

	if (!p || len + 16 > sizeof(tmp))
		return ovup_err(-ENOENT,
				"%s has no code at 0x%" PRIx64 " (0x%" PRIx64 " "
				"before KASLR): not the image of the running kernel?",
				f->path, addr, a + 8);
	memcpy(tmp, p, len + 16);
	if (relocate)
		vm_relocate(f, a, tmp, len + 16);
	memcpy(buf, tmp + 8, len);
	return 0;
}

const char *ovup_kvm_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len)
{
	uint64_t lo = addr - (uint64_t)f->delta, hi = lo + len;
	size_t t;

	for (t = 0; t < ovup_nkrewritten; t++) {
		const struct ovup_krewritten *tb = &ovup_krewritten[t];
		uint64_t b = live_sym(f->st, f->obj, tb->start),
			 e = live_sym(f->st, f->obj, tb->stop), ent;
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
