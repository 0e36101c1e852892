/* SPDX-License-Identifier: MIT */
/*
 * The target's symbols (the paper's "labels"): every object the target has
 * loaded, and every named function and variable in it at its run-time
 * address.  Lookup follows the target's own rules, and ambiguity is an
 * error the user resolves with a selector (OVUP_OBJECT/OVUP_FILE/OVUP_SYMPOS).
 */
#ifndef OVUP_SYMTAB_H
#define OVUP_SYMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "../elf/elf.h"

struct ovup_symcache;

/* A kept kernel address moved by bias: per-CPU offsets and absolute
 * symbols (below the kernel's half) stay where they are. */
static inline uint64_t ovup_kaddr_moved(uint64_t value, uint64_t bias)
{
	return value < (1ull << 63) ? value : value + bias;
}

struct ovup_object {
	char *path;    /* as the target names it (maps path, module name) */
	char *name;    /* basename, what selectors match first */
	uint64_t bias; /* run-time address minus link-time address */
	/* the kernel's objects: bias (how far the object moved since its
	 * cached symbols were read) moves only addresses in the kernel's
	 * half; per-CPU offsets and absolute symbols stay */
	int bias_high_only;
	uint64_t lo, hi; /* run-time extent of its mappings */
	uint8_t build_id[OVUP_BUILD_ID_MAX];
	size_t build_id_len;
	int is_main;      /* the executable (searched first) */
	int is_loader;    /* the dynamic loader (searched last) */
	int full;         /* local symbols are known (.symtab or debuginfo) */
	char *symsrc;     /* where the symbols came from */
	char *debug_hint; /* without .symtab: the debug file that would help */
	char *debuginfod; /* NULL: no server asked; else what came of asking */
	char *open_path;  /* path that opens the mapped file itself */
	/* 1-based place in the dynamic loader's search list, 0 if unknown
	 * (then: the executable, the others in table order, the loader) */
	unsigned order;
	/* hashes (sorted) of the names it defines and still calls through its
	 * own PLT or GOT: another object's definition can take those calls */
	uint64_t *self_imports;
	size_t nself_imports;
};

/* For an object without local symbols (!full): "has only .dynsym ...
 * (build-id X); install PKG or its debug file F, or set DEBUGINFOD_URLS
 * ...", to follow its name (debughint.c; runs dpkg-query, so for messages). */
char *ovup_object_symbols_hint(const struct ovup_object *o);
struct ovup_symtab;
/* The packages of all objects with only .dynsym, asked of dpkg at once,
 * before hints for several of them are written. */
void ovup_symbols_hints_prefetch(const struct ovup_symtab *st);

struct ovup_sym {
	const char *name;
	uint64_t hash; /* of name: the table is sorted by (hash, name) */
	uint64_t addr, size;
	enum ovup_sym_type type;
	enum ovup_sym_bind bind;
	enum ovup_sym_vis vis; /* default unless the adder says otherwise */
	uint32_t obj;          /* index into symtab->objs */
	uint32_t pos;          /* 1-based rank among same-named symbols of obj */
	uint32_t seq;          /* insertion order, for pos */
	const char *file;      /* source file of a local symbol, or NULL */
	const char *version;   /* default version of a versioned global, or NULL */
};

struct ovup_symtab {
	struct ovup_object *objs;
	size_t nobjs;
	struct ovup_sym *syms;
	size_t nsyms, cap;
	char **pool; /* owned string chunks */
	size_t npool, poolcap, chunk_used, chunk_size;
	int sorted;
	/* a static symbol any object holds is usable when it is the only
	 * one of its name (the kernel's, where kallsyms names them all); a
	 * process's are the patch's only in its own object or when selected */
	int statics_shared;
	/* Only symbols whose name hashes to one of want (ovup_symtab_want)
	 * need be added; none: all.  A target may add more. */
	uint64_t *want;
	size_t nwant, wantcap;
	int want_sorted;
	/* per object, the cache its symbols were added from (symcache.h),
	 * or NULL: by_addr and suggest read the rest of its symbols there */
	struct ovup_symcache **caches;
	size_t ncaches;
	/* symbols by_addr found only in a cache, each allocated alone so
	 * that a pointer to it stays valid (a pointer to this struct: it
	 * grows under a const table) */
	struct ovup_sym_extra *extra;
};

uint64_t ovup_sym_hash(const char *name);
/* Before the labels: a name the patch uses. */
void ovup_symtab_want(struct ovup_symtab *st, const char *name);
/* Whether a symbol of that name is to be added. */
int ovup_symtab_wanted(struct ovup_symtab *st, uint64_t hash);
/* Adds the symbols of object obj from its cache c (the wanted ones, or
 * all) and its names reached through its own PLT or GOT; keeps c. */
void ovup_symtab_add_cache(struct ovup_symtab *st, uint32_t obj, struct ovup_symcache *c);
/* The address of the first symbol called name that has one, in the
 * table's order (object, then insertion), the symbols still in caches
 * included: of object obj only if obj >= 0, global ones only if
 * globals.  0 if there is none. */
uint64_t ovup_symtab_addr(const struct ovup_symtab *st, const char *name, long obj, int globals);
/* Symbols known, in the table or in caches: 0 when the target has none. */
size_t ovup_symtab_total(const struct ovup_symtab *st);

/* What a patch says about which same-named symbol it means. */
struct ovup_selector {
	const char *name;
	const char *object; /* basename or path suffix; NULL = any */
	const char *file;   /* source file (basename or suffix); NULL = any */
	unsigned pos;       /* 1-based; 0 = any */
	/* the one nearest to the global symbol near, in its object, no
	 * farther than dist bytes (a static of the unit that defines near,
	 * where the target has no file names: the kernel); NULL = any */
	const char *near;
	uint64_t dist;
};

size_t ovup_symtab_add_object(struct ovup_symtab *st, const struct ovup_object *o);
/* Records that object obj reaches its own symbol name through the PLT or
 * GOT (before finish). */
void ovup_symtab_add_self_import(struct ovup_symtab *st, uint32_t obj, const char *name);
/* The symbol added, valid until the next add (for fields set rarely). */
struct ovup_sym *ovup_symtab_add(struct ovup_symtab *st, uint32_t obj, const char *name,
				 uint64_t addr, uint64_t size, enum ovup_sym_type type,
				 enum ovup_sym_bind bind, const char *file);
const char *ovup_symtab_intern(struct ovup_symtab *st, const char *s);
void ovup_symtab_finish(struct ovup_symtab *st);
void ovup_symtab_free(struct ovup_symtab *st);

/* All symbols called name: *first and *n (after finish).  The table is
 * ordered by a hash of the name, not alphabetically. */
void ovup_symtab_lookup(const struct ovup_symtab *st, const char *name, size_t *first, size_t *n);

int ovup_selector_match(const struct ovup_symtab *st, const struct ovup_sym *s,
			const struct ovup_selector *sel);
/* "object:file#pos" for messages */
void ovup_sym_describe(const struct ovup_symtab *st, const struct ovup_sym *s, char *buf,
		       size_t len);

/* The function a patch replaces.  0 and *out, or -errno with the message
 * recorded (not found + suggestions, ambiguous + candidates, not a function).
 * One global definition wins over local namesakes in other objects, and
 * the definition every caller binds to wins over interposed ones. */
int ovup_symtab_resolve_func(const struct ovup_symtab *st, const struct ovup_selector *sel,
			     const struct ovup_sym **out);
/* A symbol a patch uses.  scope: the object the patch's functions are in
 * (its local symbols win), or -1. */
int ovup_symtab_resolve_ref(const struct ovup_symtab *st, const struct ovup_selector *sel,
			    long scope, const struct ovup_sym **out);

/* Writes into buf the same-named symbols at other addresses than s (what
 * s was chosen over), "" when there are none. */
void ovup_symtab_namesakes(const struct ovup_symtab *st, const struct ovup_sym *s, char *buf,
			   size_t len);

/* Appends up to max "did you mean" names of functions close to name. */
size_t ovup_symtab_suggest(const struct ovup_symtab *st, const char *name, int funcs_only,
			   const char **out, size_t max);

/* The symbol containing addr (for naming where a thread is), or NULL. */
const struct ovup_sym *ovup_symtab_by_addr(const struct ovup_symtab *st, uint64_t addr);

#endif
