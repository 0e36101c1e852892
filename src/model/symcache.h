/* SPDX-License-Identifier: MIT */
/*
 * One object's finished symbol list in a file of its own, so that a later
 * run reads only the names a patch uses (symtab.c) instead of every symbol
 * of every object.  The file is keyed by what the symbols were read from
 * (the process target's labels.c writes the key), is written once, whole
 * (rename), and is checked before it is believed: a file that is not
 * exactly what this version writes is ignored and written again.
 */
#ifndef OVUP_SYMCACHE_H
#define OVUP_SYMCACHE_H

#include <stddef.h>
#include <stdint.h>

struct ovup_symtab;

#define OVUP_SYMCACHE_NONE UINT32_MAX

/* A record: one symbol of the object, as ovup_symtab_finish left it. */
struct ovup_symcache_rec {
	uint64_t hash;  /* ovup_sym_hash(name); records are sorted by it, then name */
	uint64_t value; /* link-time address (a thread-local's: its offset) */
	uint64_t size;
	uint32_t name, file, version; /* offsets into the strings, or NONE */
	uint32_t pos;
	uint8_t type, bind, vis, pad[5];
};

struct ovup_symcache;

/* The directory of the cache files: symbols/ in $OVUP_CACHE_DIR, else
 * in /var/cache/ovup, created 0700 if missing.  NULL (and no cache) when
 * OVUP_CACHE_DIR is set empty, or it cannot be made, or is not a
 * directory owned by this user that no one else can write to. */
const char *ovup_symcache_dir(void);

/* The cache of object obj of a finished table st (every symbol of one
 * object), in memory, for key. */
struct ovup_symcache *ovup_symcache_build(const struct ovup_symtab *st, uint32_t obj,
					  const char *key);
/* Writes it to dir/name, atomically. */
int ovup_symcache_save(const struct ovup_symcache *c, const char *dir, const char *name);
/* The cache in dir/name if it is whole, valid, and made for key; NULL
 * otherwise. */
struct ovup_symcache *ovup_symcache_load(const char *dir, const char *name, const char *key);
void ovup_symcache_free(struct ovup_symcache *c);

size_t ovup_symcache_count(const struct ovup_symcache *c);
const struct ovup_symcache_rec *ovup_symcache_rec(const struct ovup_symcache *c, size_t i);
const char *ovup_symcache_str(const struct ovup_symcache *c, uint32_t off);
/* The records whose name hashes to hash: [*first, *first + return). */
size_t ovup_symcache_find(const struct ovup_symcache *c, uint64_t hash, size_t *first);
/* The function record containing value x, as ovup_symtab_by_addr chooses
 * (the highest start; of equal starts the first record), or -1. */
long ovup_symcache_by_value(const struct ovup_symcache *c, uint64_t x);
/* Hashes of the names the object reaches through its own PLT or GOT. */
const uint64_t *ovup_symcache_imports(const struct ovup_symcache *c, size_t *n);

#endif
