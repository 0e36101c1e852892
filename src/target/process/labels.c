// SPDX-License-Identifier: MIT
/*
 * Step "labels" for a process: every ELF object it maps, at its load bias,
 * with the symbols of its .symtab, of its separate debug file (build-id,
 * debuglink or debuginfod: debuginfo.c), or else of its .dynsym; and what
 * else the object files tell of a symbol (the callers it was inlined into,
 * an ifunc's choice).
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../elf/elf.h"
#include "../../model/symcache.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct label_ctx {
	struct ovup_symtab *st;
	uint32_t obj;
	uint64_t bias;
};

static void add_sym(void *arg, const struct ovup_elf_sym *s)
{
	struct label_ctx *c = arg;
	/* a thread-local variable's value is its offset in the object's TLS
	 * block, the same in every thread: no load address to add */
	uint64_t addr = s->type == OVUP_SYM_TLS ? s->value : s->value + c->bias;

	struct ovup_sym *sym = ovup_symtab_add(c->st, c->obj, s->name, addr, s->size, s->type,
					       s->bind, s->file);

	sym->vis = s->vis;
	sym->version = s->version ? ovup_symtab_intern(c->st, s->version) : NULL;
}

static void add_self_import(void *arg, const char *name)
{
	struct label_ctx *c = arg;

	ovup_symtab_add_self_import(c->st, c->obj, name);
}

/* What every object is compared with: the main program's path, and the
 * dynamic loader's base from the auxiliary vector (0 if unknown). */
struct label_proc {
	char exe[4096];
	uint64_t at_base;
};

static void read_label_proc(struct proc_target *p, struct label_proc *lp)
{
	char path[128];
	size_t alen, i;
	char *auxv;
	uint64_t *a;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
	len = readlink(path, lp->exe, sizeof(lp->exe) - 1);
	lp->exe[len > 0 ? len : 0] = 0;
	lp->at_base = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	auxv = ovup_read_file(path, &alen);
	a = (uint64_t *)auxv;
	for (i = 0; auxv && (i + 1) * 16 <= alen; i++)
		if (a[2 * i] == AT_BASE)
			lp->at_base = a[2 * i + 1];
	free(auxv);
}

static int same_file(const struct ovup_map *a, const struct ovup_map *b)
{
	return a->inode == b->inode && !strcmp(a->path, b->path);
}

/* Opens the file of mapping m, in o->open_path: map_files opens the very
 * file mapped, even if the path was replaced by an upgrade since the
 * process started.  The fd of an ELF object with segments to load (its
 * headers in *info), or -1. */
static int open_mapped(struct proc_target *p, const struct ovup_map *m, struct ovup_object *o,
		       struct ovup_elf_info *info)
{
	int fd;

	o->open_path = ovup_xasprintf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64, p->pid, m->start,
				      m->end);
	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(o->open_path);
		o->open_path = ovup_xasprintf("/proc/%d/root%s", p->pid, m->path);
		fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || ovup_elf_info(fd, info) || !info->nload) {
		if (fd >= 0)
			close(fd);
		free(o->open_path);
		return -1;
	}
	return fd;
}

/* The load bias: where the segment holding the first mapping's offset was
 * put, less where the file asked for it. */
static uint64_t load_bias(const struct ovup_map *m, const struct ovup_elf_info *info)
{
	size_t k;

	for (k = 0; k < info->nload; k++) {
		const struct ovup_elf_load *l = &info->load[k];
		uint64_t seg_off = OVUP_ALIGN_DOWN(l->offset, 4096);

		if (m->offset >= seg_off && m->offset < l->offset + l->filesz + 4096)
			return m->start - (OVUP_ALIGN_DOWN(l->vaddr, 4096) + (m->offset - seg_off));
	}
	return 0;
}

/* Fills o for the object first mapped at m[i]: its name as the maps show
 * it (without " (deleted)"), the range of all its mappings, bias, build-id
 * and whether it is the main program or the dynamic loader. */
static void describe_object(const struct ovup_map *m, size_t n, size_t i,
			    const struct ovup_elf_info *info, const struct label_proc *lp,
			    struct ovup_object *o)
{
	char *shown = ovup_xstrdup(m[i].path);
	size_t j;

	if (strlen(shown) > 10 && !strcmp(shown + strlen(shown) - 10, " (deleted)"))
		shown[strlen(shown) - 10] = 0;
	o->path = shown;
	o->name = ovup_xstrdup(ovup_basename(shown));
	o->lo = m[i].start;
	for (j = i; j < n; j++)
		if (same_file(&m[j], &m[i]))
			o->hi = m[j].end;
	o->bias = load_bias(&m[i], info);
	memcpy(o->build_id, info->build_id, info->build_id_len);
	o->build_id_len = info->build_id_len;
	o->is_main = !strcmp(shown, lp->exe);
	o->is_loader = lp->at_base && m[i].start == lp->at_base;
}

/* What an object's symbols are read from, and the key of their cache:
 * the object (build-id and file), and the file read (the object itself,
 * or its debug file) with the kind of table.  Another debug file, one
 * installed since, or the object replaced under the same path, make
 * another key. */
static char *cache_key(int fd, int srcfd, const char *kind, const struct ovup_elf_info *info)
{
	char id[2 * OVUP_BUILD_ID_MAX + 1];
	struct stat a, b;

	if (fstat(fd, &a) || fstat(srcfd, &b))
		return NULL;
	ovup_hex(id, info->build_id, info->build_id_len);
	return ovup_xasprintf("object %s %llx:%llu:%lld:%lld.%09ld source %s %llx:%llu:%lld:"
			      "%lld.%09ld",
			      id, (unsigned long long)a.st_dev, (unsigned long long)a.st_ino,
			      (long long)a.st_size, (long long)a.st_mtim.tv_sec, a.st_mtim.tv_nsec,
			      kind, (unsigned long long)b.st_dev, (unsigned long long)b.st_ino,
			      (long long)b.st_size, (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
}

/* Every symbol of the object, read from srcfd (its .symtab or its debug
 * file's, with its .dynsym, or .dynsym alone), finished in a table of
 * its own and put in a cache for key. */
static struct ovup_symcache *read_symbols(int fd, int srcfd, int full, const char *key)
{
	struct ovup_symtab one = { 0 };
	struct ovup_object o = { 0 };
	struct label_ctx c = { .st = &one };
	struct ovup_symcache *cache;

	c.obj = (uint32_t)ovup_symtab_add_object(&one, &o);
	ovup_elf_symbols(srcfd, !full, add_sym, &c);
	/* .dynsym too: its version table names a copy-relocated variable
	 * "optarg" where the executable's .symtab says "optarg@GLIBC_2.2.5"
	 * (ld writes the version it needs); same-named copies merge */
	if (full)
		ovup_elf_symbols(fd, 1, add_sym, &c);
	ovup_elf_self_imports(fd, add_self_import, &c);
	ovup_symtab_finish(&one);
	cache = ovup_symcache_build(&one, c.obj, key ? key : "");
	ovup_symtab_free(&one);
	return cache;
}

/* Adds the object and its symbols: .symtab if it has one, else its debug
 * file's (debuginfo.c), else .dynsym with a hint of the debug file that
 * would help and, if debuginfod was asked, what came of it.  They come
 * from the object's cache when it was made from the same files; only
 * the names the table wants are added (symtab.c keeps the cache for the
 * rest). */
static void add_object(struct ovup_symtab *st, struct proc_debug *d, struct ovup_object *o, int fd,
		       const struct ovup_elf_info *info)
{
	char *dbg = NULL, *hint = NULL, *note = NULL, *key, *file = NULL;
	const char *dir = ovup_symcache_dir(), *kind;
	struct ovup_symcache *cache = NULL;
	int srcfd = fd, dfd = -1;
	uint32_t obj;

	if (info->has_symtab) {
		o->full = 1;
		o->symsrc = ovup_xstrdup(".symtab");
		kind = "symtab";
	} else if ((dfd = ovup_proc_debug_open(d, o->name, o->path, info, &dbg, &hint, &note)) >=
		   0) {
		o->full = 1;
		o->symsrc = dbg;
		free(hint);
		srcfd = dfd;
		kind = "debug";
	} else {
		o->symsrc = ovup_xstrdup(".dynsym");
		o->debug_hint = hint;
		o->debuginfod = note;
		kind = "dynsym";
	}
	obj = (uint32_t)ovup_symtab_add_object(st, o);
	key = cache_key(fd, srcfd, kind, info);
	/* only an object with a build-id has a cache file: it names it */
	if (dir && key && info->build_id_len) {
		char id[2 * OVUP_BUILD_ID_MAX + 1];

		ovup_hex(id, info->build_id, info->build_id_len);
		file = ovup_xasprintf("%s-%016llx", id, (unsigned long long)ovup_sym_hash(key));
		cache = ovup_symcache_load(dir, file, key);
	}
	if (!cache) {
		int ret;

		cache = read_symbols(fd, srcfd, o->full, key);
		if (file && (ret = ovup_symcache_save(cache, dir, file)))
			ovup_info("symbol cache %s/%s: cannot write it: %s", dir, file,
				  strerror(-ret));
	}
	ovup_symtab_add_cache(st, obj, cache);
	if (dfd >= 0)
		close(dfd);
	free(file);
	free(key);
}

/* Each object's place in the loader's own list, which is the order it
 * searches for a global definition (the maps' address order is not). */
static void search_order(struct proc_target *p, struct ovup_symtab *st)
{
	struct ovup_linkmap *lm;
	size_t n, i;

	if (ovup_proc_link_maps(p, 0, &lm, &n)) {
		ovup_err_clear(); /* a static program: table order it is */
		return;
	}
	for (i = 0; i < st->nobjs; i++) {
		const struct ovup_linkmap *e = ovup_linkmap_find(lm, n, &st->objs[i]);

		if (e)
			st->objs[i].order = (unsigned)(e - lm) + 1;
	}
	ovup_linkmaps_free(lm, n);
}

int ovup_proc_labels(struct ovup_target *t, struct ovup_symtab *st)
{
	struct proc_target *p = ovup_to_proc(t);
	struct label_proc lp;
	struct proc_debug *d;
	struct ovup_map *m;
	size_t n, i, j;
	int ret;

	read_label_proc(p, &lp);
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	d = ovup_proc_debug_begin();
	for (i = 0; i < n; i++) {
		struct ovup_object o = { 0 };
		struct ovup_elf_info info;
		int fd;

		if (m[i].path[0] != '/')
			continue;
		/* one object per file, seen at its first mapping */
		for (j = 0; j < i && !same_file(&m[j], &m[i]); j++)
			;
		if (j < i)
			continue;
		fd = open_mapped(p, &m[i], &o, &info);
		if (fd < 0)
			continue;
		describe_object(m, n, i, &info, &lp, &o);
		add_object(st, d, &o, fd, &info);
		close(fd);
	}
	ovup_proc_debug_end(d);
	ovup_maps_free(m, n);
	search_order(p, st);
	ovup_symtab_finish(st);
	return 0;
}

int ovup_proc_inlined(struct ovup_target *t, const struct ovup_symtab *st, const struct ovup_sym *s,
		      char ***callers, size_t *n)
{
	const struct ovup_object *o = &st->objs[s->obj];
	const char *dwarf;

	(void)t;
	*callers = NULL;
	*n = 0;
	if (!o->full)
		return -ENOENT;
	/* the file the symbols came from: the object itself or its
	 * separate debuginfo */
	dwarf = strcmp(o->symsrc, ".symtab") ? o->symsrc : o->open_path;
	return ovup_dwarf_inlined_callers(dwarf, s->addr - o->bias, s->name, callers, n);
}

/* Another object's GOT slot for the IFUNC, already bound: the dynamic
 * linker stored the implementation it selected there. */
static int bound_import(struct ovup_target *t, const struct ovup_symtab *st,
			const struct ovup_sym *s, uint64_t *impl)
{
	const struct ovup_object *def = &st->objs[s->obj];
	size_t i;

	for (i = 0; i < st->nobjs; i++) {
		const struct ovup_object *o = &st->objs[i];
		uint64_t slot, v;
		int fd, ret;

		if (i == s->obj || (fd = open(o->open_path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		ret = ovup_elf_import_slot(fd, s->name, s->version, &slot);
		close(fd);
		if (ret || ovup_proc_read(t, slot + o->bias, &v, sizeof(v)))
			continue;
		/* a lazy slot still points into its own object's PLT */
		if (v >= def->lo && v < def->hi && v != s->addr) {
			*impl = v;
			return 0;
		}
	}
	return -ENOENT;
}

int ovup_proc_resolve_ifunc(struct ovup_target *t, const struct ovup_symtab *st,
			    const struct ovup_sym *s, uint64_t *impl)
{
	const struct ovup_object *o = &st->objs[s->obj];
	uint64_t slot;
	int fd, ret;

	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* the loader stored the resolver's choice in the object's own GOT
	 * slot for its internal calls, or else in a caller's */
	ret = ovup_elf_irelative_slot(fd, s->addr - o->bias, &slot);
	close(fd);
	if (ret)
		return bound_import(t, st, s, impl);
	return ovup_proc_read(t, slot + o->bias, impl, sizeof(*impl));
}

int ovup_file_labels(const char *path, struct ovup_symtab *st)
{
	struct ovup_object o = { 0 };
	struct ovup_elf_info info;
	struct proc_debug *d;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ovup_err(-errno, "%s: %m; give the program or library the patch is for",
				path);
	if (ovup_elf_info(fd, &info) || !info.nload) {
		close(fd);
		return ovup_err(-EINVAL,
				"%s: not an ELF program or library; give the file the patch is "
				"for (--object)",
				path);
	}
	/* the path processes map it under */
	o.path = realpath(path, NULL);
	if (!o.path)
		o.path = ovup_xstrdup(path);
	o.name = ovup_xstrdup(ovup_basename(path));
	o.open_path = ovup_xstrdup(path);
	o.is_main = 1;
	memcpy(o.build_id, info.build_id, info.build_id_len);
	o.build_id_len = info.build_id_len;
	d = ovup_proc_debug_begin();
	add_object(st, d, &o, fd, &info);
	ovup_proc_debug_end(d);
	close(fd);
	ovup_symtab_finish(st);
	return 0;
}
