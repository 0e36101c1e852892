// SPDX-License-Identifier: MIT
/*
 * The symbol cache files (symcache.h).  Layout, native byte order:
 *
 *   head | key, NUL, padded to 8 | records | address index | imports | strings
 *
 * The records are the object's symbols in the table's order (name hash,
 * name, insertion), the address index its functions by start, each with
 * the highest end of all before it so that a containing symbol is found
 * without a scan of the whole list.
 */
#define _GNU_SOURCE
#include "symcache.h"
#include "symtab.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "OVUPSYMC"
#define VERSION 1

struct head {
	char magic[8];
	uint32_t version, keylen; /* keylen: with its NUL */
	uint32_t nrec, naddr, nimp, pad;
	uint64_t strsize, total;
};

struct addr_ent {
	uint64_t value, end, maxend; /* end: one past; maxend: of this and all before */
	uint32_t rec, pad;
};

struct ovup_symcache {
	char *buf; /* the whole file */
	size_t len;
	const struct head *h;
	const struct ovup_symcache_rec *recs;
	const struct addr_ent *addr;
	const uint64_t *imp;
	const char *str;
	int mapped; /* buf is the file mapped, else malloc'd */
};

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

const char *ovup_symcache_dir(void)
{
	static char dir[4096];
	static int done;
	const char *env = getenv("OVUP_CACHE_DIR");
	struct stat sb;
	char *slash;

	if (done)
		return dir[0] ? dir : NULL;
	done = 1;
	if (env && !*env)
		return NULL;
	env = env ? env : "/var/cache/ovup";
	snprintf(dir, sizeof(dir), "%s/symbols", env);
	/* its parents too (a small system may have no /var/cache) */
	for (slash = dir + 1; (slash = strchr(slash, '/')); *slash++ = '/') {
		*slash = 0;
		mkdir(dir, strcmp(dir, env) ? 0755 : 0700);
	}
	mkdir(dir, 0700);
	/* a file here decides where a patch's calls go: only this user may
	 * have written it */
	if (lstat(dir, &sb) || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022)) {
		ovup_info("symbol cache %s: not a directory of uid %u that only it can write; "
			  "reading every symbol",
			  dir, (unsigned)geteuid());
		dir[0] = 0;
		return NULL;
	}
	return dir;
}

/* Sets the pointers into c->buf from its head; 0, or -1 when the layout
 * does not fit the length. */
static int lay_out(struct ovup_symcache *c)
{
	const struct head *h = (const void *)c->buf;
	size_t off = sizeof(*h);

	if (c->len < sizeof(*h))
		return -1;
	c->h = h;
	if (memcmp(h->magic, MAGIC, 8) || h->version != VERSION || h->total != c->len ||
	    h->keylen == 0 || h->keylen > 65536 || h->nrec > (1u << 26) || h->naddr > h->nrec ||
	    h->nimp > (1u << 26) || h->strsize == 0 || h->strsize > (1ull << 32))
		return -1;
	off += pad8(h->keylen);
	c->recs = (const void *)(c->buf + off);
	off += (size_t)h->nrec * sizeof(*c->recs);
	c->addr = (const void *)(c->buf + off);
	off += (size_t)h->naddr * sizeof(*c->addr);
	c->imp = (const void *)(c->buf + off);
	off += (size_t)h->nimp * sizeof(*c->imp);
	c->str = c->buf + off;
	off += h->strsize;
	return off == c->len ? 0 : -1;
}

static uint32_t add_str(struct ovup_buf *b, const char *s)
{
	uint32_t off = (uint32_t)b->len;

	if (!s)
		return OVUP_SYMCACHE_NONE;
	ovup_buf_add(b, s, strlen(s) + 1);
	return off;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct addr_ent *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

struct ovup_symcache *ovup_symcache_build(const struct ovup_symtab *st, uint32_t obj,
					  const char *key)
{
	const struct ovup_object *o = &st->objs[obj];
	struct ovup_symcache *c = ovup_xcalloc(1, sizeof(*c));
	struct ovup_buf strs = { 0 };
	struct ovup_symcache_rec *recs;
	struct addr_ent *addr;
	struct head h = { 0 };
	size_t i, k, nrec = 0, naddr = 0, off;
	uint64_t maxend = 0;

	for (i = 0; i < st->nsyms; i++)
		nrec += st->syms[i].obj == obj;
	recs = ovup_xcalloc(nrec ? nrec : 1, sizeof(*recs));
	addr = ovup_xcalloc(nrec ? nrec : 1, sizeof(*addr));
	ovup_buf_add(&strs, "", 1);
	for (i = 0, k = 0; i < st->nsyms; i++) {
		const struct ovup_sym *s = &st->syms[i];
		struct ovup_symcache_rec *r;

		if (s->obj != obj)
			continue;
		r = &recs[k];
		r->hash = s->hash;
		r->value = s->addr;
		r->size = s->size;
		r->name = add_str(&strs, s->name);
		r->file = add_str(&strs, s->file);
		r->version = add_str(&strs, s->version);
		r->pos = s->pos;
		r->type = (uint8_t)s->type;
		r->bind = (uint8_t)s->bind;
		r->vis = (uint8_t)s->vis;
		if (s->type == OVUP_SYM_FUNC || s->type == OVUP_SYM_IFUNC) {
			struct addr_ent *a = &addr[naddr++];
			uint64_t end = s->addr + (s->size ? s->size : 1);

			a->value = s->addr;
			a->end = end < s->addr ? UINT64_MAX : end;
			a->rec = (uint32_t)k;
		}
		k++;
	}
	qsort(addr, naddr, sizeof(*addr), addr_cmp);
	for (i = 0; i < naddr; i++) {
		maxend = OVUP_MAX(maxend, addr[i].end);
		addr[i].maxend = maxend;
	}
	memcpy(h.magic, MAGIC, 8);
	h.version = VERSION;
	h.keylen = (uint32_t)strlen(key) + 1;
	h.nrec = (uint32_t)nrec;
	h.naddr = (uint32_t)naddr;
	h.nimp = (uint32_t)o->nself_imports;
	h.strsize = strs.len;
	h.total = sizeof(h) + pad8(h.keylen) + nrec * sizeof(*recs) + naddr * sizeof(*addr) +
		  o->nself_imports * sizeof(uint64_t) + strs.len;
	c->len = h.total;
	c->buf = ovup_xcalloc(1, c->len);
	memcpy(c->buf, &h, sizeof(h));
	off = sizeof(h);
	memcpy(c->buf + off, key, h.keylen);
	off += pad8(h.keylen);
	memcpy(c->buf + off, recs, nrec * sizeof(*recs));
	off += nrec * sizeof(*recs);
	memcpy(c->buf + off, addr, naddr * sizeof(*addr));
	off += naddr * sizeof(*addr);
	if (o->nself_imports)
		memcpy(c->buf + off, o->self_imports, o->nself_imports * sizeof(uint64_t));
	off += o->nself_imports * sizeof(uint64_t);
	memcpy(c->buf + off, strs.s, strs.len);
	free(recs);
	free(addr);
	ovup_buf_free(&strs);
	lay_out(c);
	return c;
}

int ovup_symcache_save(const struct ovup_symcache *c, const char *dir, const char *name)
{
	char *path = ovup_xasprintf("%s/%s", dir, name);
	int ret = ovup_write_file_atomic(path, c->buf, c->len);

	free(path);
	return ret;
}

/* What every reader relies on, checked once: the key, and the strings
 * ending inside the file.  Each record's own offsets are checked where
 * it is read (ovup_symcache_str, by_value): a load touches only the
 * pages a lookup needs. */
static int valid(const struct ovup_symcache *c, const char *key)
{
	const struct head *h = c->h;
	const char *k = c->buf + sizeof(*h);

	return !k[h->keylen - 1] && !strcmp(k, key) && !c->str[h->strsize - 1];
}

struct ovup_symcache *ovup_symcache_load(const char *dir, const char *name, const char *key)
{
	char *path = ovup_xasprintf("%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct ovup_symcache *c;
	struct stat sb;
	void *map;

	free(path);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || sb.st_size < (off_t)sizeof(struct head) ||
	    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	close(fd);
	c = ovup_xcalloc(1, sizeof(*c));
	c->buf = map;
	c->len = (size_t)sb.st_size;
	c->mapped = 1;
	if (lay_out(c) || !valid(c, key)) {
		ovup_symcache_free(c);
		return NULL;
	}
	return c;
}

void ovup_symcache_free(struct ovup_symcache *c)
{
	if (!c)
		return;
	if (c->mapped)
		munmap(c->buf, c->len);
	else
		free(c->buf);
	free(c);
}

size_t ovup_symcache_count(const struct ovup_symcache *c)
{
	return c->h->nrec;
}

const struct ovup_symcache_rec *ovup_symcache_rec(const struct ovup_symcache *c, size_t i)
{
	return &c->recs[i];
}

const char *ovup_symcache_str(const struct ovup_symcache *c, uint32_t off)
{
	if (off == OVUP_SYMCACHE_NONE)
		return NULL;
	/* the last byte is a NUL (valid()): any offset inside ends there */
	return off < c->h->strsize ? c->str + off : "";
}

size_t ovup_symcache_find(const struct ovup_symcache *c, uint64_t hash, size_t *first)
{
	size_t lo = 0, hi = c->h->nrec;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->recs[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < c->h->nrec && c->recs[hi].hash == hash)
		hi++;
	return hi - lo;
}

long ovup_symcache_by_value(const struct ovup_symcache *c, uint64_t x)
{
	size_t lo = 0, hi = c->h->naddr;
	long best = -1;
	uint64_t at = 0;

	/* the first entry starting after x */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->addr[mid].value <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* back from there while something before still reaches x; the
	 * first that contains it has the highest start, and of its equals
	 * (same start) the lowest record wins */
	while (lo > 0 && c->addr[lo - 1].maxend > x) {
		const struct addr_ent *a = &c->addr[--lo];

		if (best >= 0 && a->value != at)
			break;
		if (a->end > x && a->rec < c->h->nrec) {
			best = a->rec;
			at = a->value;
		}
	}
	return best;
}

const uint64_t *ovup_symcache_imports(const struct ovup_symcache *c, size_t *n)
{
	*n = c->h->nimp;
	return c->imp;
}
