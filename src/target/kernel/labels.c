// SPDX-License-Identifier: MIT
/*
 * Step 1 for the kernel, labels: every symbol of vmlinux and of each
 * loaded module at its live address, from /proc/kallsyms (or the file
 * OVUP_KALLSYMS names).  kallsyms has no sizes: a function's is the
 * distance to the next text symbol of its object.  Also the one symbol the
 * device needs before any patch, idle_threads.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../../model/symcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *kallsyms_path(void)
{
	return getenv("OVUP_KALLSYMS") ? getenv("OVUP_KALLSYMS") : "/proc/kallsyms";
}

static int kptr_restricted(const char *path)
{
	return ovup_err(-EACCES,
			"kernel: %s shows every address as 0 (kernel.kptr_restrict, "
			"or not root); run ovup as root, with 'sysctl "
			"kernel.kptr_restrict=1' or 0",
			path);
}

/* One line of kallsyms, cut in place. */
struct kline {
	uint64_t addr;
	char type; /* nm's letter: t T w W d D b B r R a A, or another */
	const char *name;
	const char *mod; /* NULL for vmlinux */
};

/* A text symbol, to size functions once every symbol is in. */
struct ktext {
	uint64_t addr;
	uint32_t obj;
	uint32_t sym; /* index in st->syms, or UINT32_MAX for no symbol */
};

/* What reading kallsyms carries from one line to the next. */
struct kread {
	struct ovup_symtab *st;
	struct ktext *kt;
	size_t nkt, cap;
	size_t lines, nonzero; /* well-formed lines, and those with an address */
	uint32_t cur_obj;
	char cur_mod[256];
};

static int ktext_cmp(const void *a, const void *b)
{
	const struct ktext *x = a, *y = b;

	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint32_t object_of(struct ovup_symtab *st, const char *name)
{
	struct ovup_object o = { 0 };
	size_t i;

	for (i = st->nobjs; i-- > 0;)
		if (!strcmp(st->objs[i].name, name))
			return (uint32_t)i;
	o.path = ovup_xstrdup(name);
	o.name = ovup_xstrdup(name);
	o.is_main = !strcmp(name, "vmlinux");
	o.full = 1; /* kallsyms has the static symbols too (KALLSYMS_ALL) */
	o.symsrc = ovup_xstrdup("/proc/kallsyms");
	o.open_path = ovup_xstrdup("/proc/kallsyms");
	return (uint32_t)ovup_symtab_add_object(st, &o);
}

/* "ffffffff8a2105a0 t cmdline_proc_show" or "... t name\t[module]": 0,
 * or -1 for a line of another form. */
static int parse_line(char *p, struct kline *l)
{
	char *mod, *end;

	l->addr = strtoull(p, &p, 16);
	if (*p++ != ' ' || !*p)
		return -1;
	l->type = *p++;
	if (*p++ != ' ')
		return -1;
	l->name = p;
	mod = strchr(p, '\t');
	if (mod) {
		*mod++ = 0;
		if (*mod == '[' && (end = strchr(mod, ']'))) {
			*end = 0;
			mod++;
		}
	}
	l->mod = mod;
	return 0;
}

/* The symbol's type and binding for nm's letter: 0, or -1 for a kind of
 * symbol ovup has no use for. */
static int sym_kind(char type, enum ovup_sym_type *st_type, enum ovup_sym_bind *bind)
{
	*bind = type >= 'a' ? OVUP_BIND_LOCAL : OVUP_BIND_GLOBAL;
	if (type == 't' || type == 'T') {
		*st_type = OVUP_SYM_FUNC;
	} else if (type == 'w' || type == 'W') {
		*st_type = OVUP_SYM_FUNC;
		*bind = OVUP_BIND_WEAK;
	} else if (strchr("dDbBrRaA", type)) {
		*st_type = OVUP_SYM_OBJECT;
	} else {
		return -1;
	}
	return 0;
}

static void add_line(struct kread *r, const struct kline *l)
{
	const char *mod = l->mod ? l->mod : "vmlinux";
	enum ovup_sym_type st_type;
	enum ovup_sym_bind bind;

	r->lines++;
	r->nonzero += l->addr != 0;
	if (strcmp(mod, r->cur_mod)) {
		snprintf(r->cur_mod, sizeof(r->cur_mod), "%s", mod);
		r->cur_obj = object_of(r->st, r->cur_mod);
	}
	if (sym_kind(l->type, &st_type, &bind))
		return;
	/* ovup.ko's names for patch code (func.ovup_patch): never a target
	 * of another patch's references */
	if (l->mod && !strcmp(l->mod, "ovup") && strstr(l->name, ".ovup_"))
		return;
	if (st_type == OVUP_SYM_FUNC) {
		if (r->nkt == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 65536;
			r->kt = ovup_xrealloc(r->kt, r->cap * sizeof(*r->kt));
		}
		r->kt[r->nkt].addr = l->addr;
		r->kt[r->nkt].obj = r->cur_obj;
		r->kt[r->nkt++].sym = (uint32_t)r->st->nsyms;
	}
	/* insertion order (kallsyms order) gives OVUP_SYMPOS its meaning */
	ovup_symtab_add(r->st, r->cur_obj, l->name, l->addr, 0, st_type, bind, NULL);
}

/* Every line of text, split in place; parsed by hand: this runs on
 * 100,000 lines. */
static void read_lines(struct kread *r, char *text)
{
	char *p, *eol;

	for (p = text; *p; p = eol + 1) {
		struct kline l;
		int last;

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		last = !*eol;
		*eol = 0;
		if (!parse_line(p, &l))
			add_line(r, &l);
		if (last)
			break;
	}
}

/* kallsyms lists each object in one block, vmlinux sorted by address,
 * modules not always: sort only the blocks that need it. */
static void sort_texts(struct ktext *kt, size_t nkt)
{
	size_t i;

	for (i = 0; i < nkt;) {
		size_t j = i + 1, sorted = 1;

		for (; j < nkt && kt[j].obj == kt[i].obj; j++)
			sorted &= kt[j - 1].addr <= kt[j].addr;
		if (!sorted)
			qsort(kt + i, j - i, sizeof(*kt), ktext_cmp);
		i = j;
	}
	if (nkt > 1 && kt[0].obj != kt[nkt - 1].obj)
		for (i = 1; i < nkt; i++)
			if (kt[i].obj < kt[i - 1].obj) {
				qsort(kt, nkt, sizeof(*kt),
				      ktext_cmp); /* not in blocks after all */
				break;
			}
}

/* A function ends where the next text symbol of its object begins, as
 * the kernel's own kallsyms lookups assume (kt sorted). */
static void set_sizes(struct ovup_symtab *st, const struct ktext *kt, size_t nkt)
{
	size_t i;

	for (i = 0; i < nkt; i++) {
		size_t j = i + 1;

		while (j < nkt && kt[j].obj == kt[i].obj && kt[j].addr == kt[i].addr)
			j++;
		if (j < nkt && kt[j].obj == kt[i].obj && kt[j].addr - kt[i].addr < (1u << 20))
			st->syms[kt[i].sym].size = kt[j].addr - kt[i].addr;
	}
}

/* ---- this boot's symbols, cached (kcache.c) ---- */

/* The trampolines of ftrace, kprobes and BPF come and go without a module:
 * never cached. */
static int volatile_object(const char *name)
{
	return !strncmp(name, "__builtin__", 11) || !strcmp(name, "bpf");
}

static char *object_key(const char *key, const char *name)
{
	return ovup_xasprintf("%s object %s", key, name);
}

/* The head of kallsyms: its lines up to vmlinux's _text, and it. */
struct khead {
	uint64_t text; /* where _text is now */
	struct kline *l;
	size_t n;
	char *buf; /* the lines, split in place */
};

/* Reads kallsyms up to vmlinux's _text (the per-CPU symbols come first):
 * the kernel prints only what is read, so this costs a few hundred lines
 * of its hundred thousand.  0, or -1. */
static int kallsyms_head(struct khead *h)
{
	size_t len = 0, cap = 0, off = 0;
	int fd = open(kallsyms_path(), O_RDONLY | O_CLOEXEC), ret = -1;

	memset(h, 0, sizeof(*h));
	if (fd < 0)
		return -1;
	h->buf = ovup_xmalloc(cap = 65536);
	for (;;) {
		size_t start = off;
		char *eol;
		ssize_t r;

		while (!(eol = memchr(h->buf + off, '\n', len - off))) {
			if (len + 4096 + 1 > cap) {
				cap *= 2;
				if (cap > (4u << 20))
					goto out; /* no _text near the start: not this kernel's */
				h->buf = ovup_xrealloc(h->buf, cap);
			}
			r = read(fd, h->buf + len, 4096);
			if (r <= 0)
				goto out;
			len += (size_t)r;
		}
		off = (size_t)(eol - h->buf) + 1;
		if (off - start > 7 && !memcmp(eol - 6, " _text", 6))
			break;
	}
	/* split in place: the lines up to and with _text */
	h->buf[off] = 0;
	for (char *p = h->buf, *e; *p; p = e + 1) {
		struct kline l;

		e = strchr(p, '\n');
		*e = 0;
		if (parse_line(p, &l) || l.mod)
			goto out;
		h->l = ovup_xrealloc(h->l, (h->n + 1) * sizeof(*h->l));
		h->l[h->n++] = l;
	}
	h->text = h->n ? h->l[h->n - 1].addr : 0;
	ret = h->text ? 0 : -1;
out:
	close(fd);
	return ret;
}

/* Do the kept symbols of vmlinux, moved by bias, give every address the
 * head of kallsyms shows?  (A cache of another build, or of another
 * layout, fails here.) */
static int head_agrees(const struct khead *h, const struct ovup_symcache *c, uint64_t bias)
{
	size_t i, k, first, n;

	for (i = 0; i < h->n; i++) {
		const struct kline *l = &h->l[i];
		enum ovup_sym_type t;
		enum ovup_sym_bind bind;
		int found = 0;

		if (sym_kind(l->type, &t, &bind))
			continue;
		n = ovup_symcache_find(c, ovup_sym_hash(l->name), &first);
		for (k = first; k < first + n && !found; k++) {
			const struct ovup_symcache_rec *r = ovup_symcache_rec(c, k);
			uint64_t a = ovup_kaddr_moved(r->value, bias);

			found = a == l->addr && !strcmp(ovup_symcache_str(c, r->name), l->name);
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* Where object name is now; vmlinux's from the head of kallsyms. */
static int object_base(const char *name, struct khead *h, uint64_t *base)
{
	if (strcmp(name, "vmlinux"))
		return ovup_kcache_module_addr(name, base);
	if (!h->text && kallsyms_head(h))
		return -1;
	*base = h->text;
	return 0;
}

/* From the cache: "objs" lists the key, then the objects in kallsyms
 * order, each with where it was then ("NAME ADDRESS"); each one's symbols
 * are in its own file.  An object that has moved since (another boot, a
 * module loaded again) gets its symbols moved with it.  0, or -1 (nothing
 * added) when one is missing, of another key, or disagrees with kallsyms. */
static int labels_cached(struct ovup_symtab *st)
{
	const char *key = ovup_kcache_key(), *dir = ovup_symcache_dir();
	char *objs = ovup_kcache_name("objs"), *text = NULL, *line, *save = NULL, *path = NULL;
	struct ovup_symcache **c = NULL;
	struct khead h = { 0 };
	char **names = NULL;
	uint64_t *bias = NULL;
	size_t n = 0, i, moved = 0;
	int ret = -1;

	if (!objs)
		goto out;
	path = ovup_xasprintf("%s/%s", dir, objs);
	text = ovup_read_file(path, NULL);
	if (!text)
		goto out;
	line = strtok_r(text, "\n", &save);
	if (!line || strcmp(line, key))
		goto out;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char what[32], *file, *okey, *sp = strrchr(line, ' ');
		uint64_t was, now;

		if (!sp)
			goto out;
		*sp = 0;
		was = strtoull(sp + 1, NULL, 16);
		if (object_base(line, &h, &now))
			goto out;
		snprintf(what, sizeof(what), "obj-%zu", n);
		file = ovup_kcache_name(what);
		okey = object_key(key, line);
		c = ovup_xrealloc(c, (n + 1) * sizeof(*c));
		names = ovup_xrealloc(names, (n + 1) * sizeof(*names));
		bias = ovup_xrealloc(bias, (n + 1) * sizeof(*bias));
		c[n] = ovup_symcache_load(dir, file, okey);
		names[n] = line;
		bias[n++] = now - was;
		moved += now != was;
		free(file);
		free(okey);
		if (!c[n - 1])
			goto out;
		if (!strcmp(line, "vmlinux") && !head_agrees(&h, c[n - 1], now - was)) {
			ovup_info("kernel: the kept symbols disagree with %s; reading it",
				  kallsyms_path());
			goto out;
		}
	}
	if (!n)
		goto out;
	for (i = 0; i < n; i++) {
		uint32_t obj = object_of(st, names[i]);

		st->objs[obj].bias = bias[i];
		st->objs[obj].bias_high_only = 1;
		ovup_symtab_add_cache(st, obj, c[i]);
		c[i] = NULL;
	}
	ovup_symtab_finish(st);
	ovup_info("kernel: symbols from the cache (%zu objects, %zu moved since)", n, moved);
	ret = 0;
out:
	for (i = 0; i < n; i++)
		ovup_symcache_free(c[i]);
	free(c);
	free(names);
	free(bias);
	free(text);
	free(path);
	free(objs);
	free(h.l);
	free(h.buf);
	return ret;
}

/* Keeps every object's symbols but the trampolines', with where each
 * object is, for later runs and boots, and removes those of other keys.
 * Best effort. */
static void labels_store(const struct ovup_symtab *st)
{
	const char *key = ovup_kcache_key(), *dir = ovup_symcache_dir();
	char *objs = ovup_kcache_name("objs"), *path;
	struct ovup_buf b = { 0 };
	size_t i, n = 0;

	if (!objs)
		return;
	ovup_kcache_prune();
	ovup_buf_printf(&b, "%s\n", key);
	for (i = 0; i < st->nobjs; i++) {
		struct ovup_symcache *c;
		char what[32], *file, *okey;
		uint64_t base = 0;

		if (volatile_object(st->objs[i].name))
			continue;
		if (!strcmp(st->objs[i].name, "vmlinux"))
			base = ovup_symtab_addr(st, "_text", (long)i, 0);
		else if (ovup_kcache_module_addr(st->objs[i].name, &base))
			base = 0;
		if (!base) {
			n = 0; /* an object ovup cannot place: nothing is kept */
			break;
		}
		snprintf(what, sizeof(what), "obj-%zu", n++);
		file = ovup_kcache_name(what);
		okey = object_key(key, st->objs[i].name);
		c = ovup_symcache_build(st, (uint32_t)i, okey);
		if (ovup_symcache_save(c, dir, file))
			n = 0; /* no list: nothing of it is read */
		ovup_symcache_free(c);
		free(file);
		free(okey);
		if (!n)
			break;
		ovup_buf_printf(&b, "%s %" PRIx64 "\n", st->objs[i].name, base);
	}
	path = ovup_xasprintf("%s/%s", dir, objs);
	if (n && ovup_write_file_atomic(path, b.s, b.len))
		ovup_info("kernel: cannot keep the kernel's symbols in %s", path);
	free(path);
	free(objs);
	ovup_buf_free(&b);
}

int ovup_kern_labels(struct ovup_target *t, struct ovup_symtab *st)
{
	const char *path = kallsyms_path();
	struct kread r = { .st = st, .cur_mod = "vmlinux" };
	char *text;

	(void)t;
	st->statics_shared = 1; /* as kpatch and livepatch resolve them */
	if (!labels_cached(st))
		return 0;
	text = ovup_read_file(path, NULL);
	if (!text)
		return ovup_err(-errno, "kernel: cannot read %s: %m", path);
	object_of(st, "vmlinux");
	read_lines(&r, text);
	free(text);
	if (r.lines && !r.nonzero) {
		free(r.kt);
		return kptr_restricted(path);
	}
	sort_texts(r.kt, r.nkt);
	set_sizes(st, r.kt, r.nkt);
	free(r.kt);
	ovup_symtab_finish(st);
	labels_store(st);
	return 0;
}

/* The address of the per-CPU variable idle_threads in kallsyms: the only
 * way to the idle tasks, which are on no task list. */
int ovup_kern_idle_threads(uint64_t *addr)
{
	const char *path = kallsyms_path();
	FILE *f = fopen(path, "r");
	char line[512];
	int found = 0;

	*addr = 0;
	if (!f)
		return ovup_err(-errno, "kernel: cannot read %s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		/* "0000000000020178 A idle_threads": vmlinux's, no [module]
		 * (per-CPU symbols are absolute offsets) */
		if (sp && sp[1] && strchr("AdDbB", sp[1]) && !strcmp(sp + 2, " idle_threads\n")) {
			*addr = strtoull(line, NULL, 16);
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return ovup_err(-ENOENT,
				"kernel: %s has no symbol idle_threads, which ovup needs "
				"to find the idle tasks; is it the running kernel's?",
				path);
	if (!*addr)
		return kptr_restricted(path);
	return 0;
}
