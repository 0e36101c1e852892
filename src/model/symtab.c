// SPDX-License-Identifier: MIT
/*
 * The symbol table of a target and the rules that turn a name from a patch
 * into one address: selectors first, then the patched object's own local
 * symbols, then global definitions in the dynamic linker's search order,
 * then a unique local anywhere.  Ambiguity is never resolved by guessing.
 */
#define _GNU_SOURCE
#include "symtab.h"
#include "symcache.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (256u << 10)

struct ovup_sym_extra {
	struct ovup_sym **syms;
	size_t n;
};

/* Strings live in large chunks: a kernel has ~100,000 symbols, and one
 * malloc each is most of the time of reading them. */
const char *ovup_symtab_intern(struct ovup_symtab *st, const char *s)
{
	size_t len;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	if (!st->npool || st->chunk_used + len > st->chunk_size) {
		/* a new chunk; what is left of the old one stays unused */
		if (st->npool == st->poolcap) {
			st->poolcap = st->poolcap ? st->poolcap * 2 : 64;
			st->pool = ovup_xrealloc(st->pool, st->poolcap * sizeof(*st->pool));
		}
		st->chunk_size = OVUP_MAX(CHUNK, len);
		st->pool[st->npool++] = ovup_xmalloc(st->chunk_size);
		st->chunk_used = 0;
	}
	out = st->pool[st->npool - 1] + st->chunk_used;
	memcpy(out, s, len);
	st->chunk_used += len;
	return out;
}

size_t ovup_symtab_add_object(struct ovup_symtab *st, const struct ovup_object *o)
{
	st->objs = ovup_xrealloc(st->objs, (st->nobjs + 1) * sizeof(*st->objs));
	st->objs[st->nobjs] = *o;
	return st->nobjs++;
}

uint64_t ovup_sym_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void ovup_symtab_add_self_import(struct ovup_symtab *st, uint32_t obj, const char *name)
{
	struct ovup_object *o = &st->objs[obj];

	o->self_imports = ovup_xrealloc(o->self_imports,
					(o->nself_imports + 1) * sizeof(*o->self_imports));
	o->self_imports[o->nself_imports++] = ovup_sym_hash(name);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether o calls its own definition of name through the PLT or GOT
 * (a hash collision can only make a definition look interposable). */
static int self_imported(const struct ovup_object *o, const char *name)
{
	uint64_t h = ovup_sym_hash(name);

	return o->nself_imports &&
	       bsearch(&h, o->self_imports, o->nself_imports, sizeof(h), u64_cmp);
}

struct ovup_sym *ovup_symtab_add(struct ovup_symtab *st, uint32_t obj, const char *name,
				 uint64_t addr, uint64_t size, enum ovup_sym_type type,
				 enum ovup_sym_bind bind, const char *file)
{
	struct ovup_sym *s;

	if (st->nsyms == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4096;
		st->syms = ovup_xrealloc(st->syms, st->cap * sizeof(*st->syms));
	}
	s = &st->syms[st->nsyms];
	s->name = ovup_symtab_intern(st, name);
	s->hash = ovup_sym_hash(name);
	s->addr = addr;
	s->size = size;
	s->type = type;
	s->bind = bind;
	s->vis = OVUP_VIS_DEFAULT;
	s->obj = obj;
	s->pos = 0;
	s->seq = (uint32_t)st->nsyms;
	s->file = file ? ovup_symtab_intern(st, file) : NULL;
	s->version = NULL;
	st->nsyms++;
	st->sorted = 0;
	return s;
}

void ovup_symtab_want(struct ovup_symtab *st, const char *name)
{
	if (st->nwant == st->wantcap) {
		st->wantcap = st->wantcap ? st->wantcap * 2 : 64;
		st->want = ovup_xrealloc(st->want, st->wantcap * sizeof(*st->want));
	}
	st->want[st->nwant++] = ovup_sym_hash(name);
	st->want_sorted = 0;
}

int ovup_symtab_wanted(struct ovup_symtab *st, uint64_t hash)
{
	if (!st->nwant)
		return 1;
	if (!st->want_sorted) {
		qsort(st->want, st->nwant, sizeof(*st->want), u64_cmp);
		st->want_sorted = 1;
	}
	return bsearch(&hash, st->want, st->nwant, sizeof(hash), u64_cmp) != NULL;
}

/* A record as this version writes them (another is skipped). */
static int rec_ok(const struct ovup_symcache_rec *r)
{
	return r->type >= OVUP_SYM_FUNC && r->type <= OVUP_SYM_TLS && r->bind >= OVUP_BIND_LOCAL &&
	       r->bind <= OVUP_BIND_WEAK && r->vis <= OVUP_VIS_PROTECTED;
}

/* The address of record r of object obj's cache. */
static uint64_t rec_addr(const struct ovup_symtab *st, uint32_t obj,
			 const struct ovup_symcache_rec *r)
{
	const struct ovup_object *o = &st->objs[obj];

	/* a thread-local variable's value is its offset: no bias to add */
	if (r->type == OVUP_SYM_TLS)
		return r->value;
	return o->bias_high_only ? ovup_kaddr_moved(r->value, o->bias) : r->value + o->bias;
}

static void add_rec(struct ovup_symtab *st, uint32_t obj, const struct ovup_symcache *c,
		    const struct ovup_symcache_rec *r)
{
	struct ovup_sym *s;

	if (!rec_ok(r))
		return;
	s = ovup_symtab_add(st, obj, ovup_symcache_str(c, r->name), rec_addr(st, obj, r), r->size,
			    r->type, r->bind, ovup_symcache_str(c, r->file));

	s->vis = r->vis;
	s->version = r->version == OVUP_SYMCACHE_NONE
			     ? NULL
			     : ovup_symtab_intern(st, ovup_symcache_str(c, r->version));
}

void ovup_symtab_add_cache(struct ovup_symtab *st, uint32_t obj, struct ovup_symcache *c)
{
	struct ovup_object *o = &st->objs[obj];
	const uint64_t *imp;
	size_t i, k, n, first;

	if (st->nwant) {
		if (!st->want_sorted)
			ovup_symtab_wanted(st, 0);
		for (i = 0; i < st->nwant; i++) {
			if (i && st->want[i] == st->want[i - 1])
				continue;
			n = ovup_symcache_find(c, st->want[i], &first);
			for (k = first; k < first + n; k++)
				add_rec(st, obj, c, ovup_symcache_rec(c, k));
		}
	} else {
		for (i = 0; i < ovup_symcache_count(c); i++)
			add_rec(st, obj, c, ovup_symcache_rec(c, i));
	}
	imp = ovup_symcache_imports(c, &n);
	o->self_imports = ovup_xrealloc(o->self_imports,
					(o->nself_imports + n + 1) * sizeof(*o->self_imports));
	memcpy(o->self_imports + o->nself_imports, imp, n * sizeof(*imp));
	o->nself_imports += n;
	if (!st->nwant) {
		/* every symbol is in the table */
		ovup_symcache_free(c);
		return;
	}
	if (st->ncaches <= obj) {
		st->caches = ovup_xrealloc(st->caches, (obj + 1) * sizeof(*st->caches));
		memset(st->caches + st->ncaches, 0, (obj + 1 - st->ncaches) * sizeof(*st->caches));
		st->ncaches = obj + 1;
	}
	ovup_symcache_free(st->caches[obj]);
	st->caches[obj] = c;
	if (!st->extra)
		st->extra = ovup_xcalloc(1, sizeof(*st->extra));
}

uint64_t ovup_symtab_addr(const struct ovup_symtab *st, const char *name, long obj, int globals)
{
	uint64_t h = ovup_sym_hash(name), best = 0;
	uint32_t best_obj = UINT32_MAX;
	size_t first, n, i, k;

	/* the table: sorted by name, then object and insertion */
	ovup_symtab_lookup(st, name, &first, &n);
	for (i = first; i < first + n; i++) {
		const struct ovup_sym *s = &st->syms[i];

		if (s->addr && (obj < 0 || s->obj == (uint32_t)obj) &&
		    (!globals || s->bind != OVUP_BIND_LOCAL)) {
			best = s->addr;
			best_obj = s->obj;
			break;
		}
	}
	/* an object before it whose symbols of that name are in its cache
	 * only (its wanted ones are in the table too, and the same) */
	for (k = 0; k < st->ncaches && k < best_obj; k++) {
		const struct ovup_symcache *c = st->caches[k];

		if (!c || (obj >= 0 && k != (size_t)obj))
			continue;
		n = ovup_symcache_find(c, h, &first);
		for (i = first; i < first + n; i++) {
			const struct ovup_symcache_rec *r = ovup_symcache_rec(c, i);
			uint64_t a = rec_addr(st, (uint32_t)k, r);

			if (rec_ok(r) && a && !strcmp(ovup_symcache_str(c, r->name), name) &&
			    (!globals || r->bind != OVUP_BIND_LOCAL))
				return a;
		}
	}
	return best;
}

size_t ovup_symtab_total(const struct ovup_symtab *st)
{
	size_t i, n = st->nsyms;

	for (i = 0; i < st->ncaches; i++)
		n += st->caches[i] ? ovup_symcache_count(st->caches[i]) : 0;
	return n;
}

/* By hash first: integer compares instead of ~2 million strcmp calls on a
 * kernel's 100,000 symbols; equal names stay adjacent, in insertion order
 * per object (which OVUP_SYMPOS counts). */
static int sym_cmp(const void *a, const void *b)
{
	const struct ovup_sym *x = a, *y = b;
	int c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct key {
	uint64_t hash;
	uint32_t idx;
};

/* Stable LSD radix sort of the keys by hash, 16 bits a pass. */
static void radix_sort(struct key *k, size_t n)
{
	struct key *tmp = ovup_xmalloc(n * sizeof(*tmp)), *src = k, *dst = tmp, *swap;
	size_t *count = ovup_xmalloc(65536 * sizeof(*count)), i;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 16) {
		size_t sum = 0;

		memset(count, 0, 65536 * sizeof(*count));
		for (i = 0; i < n; i++)
			count[(src[i].hash >> shift) & 0xffff]++;
		for (i = 0; i < 65536; i++) {
			size_t c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].hash >> shift) & 0xffff]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	/* four passes: the result is back in k */
	free(tmp);
	free(count);
}

/* Sorts small keys in linear time, not the symbols themselves (qsort
 * moving 64-byte records was most of the time), then settles the rare
 * runs of equal hashes with the full comparison. */
static void sort_syms(struct ovup_symtab *st)
{
	struct key *k;
	struct ovup_sym *sorted;
	size_t i, j;

	if (st->nsyms < 2048) {
		/* the few names a patch uses: the radix sort's tables would
		 * cost more than they save */
		if (st->nsyms > 1)
			qsort(st->syms, st->nsyms, sizeof(*st->syms), sym_cmp);
		return;
	}
	k = ovup_xmalloc(st->nsyms * sizeof(*k));
	sorted = ovup_xmalloc(st->nsyms * sizeof(*sorted));

	for (i = 0; i < st->nsyms; i++)
		k[i] = (struct key){ st->syms[i].hash, (uint32_t)i };
	radix_sort(k, st->nsyms);
	for (i = 0; i < st->nsyms; i++)
		sorted[i] = st->syms[k[i].idx];
	for (i = 0; i < st->nsyms; i = j) {
		for (j = i + 1; j < st->nsyms && sorted[j].hash == sorted[i].hash; j++)
			;
		if (j - i > 1)
			qsort(sorted + i, j - i, sizeof(*sorted), sym_cmp);
	}
	free(k);
	free(st->syms);
	st->syms = sorted;
	st->cap = st->nsyms;
}

void ovup_symtab_finish(struct ovup_symtab *st)
{
	size_t i, out = 0;

	sort_syms(st);
	for (i = 0; i < st->nsyms; i++) {
		struct ovup_sym *s = &st->syms[i];
		struct ovup_sym *prev = out ? &st->syms[out - 1] : NULL;

		/* the same symbol listed twice by one object (a local alias,
		 * memcpy and memcpy@@GLIBC_2.14) is one symbol, as global as
		 * the most global of them */
		if (prev && !strcmp(prev->name, s->name) && prev->obj == s->obj &&
		    prev->addr == s->addr) {
			if (prev->bind == OVUP_BIND_LOCAL && s->bind != OVUP_BIND_LOCAL) {
				prev->bind = s->bind;
				prev->vis = s->vis;
				prev->file = NULL;
			}
			if (!prev->version)
				prev->version = s->version;
			continue;
		}
		if (prev && !strcmp(prev->name, s->name) && prev->obj == s->obj)
			s->pos = prev->pos + 1;
		else
			s->pos = 1;
		st->syms[out++] = *s;
	}
	st->nsyms = out;
	st->sorted = 1;
	for (i = 0; i < st->nobjs; i++)
		if (st->objs[i].nself_imports)
			qsort(st->objs[i].self_imports, st->objs[i].nself_imports, sizeof(uint64_t),
			      u64_cmp);
}

void ovup_symtab_free(struct ovup_symtab *st)
{
	size_t i;

	for (i = 0; i < st->npool; i++)
		free(st->pool[i]);
	for (i = 0; i < st->nobjs; i++) {
		free(st->objs[i].path);
		free(st->objs[i].name);
		free(st->objs[i].symsrc);
		free(st->objs[i].debug_hint);
		free(st->objs[i].debuginfod);
		free(st->objs[i].open_path);
		free(st->objs[i].self_imports);
	}
	for (i = 0; i < st->ncaches; i++)
		ovup_symcache_free(st->caches[i]);
	for (i = 0; st->extra && i < st->extra->n; i++)
		free(st->extra->syms[i]);
	if (st->extra)
		free(st->extra->syms);
	free(st->extra);
	free(st->caches);
	free(st->want);
	free(st->pool);
	free(st->objs);
	free(st->syms);
	memset(st, 0, sizeof(*st));
}

void ovup_symtab_lookup(const struct ovup_symtab *st, const char *name, size_t *first, size_t *n)
{
	uint64_t h = ovup_sym_hash(name);
	size_t lo = 0, hi = st->nsyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ovup_sym *s = &st->syms[mid];

		if (s->hash < h || (s->hash == h && strcmp(s->name, name) < 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < st->nsyms && st->syms[hi].hash == h && !strcmp(st->syms[hi].name, name))
		hi++;
	*n = hi - lo;
}

/* "libc.so.6" matches /usr/lib/x86_64-linux-gnu/libc.so.6; a path
 * suffix must start at a '/' boundary. */
static int suffix_match(const char *full, const char *want)
{
	size_t lf, lw;

	if (!full || !want)
		return 0;
	lf = strlen(full);
	lw = strlen(want);
	if (lw > lf)
		return 0;
	if (strcmp(full + lf - lw, want))
		return 0;
	return lw == lf || full[lf - lw - 1] == '/' || want[0] == '/';
}

int ovup_selector_match(const struct ovup_symtab *st, const struct ovup_sym *s,
			const struct ovup_selector *sel)
{
	const struct ovup_object *o = &st->objs[s->obj];

	if (sel->object && !suffix_match(o->path, sel->object) && strcmp(o->name, sel->object))
		return 0;
	if (sel->file && !suffix_match(s->file, sel->file))
		return 0;
	if (sel->pos && s->pos != sel->pos)
		return 0;
	return 1;
}

void ovup_sym_describe(const struct ovup_symtab *st, const struct ovup_sym *s, char *buf,
		       size_t len)
{
	const struct ovup_object *o = &st->objs[s->obj];

	snprintf(buf, len, "%s%s%s#%u (%s, 0x%llx)", o->name, s->file ? ":" : "",
		 s->file ? s->file : "", s->pos, s->bind == OVUP_BIND_LOCAL ? "static" : "global",
		 (unsigned long long)s->addr);
}

static int is_code(const struct ovup_sym *s)
{
	return s->type == OVUP_SYM_FUNC || s->type == OVUP_SYM_IFUNC;
}

/* The global symbol a near selector names, if exactly one object has
 * it (in the selector's object, if it names one). */
static const struct ovup_sym *near_anchor(const struct ovup_symtab *st,
					  const struct ovup_selector *sel)
{
	const struct ovup_sym *found = NULL;
	size_t first, n, i;

	ovup_symtab_lookup(st, sel->near, &first, &n);
	for (i = first; i < first + n; i++) {
		const struct ovup_sym *s = &st->syms[i];
		const struct ovup_object *o = &st->objs[s->obj];

		if (s->bind == OVUP_BIND_LOCAL ||
		    (sel->object && !suffix_match(o->path, sel->object) &&
		     strcmp(o->name, sel->object)))
			continue;
		if (found && found->addr != s->addr)
			return NULL;
		found = s;
	}
	return found;
}

/* Distinct addresses among the matches: aliases (one function, two names
 * or two symbol tables) are not an ambiguity. */
static size_t collect(const struct ovup_symtab *st, const struct ovup_selector *sel,
		      int (*ok)(const struct ovup_symtab *, const struct ovup_sym *, long),
		      long arg, const struct ovup_sym **out, size_t max)
{
	size_t first, n, i, k, cnt = 0;

	const struct ovup_sym *anchor = sel->near ? near_anchor(st, sel) : NULL;

	if (sel->near && !anchor)
		return 0;
	ovup_symtab_lookup(st, sel->name, &first, &n);
	for (i = first; i < first + n; i++) {
		const struct ovup_sym *s = &st->syms[i];

		if (!ovup_selector_match(st, s, sel) || (ok && !ok(st, s, arg)))
			continue;
		if (anchor) {
			uint64_t d = s->addr > anchor->addr ? s->addr - anchor->addr
							    : anchor->addr - s->addr;

			if (s->obj != anchor->obj || d > sel->dist)
				continue;
			/* the nearest only: the unit's own, where others have
			 * the name too */
			if (cnt && (out[0]->addr > anchor->addr ? out[0]->addr - anchor->addr
								: anchor->addr - out[0]->addr) <= d)
				continue;
			out[0] = s;
			cnt = 1;
			continue;
		}
		/* TLS offsets are per object: equal ones elsewhere are no alias */
		for (k = 0; k < cnt && k < max; k++)
			if (out[k]->addr == s->addr &&
			    ((s->type != OVUP_SYM_TLS && out[k]->type != OVUP_SYM_TLS) ||
			     out[k]->obj == s->obj))
				break;
		if (k < cnt)
			continue;
		if (cnt < max)
			out[cnt] = s;
		cnt++;
	}
	return cnt;
}

static void describe_list(const struct ovup_symtab *st, const struct ovup_sym **c, size_t n,
			  char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = 0;
	for (i = 0; i < n && i < 8 && used + 2 < len; i++) {
		char d[512];

		ovup_sym_describe(st, c[i], d, sizeof(d));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", d);
	}
	if (n > 8 && used < len)
		snprintf(buf + used, len - used, ", and %zu more", n - 8);
}

static void suggestions(const struct ovup_symtab *st, const char *name, int funcs, char *buf,
			size_t len)
{
	const char *sug[3];
	size_t n = ovup_symtab_suggest(st, name, funcs, sug, 3), i, used = 0;

	buf[0] = 0;
	if (!n)
		return;
	used += (size_t)snprintf(buf, len, "; did you mean ");
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s'%s'",
					 i == 0 ? "" : (i + 1 == n ? " or " : ", "), sug[i]);
	if (used < len)
		snprintf(buf + used, len - used, "?");
}

static unsigned long search_rank(const struct ovup_symtab *st, uint32_t obj);

/* Where a symbol of that name may be hiding: the objects without .symtab,
 * in search order (stable from run to run, unlike addresses), prefer
 * (the patched object, or -1) first.  At most two more lines: how to get
 * the first one's symbols, and the names of the others. */
static void stripped_hint(const struct ovup_symtab *st, long prefer, char *buf, size_t len)
{
	struct ovup_buf b = { 0 };
	uint32_t first = 0, i, k, nothers = 0;
	unsigned long best = ~0ul;
	int found = 0;
	char *hint;

	for (i = 0; i < st->nobjs; i++) {
		unsigned long r = (long)i == prefer ? 0 : search_rank(st, i);

		/* the preferred object before even the executable (rank 0) */
		if ((long)i != prefer && r != ~0ul)
			r++;

		if (!st->objs[i].full && (!found || r < best)) {
			first = i;
			best = r;
			found = 1;
		}
	}
	buf[0] = 0;
	if (!found)
		return;
	ovup_symbols_hints_prefetch(st);
	hint = ovup_object_symbols_hint(&st->objs[first]);
	ovup_buf_printf(&b, "\n  if it is static: %s %s", st->objs[first].name, hint);
	free(hint);
	for (i = 0; i < st->nobjs; i++)
		nothers += !st->objs[i].full && i != first;
	/* the others by name, in search order */
	for (k = 0; nothers && k < st->nobjs; k++) {
		unsigned long rank = ~0ul;
		uint32_t next = 0;
		int any = 0;

		for (i = 0; i < st->nobjs; i++) {
			unsigned long r = search_rank(st, i);

			if (st->objs[i].full || i == first || (k && r <= best) ||
			    (any && r >= rank))
				continue;
			rank = r;
			next = i;
			any = 1;
		}
		if (!any)
			break;
		best = rank;
		ovup_buf_printf(&b, "%s%s",
				k == 0             ? "\n  "
				: k + 1 == nothers ? " and "
						   : ", ",
				st->objs[next].name);
	}
	if (nothers)
		ovup_buf_printf(&b, " %s only .dynsym too ('ovup symbols' says how to get %s)",
				nothers == 1 ? "has" : "have",
				nothers == 1 ? "its symbols" : "theirs");
	snprintf(buf, len, "%s", b.s);
	ovup_buf_free(&b);
}

/* Where the dynamic linker looks for a global definition: the
 * executable first, the loader last, the others in its search list (or,
 * when that is unknown, in table order). */
static unsigned long search_rank(const struct ovup_symtab *st, uint32_t obj)
{
	const struct ovup_object *o = &st->objs[obj];

	if (o->is_main)
		return 0;
	if (o->is_loader)
		return ~0ul;
	return o->order ? o->order : 1ul + st->nobjs + obj;
}

static int is_global(const struct ovup_symtab *st, const struct ovup_sym *s, long arg)
{
	(void)st;
	(void)arg;
	return s->bind != OVUP_BIND_LOCAL && s->vis != OVUP_VIS_HIDDEN &&
	       s->vis != OVUP_VIS_INTERNAL;
}

/* Global definitions first in search order: c[0] is the one every
 * caller that goes through a PLT or GOT binds to. */
static void sort_by_search(const struct ovup_symtab *st, const struct ovup_sym **c, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && search_rank(st, c[j]->obj) < search_rank(st, c[j - 1]->obj);
		     j--) {
			const struct ovup_sym *t = c[j];

			c[j] = c[j - 1];
			c[j - 1] = t;
		}
}

/* An interposed definition still runs when its own object calls it
 * directly (not through its PLT or GOT), or it is protected. */
static int still_called(const struct ovup_symtab *st, const struct ovup_sym *s)
{
	return s->vis == OVUP_VIS_PROTECTED || !self_imported(&st->objs[s->obj], s->name);
}

static int ambiguous_func(const struct ovup_symtab *st, const char *name, const struct ovup_sym **c,
			  size_t n, int globals)
{
	char list[2048];
	size_t i, used = 0;

	if (!globals) {
		describe_list(st, c, n, list, sizeof(list));
	} else {
		for (i = 0; i < n && i < 8 && used + 2 < sizeof(list); i++) {
			char d[512];

			ovup_sym_describe(st, c[i], d, sizeof(d));
			if (i == 0)
				used += (size_t)snprintf(list + used, sizeof(list) - used,
							 "%s, which every call through a PLT or "
							 "GOT binds to",
							 d);
			else
				used += (size_t)snprintf(list + used, sizeof(list) - used,
							 ", %s, which %s's own calls reach", d,
							 st->objs[c[i]->obj].name);
		}
	}
	return ovup_err(-ENOTUNIQ,
			"function '%s' is ambiguous: %s; say which in the patch with "
			"OVUP_OBJECT(%s, \"...\"), OVUP_FILE or OVUP_SYMPOS (include/ovup.h)",
			name, list, name);
}

/* Among several candidates without a selector: the one global definition,
 * or the one every caller binds to when the others are interposed and
 * never called.  Two statics, or two globals both still called, are
 * equals, and only the user can choose. */
static int choose_func(const struct ovup_symtab *st, const struct ovup_selector *sel,
		       const struct ovup_sym **c, size_t n, const struct ovup_sym **out)
{
	const struct ovup_sym *g[16];
	size_t ng, i, used = 1;

	ng = collect(st, sel, is_global, 0, g, OVUP_ARRAY_SIZE(g));
	if (ng == 0 || ng > OVUP_ARRAY_SIZE(g))
		return ambiguous_func(st, sel->name, c, n, 0);
	sort_by_search(st, g, ng);
	for (i = 1; i < ng; i++)
		if (g[i]->obj != g[0]->obj && still_called(st, g[i]))
			g[used++] = g[i];
	if (used > 1)
		return ambiguous_func(st, sel->name, g, used, 1);
	*out = g[0];
	return 0;
}

int ovup_symtab_resolve_func(const struct ovup_symtab *st, const struct ovup_selector *sel,
			     const struct ovup_sym **out)
{
	const struct ovup_sym *c[16];
	char list[2048], hint[1024];
	size_t n;
	int ret;

	n = collect(st, sel, NULL, 0, c, OVUP_ARRAY_SIZE(c));
	if (n == 0) {
		struct ovup_selector any = { .name = sel->name };
		size_t m = collect(st, &any, NULL, 0, c, OVUP_ARRAY_SIZE(c));

		if (sel->near)
			return ovup_err(-ENOENT,
					"function '%s': the target has none within %llu bytes of "
					"'%s' (the global of its unit it was built with)%s%s; its "
					"build may have inlined it, or the unit is another version",
					sel->name, (unsigned long long)sel->dist, sel->near,
					m ? "; it has: " : "",
					m ? (describe_list(st, c, m, list, sizeof(list)), list)
					  : "");
		if (m && (sel->object || sel->file || sel->pos)) {
			describe_list(st, c, m, list, sizeof(list));
			return ovup_err(
				-ENOENT,
				"function '%s': no match for the patch's selector; the target has: %s",
				sel->name, list);
		}
		suggestions(st, sel->name, 1, list, sizeof(list));
		stripped_hint(st, -1, hint, sizeof(hint));
		return ovup_err(
			-ENOENT,
			"function '%s' is defined by the patch but not found in the target%s (make "
			"it static if it is a new helper)%s",
			sel->name, list, hint);
	}
	if (n > 1 && (sel->object || sel->file || sel->pos || sel->near))
		return ambiguous_func(st, sel->name, c, n, 0);
	if (n > 1) {
		ret = choose_func(st, sel, c, n, &c[0]);
		if (ret)
			return ret;
	}
	if (!is_code(c[0]))
		return ovup_err(-EINVAL,
				"'%s' in %s is a variable, not a function; only functions can be "
				"replaced",
				sel->name, st->objs[c[0]->obj].name);
	*out = c[0];
	return 0;
}

void ovup_symtab_namesakes(const struct ovup_symtab *st, const struct ovup_sym *s, char *buf,
			   size_t len)
{
	const struct ovup_sym *c[16], *others[16];
	struct ovup_selector any = { .name = s->name };
	size_t n = collect(st, &any, NULL, 0, c, OVUP_ARRAY_SIZE(c)), i, k = 0;

	for (i = 0; i < n && i < OVUP_ARRAY_SIZE(c); i++)
		if (c[i]->addr != s->addr)
			others[k++] = c[i];
	describe_list(st, others, k, buf, len);
}

static int in_obj_local(const struct ovup_symtab *st, const struct ovup_sym *s, long obj)
{
	(void)st;
	return s->bind == OVUP_BIND_LOCAL && (long)s->obj == obj;
}

static int is_local(const struct ovup_symtab *st, const struct ovup_sym *s, long arg)
{
	(void)st;
	(void)arg;
	return s->bind == OVUP_BIND_LOCAL;
}

/* "the global symbols of app, libc.so.6 and ld-linux-x86-64.so.2", in
 * search order, for a reference that is nowhere. */
static void searched(const struct ovup_symtab *st, long scope, char *buf, size_t len)
{
	uint32_t *ord = ovup_xmalloc((st->nobjs + 1) * sizeof(*ord));
	struct ovup_buf b = { 0 };
	size_t i, j;

	for (i = 0; i < st->nobjs; i++) {
		for (j = i; j > 0 && search_rank(st, ord[j - 1]) > search_rank(st, (uint32_t)i);
		     j--)
			ord[j] = ord[j - 1];
		ord[j] = (uint32_t)i;
	}
	if (scope >= 0)
		ovup_buf_printf(&b, "the static symbols of %s and ", st->objs[scope].name);
	ovup_buf_printf(&b, "the global symbols of ");
	for (i = 0; i < st->nobjs && i < 12; i++)
		ovup_buf_printf(&b, "%s%s",
				i == 0               ? ""
				: i + 1 == st->nobjs ? " and "
						     : ", ",
				st->objs[ord[i]].name);
	if (st->nobjs > 12)
		ovup_buf_printf(&b, " and %zu more", st->nobjs - 12);
	snprintf(buf, len, "%s", b.s ? b.s : "");
	ovup_buf_free(&b);
	free(ord);
}

int ovup_symtab_resolve_ref(const struct ovup_symtab *st, const struct ovup_selector *sel,
			    long scope, const struct ovup_sym **out)
{
	const struct ovup_sym *c[16];
	char list[2048], hint[1024], where[1024];
	size_t n;

	if (sel->object || sel->file || sel->pos || sel->near) {
		n = collect(st, sel, NULL, 0, c, OVUP_ARRAY_SIZE(c));
		if (n == 1)
			goto found;
		if (n > 1)
			goto ambiguous;
		if (sel->near)
			return ovup_err(-ENOENT,
					"symbol '%s' used by the patch: the target has none within "
					"%llu bytes of '%s' (the global of its unit it was built "
					"with); its build may have inlined it, or the unit is "
					"another version",
					sel->name, (unsigned long long)sel->dist, sel->near);
		suggestions(st, sel->name, 0, list, sizeof(list));
		return ovup_err(-ENOENT,
				"symbol '%s' used by the patch: no match for its selector%s",
				sel->name, list);
	}
	/* 1. the patched object's own static symbols */
	if (scope >= 0) {
		n = collect(st, sel, in_obj_local, scope, c, OVUP_ARRAY_SIZE(c));
		if (n == 1)
			goto found;
		if (n > 1)
			goto ambiguous;
	}
	/* 2. the first global definition in the dynamic linker's search
	 * order: the executable's copy of a copy-relocated variable, libc's
	 * memcpy rather than ld.so's private one */
	n = collect(st, sel, is_global, 0, c, OVUP_ARRAY_SIZE(c));
	if (n >= 1) {
		sort_by_search(st, c, OVUP_MIN(n, OVUP_ARRAY_SIZE(c)));
		goto found;
	}
	n = collect(st, sel, is_local, 0, c, OVUP_ARRAY_SIZE(c));
	if (st->statics_shared) {
		/* 3. the kernel: a static symbol, if exactly one object has it */
		if (n == 1)
			goto found;
		if (n > 1)
			goto ambiguous;
		suggestions(st, sel->name, 0, list, sizeof(list));
		return ovup_err(-ENOENT, "symbol '%s' used by the patch is not in the target%s",
				sel->name, list);
	}
	/* other objects' statics are not the patch's to use unless it says
	 * which */
	searched(st, scope, where, sizeof(where));
	if (n) {
		describe_list(st, c, n, list, sizeof(list));
		return ovup_err(
			-ENOENT,
			"symbol '%s' used by the patch is not in %s; static symbols of "
			"that name elsewhere: %s; to use one, say which with "
			"OVUP_OBJECT(%s, \"...\"), OVUP_FILE or OVUP_SYMPOS (include/ovup.h)",
			sel->name, where, list, sel->name);
	}
	suggestions(st, sel->name, 0, list, sizeof(list));
	stripped_hint(st, scope, hint, sizeof(hint));
	return ovup_err(-ENOENT, "symbol '%s' used by the patch is not in %s%s%s", sel->name, where,
			list, hint);
found:
	*out = c[0];
	return 0;
ambiguous:
	describe_list(st, c, n, list, sizeof(list));
	return ovup_err(-ENOTUNIQ,
			"symbol '%s' used by the patch is ambiguous: %s; say which with "
			"OVUP_OBJECT(%s, \"...\"), OVUP_FILE or OVUP_SYMPOS (include/ovup.h)",
			sel->name, list, sel->name);
}

struct cand {
	uint64_t hash;
	const char *name;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The names suggest weighs, once each, in the table's order (name hash):
 * the table's, and those of the objects whose symbols stayed in their
 * caches. */
static size_t suggest_names(const struct ovup_symtab *st, int funcs_only, size_t len,
			    unsigned limit, struct cand **out)
{
	struct cand *c = NULL;
	size_t n = 0, cap = 0, i, k, nc;

#define TAKE(h, nm, code)                                                                        \
	do {                                                                                     \
		const char *nm_ = (nm);                                                          \
		if ((funcs_only && !(code)) || (size_t)abs((int)strlen(nm_) - (int)len) > limit) \
			break;                                                                   \
		if (n == cap) {                                                                  \
			cap = cap ? cap * 2 : 256;                                               \
			c = ovup_xrealloc(c, cap * sizeof(*c));                                  \
		}                                                                                \
		c[n++] = (struct cand){ (h), nm_ };                                              \
	} while (0)
	for (i = 0; i < st->nsyms; i++)
		TAKE(st->syms[i].hash, st->syms[i].name, is_code(&st->syms[i]));
	for (k = 0; k < st->ncaches; k++) {
		const struct ovup_symcache *cc = st->caches[k];

		for (i = 0, nc = cc ? ovup_symcache_count(cc) : 0; i < nc; i++) {
			const struct ovup_symcache_rec *r = ovup_symcache_rec(cc, i);

			TAKE(r->hash, ovup_symcache_str(cc, r->name),
			     r->type == OVUP_SYM_FUNC || r->type == OVUP_SYM_IFUNC);
		}
	}
#undef TAKE
	if (st->ncaches)
		qsort(c, n, sizeof(*c), cand_cmp);
	*out = c;
	return n;
}

size_t ovup_symtab_suggest(const struct ovup_symtab *st, const char *name, int funcs_only,
			   const char **out, size_t max)
{
	unsigned best[8];
	size_t n = 0, i, k, nc;
	unsigned limit = (unsigned)OVUP_MAX(2, strlen(name) / 3);
	struct cand *c;

	if (max > OVUP_ARRAY_SIZE(best))
		max = OVUP_ARRAY_SIZE(best);
	nc = suggest_names(st, funcs_only, strlen(name), limit, &c);
	for (i = 0; i < nc; i++) {
		const char *s = c[i].name;
		unsigned d;

		if (i && !strcmp(c[i - 1].name, s))
			continue;
		d = ovup_edit_distance(name, s);
		if (d == 0 || d > limit)
			continue;
		for (k = n; k > 0 && best[k - 1] > d; k--)
			;
		if (k >= max)
			continue;
		if (n < max)
			n++;
		memmove(&best[k + 1], &best[k], (n - 1 - k) * sizeof(best[0]));
		memmove(&out[k + 1], &out[k], (n - 1 - k) * sizeof(out[0]));
		best[k] = d;
		out[k] = s;
	}
	free(c);
	return n;
}

/* Whether x comes before y in the table's order, where both would be. */
static int table_before(const struct ovup_sym *x, const struct ovup_sym *y)
{
	if (x->hash != y->hash)
		return x->hash < y->hash;
	if (strcmp(x->name, y->name))
		return strcmp(x->name, y->name) < 0;
	return x->obj < y->obj;
}

/* The symbol of record r of object obj's cache, as the table has it if
 * it has it, else a copy kept in st->extra. */
static const struct ovup_sym *from_cache(const struct ovup_symtab *st, uint32_t obj, long r)
{
	const struct ovup_symcache *c = st->caches[obj];
	const struct ovup_symcache_rec *rec = ovup_symcache_rec(c, (size_t)r);
	const char *name = ovup_symcache_str(c, rec->name);
	uint64_t addr = rec_addr(st, obj, rec);
	struct ovup_sym_extra *e = st->extra;
	struct ovup_sym *s;
	size_t first, n, i;

	ovup_symtab_lookup(st, name, &first, &n);
	for (i = first; i < first + n; i++)
		if (st->syms[i].obj == obj && st->syms[i].addr == addr &&
		    st->syms[i].pos == rec->pos)
			return &st->syms[i];
	for (i = 0; i < e->n; i++)
		if (e->syms[i]->obj == obj && e->syms[i]->name == name)
			return e->syms[i];
	s = ovup_xcalloc(1, sizeof(*s));
	s->name = name;
	s->hash = rec->hash;
	s->addr = addr;
	s->size = rec->size;
	s->type = rec->type;
	s->bind = rec->bind;
	s->vis = rec->vis;
	s->obj = obj;
	s->pos = rec->pos;
	s->file = ovup_symcache_str(c, rec->file);
	s->version = ovup_symcache_str(c, rec->version);
	e->syms = ovup_xrealloc(e->syms, (e->n + 1) * sizeof(*e->syms));
	e->syms[e->n++] = s;
	return s;
}

const struct ovup_sym *ovup_symtab_by_addr(const struct ovup_symtab *st, uint64_t addr)
{
	const struct ovup_sym *best = NULL;
	size_t i;

	/* linear: used to name where a thread is, and for the few functions
	 * next to a patched one */
	for (i = 0; i < st->nsyms; i++) {
		const struct ovup_sym *s = &st->syms[i];

		if (!is_code(s) || addr < s->addr)
			continue;
		if (s->size ? addr >= s->addr + s->size : addr != s->addr)
			continue;
		if (!best || s->addr > best->addr)
			best = s;
	}
	/* the objects whose other symbols are in their caches */
	for (i = 0; i < st->ncaches; i++) {
		const struct ovup_symcache *c = st->caches[i];
		const struct ovup_symcache_rec *rec;
		struct ovup_sym probe;
		long r;

		if (!c || (r = ovup_symcache_by_value(c, addr - st->objs[i].bias)) < 0)
			continue;
		rec = ovup_symcache_rec(c, (size_t)r);
		if (!rec_ok(rec))
			continue;
		probe.hash = rec->hash;
		probe.name = ovup_symcache_str(c, rec->name);
		probe.addr = rec_addr(st, (uint32_t)i, rec);
		probe.obj = (uint32_t)i;
		if (best && (probe.addr < best->addr ||
			     (probe.addr == best->addr && !table_before(&probe, best))))
			continue;
		best = from_cache(st, (uint32_t)i, r);
	}
	return best;
}
