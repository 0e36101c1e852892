// SPDX-License-Identifier: MIT
/* Unit tests of symbol reading (libelf, on the real victim binaries) and
 * of the lookup rules: selectors, ambiguity, search order, suggestions. */
#include "model/symtab.h"
#include "model/symcache.h"
#include "elf/elf.h"
#include "util/util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the Makefile passes the absolute path, so that the test runs from any directory */
#ifndef OVUP_TEST_VICTIMS
#define OVUP_TEST_VICTIMS "build/tests/victims/"
#endif
#define VICTIMS OVUP_TEST_VICTIMS

struct count {
	int compute, secret, helpers, dyn;
	const char *secret_file;
};

static void count_sym(void *arg, const struct ovup_elf_sym *s)
{
	struct count *c = arg;

	c->compute += !strcmp(s->name, "compute") && s->type == OVUP_SYM_FUNC &&
		      s->bind == OVUP_BIND_GLOBAL && s->size > 0;
	if (!strcmp(s->name, "secret") && s->bind == OVUP_BIND_LOCAL) {
		c->secret++;
		c->secret_file = s->file ? ovup_xstrdup(s->file) : NULL;
	}
	c->helpers += !strcmp(s->name, "helper");
	c->dyn++;
}

struct vcount {
	int memcpy_default, memcpy_old, versioned_plain, malloc_self, strlen_self;
};

static void version_sym(void *arg, const struct ovup_elf_sym *s)
{
	struct vcount *c = arg;

	c->memcpy_default += !strcmp(s->name, "memcpy") && s->version &&
			     !strcmp(s->version, "GLIBC_2.14") && s->type == OVUP_SYM_IFUNC;
	c->memcpy_old += !strcmp(s->name, "memcpy@GLIBC_2.2.5") && !s->version;
	c->versioned_plain += strstr(s->name, "@@") != NULL;
}

static void self_import(void *arg, const char *name)
{
	struct vcount *c = arg;

	c->malloc_self |= !strcmp(name, "malloc");
	c->strlen_self |= !strcmp(name, "strlen");
}

static uint32_t obj(struct ovup_symtab *st, const char *path, int is_main, int is_loader)
{
	struct ovup_object o = { 0 };

	o.path = ovup_xstrdup(path);
	o.name = ovup_xstrdup(ovup_basename(path));
	o.is_main = is_main;
	o.is_loader = is_loader;
	o.full = 1;
	return (uint32_t)ovup_symtab_add_object(st, &o);
}

/* A table of n random symbols of one object (overlapping, of size 0,
 * sharing starts and names), finished. */
static void random_table(struct ovup_symtab *st, unsigned n, unsigned seed)
{
	struct ovup_object o = { 0 };
	unsigned i;

	srand(seed);
	o.path = ovup_xstrdup("/r/librand.so");
	o.name = ovup_xstrdup("librand.so");
	ovup_symtab_add_object(st, &o);
	for (i = 0; i < n; i++) {
		char name[32];
		uint64_t addr = 0x1000 + (uint64_t)(rand() % 4000) * 4;
		uint64_t size = rand() % 5 == 0 ? 0 : (uint64_t)(rand() % 200);
		int type = rand() % 4 ? OVUP_SYM_FUNC : OVUP_SYM_OBJECT;

		snprintf(name, sizeof(name), "f%u", (unsigned)(rand() % (n / 2 + 1)));
		ovup_symtab_add(st, 0, name, addr, size, type,
				rand() % 3 ? OVUP_BIND_GLOBAL : OVUP_BIND_LOCAL, NULL);
	}
	ovup_symtab_finish(st);
}

/* by_addr through a cache (symcache.c), with a few names wanted, against
 * the whole table, at every address: the same symbol each time. */
static void cache_by_addr(unsigned seed)
{
	struct ovup_symtab full = { 0 }, lazy = { 0 };
	struct ovup_object o = { 0 };
	unsigned bad = 0, found = 0;
	uint64_t a;

	random_table(&full, 3000, seed);
	o.path = ovup_xstrdup("/r/librand.so");
	o.name = ovup_xstrdup("librand.so");
	o.bias = 0x7f0000000000;
	ovup_symtab_add_object(&lazy, &o);
	ovup_symtab_want(&lazy, "f7");
	ovup_symtab_want(&lazy, "f100");
	ovup_symtab_add_cache(&lazy, 0, ovup_symcache_build(&full, 0, "k"));
	ovup_symtab_finish(&lazy);
	for (a = 0xff0; a < 0x1000 + 16400; a++) {
		const struct ovup_sym *x = ovup_symtab_by_addr(&full, a);
		const struct ovup_sym *y = ovup_symtab_by_addr(&lazy, a + o.bias);

		found += !!x;
		if (!x != !y || (x && (strcmp(x->name, y->name) || x->addr + o.bias != y->addr ||
				       x->size != y->size || x->pos != y->pos))) {
			if (!bad++)
				diag("seed %u at 0x%llx: %s / %s", seed, (unsigned long long)a,
				     x ? x->name : "-", y ? y->name : "-");
		}
	}
	is_int(bad, 0,
	       "seed %u: by_addr through the cache = on the whole table, at %u addresses "
	       "inside a symbol and the rest",
	       seed, found);
	ovup_symtab_free(&full);
	ovup_symtab_free(&lazy);
}

int main(void)
{
	struct ovup_elf_info info;
	struct count c = { 0 };
	struct vcount vc;
	struct ovup_symtab st = { 0 };
	const struct ovup_sym *s;
	const char *sug[3];
	char buf[1024];
	uint32_t exe, libc, lib2, ld;
	int fd;

	/* reading symbols with libelf */
	fd = open(VICTIMS "victim-pie", O_RDONLY);
	ok(fd >= 0, "victim-pie is built");
	is_int(ovup_elf_info(fd, &info), 0, "ELF info of a PIE");
	is_int(info.type, 3 /* ET_DYN */, "a PIE is ET_DYN");
	ok(info.has_symtab, "it has .symtab");
	ok(info.build_id_len == 20, "it has a 20-byte build-id");
	ok(info.nload >= 2, "it has PT_LOAD segments");
	is_int(ovup_elf_symbols(fd, 0, count_sym, &c), 0, ".symtab reads");
	is_int(c.compute, 1, "the global function compute, with a size");
	is_int(c.secret, 1, "the static function secret");
	is_str(c.secret_file, "victim.c", "... from its STT_FILE, victim.c");
	free((char *)c.secret_file);
	is_int(c.helpers, 2, "two static 'helper's (dup_a.c, dup_b.c)");
	close(fd);

	memset(&c, 0, sizeof(c));
	fd = open(VICTIMS "victim-stripped", O_RDONLY);
	is_int(ovup_elf_info(fd, &info), 0, "ELF info of a stripped binary");
	ok(!info.has_symtab, "no .symtab");
	has_str(info.debuglink, "victim-stripped.debug", "a .gnu_debuglink");
	is_int(ovup_elf_symbols(fd, 0, count_sym, &c), 0, "falls back to .dynsym");
	is_int(c.secret, 0, "static functions are not in .dynsym");
	close(fd);

	fd = open("/bin/sh", O_RDONLY);
	ok(fd >= 0 && !ovup_elf_info(fd, &info) && info.nload, "a system binary reads too");
	close(fd);
	fd = open("Makefile", O_RDONLY);
	is_int(ovup_elf_info(fd, &info), -ENOEXEC, "a text file is not ELF");
	close(fd);

	/* symbol versions and self-imports of the real libc */
	fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY);
	memset(&vc, 0, sizeof(vc));
	is_int(ovup_elf_symbols(fd, 1, version_sym, &vc), 0, "libc's .dynsym reads");
	is_int(vc.memcpy_default, 1, "memcpy is named plainly with its default version GLIBC_2.14");
	is_int(vc.memcpy_old, 1, "memcpy@GLIBC_2.2.5 keeps its whole name");
	is_int(vc.versioned_plain, 0, "no name keeps an '@' of .dynsym's version table");
	is_int(ovup_elf_self_imports(fd, self_import, &vc), 0, "libc's dynamic relocations read");
	ok(vc.malloc_self, "libc calls its own malloc through its PLT (so it can be interposed)");
	is_int(vc.strlen_self, 0, "... but its strlen directly");
	close(fd);

	/* the slots through which a program reaches another object's symbol */
	{
		uint64_t slot = 0;

		fd = open(VICTIMS "zvictim", O_RDONLY);
		is_int(ovup_elf_import_slot(fd, "floor", "GLIBC_2.2.5", &slot), 0,
		       "zvictim imports floor@GLIBC_2.2.5 through a GOT slot");
		ok(slot != 0, "... at a link-time address");
		is_int(ovup_elf_import_slot(fd, "floor", NULL, &slot), 0, "... of any version");
		is_int(ovup_elf_import_slot(fd, "floor", "GLIBC_9.9", &slot), -ENOENT,
		       "... but not of another version");
		is_int(ovup_elf_import_slot(fd, "zError", NULL, &slot), 0, "and zlib's zError");
		is_int(ovup_elf_import_slot(fd, "main", NULL, &slot), -ENOENT, "not its own main");
		close(fd);
	}

	/* lookup rules on a hand-made table */
	exe = obj(&st, "/usr/bin/app", 1, 0);
	libc = obj(&st, "/lib/libc.so.6", 0, 0);
	lib2 = obj(&st, "/lib/libfoo.so.1", 0, 0);
	ld = obj(&st, "/lib/ld-linux.so.2", 0, 1);
	ovup_symtab_add(&st, libc, "printf", 0x7000, 100, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "__printf", 0x7000, 100, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, exe, "stdout", 0x1000, 8, OVUP_SYM_OBJECT, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "stdout", 0x7100, 8, OVUP_SYM_OBJECT, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, exe, "helper", 0x1100, 40, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, "a.c");
	ovup_symtab_add(&st, exe, "helper", 0x1200, 40, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, "b.c");
	ovup_symtab_add(&st, lib2, "helper", 0x9100, 40, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, "c.c");
	ovup_symtab_add(&st, exe, "compute", 0x1300, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, exe, "counter", 0x1400, 4, OVUP_SYM_OBJECT, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, lib2, "foo_init", 0x9200, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, lib2, "only_here", 0x9300, 40, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, "c.c");
	ovup_symtab_add(&st, ld, "malloc", 0xa000, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "malloc", 0x7200, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "strlen", 0x7300, 40, OVUP_SYM_IFUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "getpid", 0x7500, 8, OVUP_SYM_FUNC, OVUP_BIND_WEAK, NULL);
	ovup_symtab_add(&st, ld, "getpid", 0xa100, 8, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, "rtld.c");
	/* libc's .symtab: a static alias, then the default and an old version */
	ovup_symtab_add(&st, libc, "memcpy", 0x7400, 40, OVUP_SYM_IFUNC, OVUP_BIND_LOCAL, "m.c");
	ovup_symtab_add(&st, libc, "memcpy@GLIBC_2.2.5", 0x7480, 40, OVUP_SYM_FUNC,
			OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "memcpy", 0x7400, 40, OVUP_SYM_IFUNC, OVUP_BIND_GLOBAL, NULL)
		->version = "GLIBC_2.14";
	ovup_symtab_add(&st, ld, "memcpy", 0xa200, 40, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, "rtld.c");
	ovup_symtab_add(&st, exe, "interposed", 0x1500, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, lib2, "interposed", 0x9500, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add_self_import(&st, lib2, "interposed");
	ovup_symtab_add(&st, exe, "both", 0x1600, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, lib2, "both", 0x9600, 40, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL, NULL);
	/* thread-local: the value is an offset in each object's TLS block */
	ovup_symtab_add(&st, exe, "tbuf", 0x0, 8, OVUP_SYM_TLS, OVUP_BIND_LOCAL, "a.c");
	ovup_symtab_add(&st, lib2, "tbuf", 0x0, 8, OVUP_SYM_TLS, OVUP_BIND_LOCAL, "c.c");
	ovup_symtab_add(&st, libc, "terr", 0x10, 4, OVUP_SYM_TLS, OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_add(&st, libc, "__terr", 0x10, 4, OVUP_SYM_TLS, OVUP_BIND_LOCAL, NULL);
	ovup_symtab_finish(&st);

#define SEL(...) (&(struct ovup_selector){ __VA_ARGS__ })
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "compute"), &s), 0, "a unique function");
	is_int(s->addr, 0x1300, "... at its address");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "printf"), &s), 0,
	       "aliases at one address are one function");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "helper"), &s), -ENOTUNIQ,
	       "three static 'helper's are ambiguous");
	has_str(ovup_err_msg(), "app:a.c#1", "... the message lists the first candidate");
	has_str(ovup_err_msg(), "libfoo.so.1:c.c#1", "... and the one in the library");
	has_str(ovup_err_msg(), "OVUP_OBJECT(helper", "... and says how to choose");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "helper", .file = "b.c"), &s), 0,
	       "OVUP_FILE picks one");
	is_int(s->addr, 0x1200, "... the one in b.c");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "helper", .object = "libfoo.so.1"), &s), 0,
	       "OVUP_OBJECT picks one");
	is_int(s->addr, 0x9100, "... the library's");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "helper", .object = "app", .pos = 2), &s),
	       0, "OVUP_SYMPOS picks by position");
	is_int(s->addr, 0x1200, "... the second in app");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "helper", .object = "nope.so"), &s),
	       -ENOENT, "a selector matching nothing fails");
	has_str(ovup_err_msg(), "the target has:", "... and lists what there is");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "compte"), &s), -ENOENT,
	       "a misspelt function is not found");
	has_str(ovup_err_msg(), "did you mean 'compute'", "... and the nearest name is suggested");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "counter"), &s), -EINVAL,
	       "a variable cannot be replaced");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "strlen"), &s), 0, "an IFUNC resolves");
	is_int(s->type, OVUP_SYM_IFUNC, "... marked as IFUNC, for the caller to refuse or resolve");

	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "stdout"), -1, &s), 0,
	       "a variable in two objects");
	is_int(s->obj, exe, "... the executable's copy wins (copy relocation)");
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "malloc"), -1, &s), 0,
	       "a function in libc and ld.so");
	is_int(s->obj, libc, "... libc's wins; the loader is searched last");
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "helper"), (long)lib2, &s), 0,
	       "a static name resolves in the patched object's scope");
	is_int(s->addr, 0x9100, "... to the scope's own");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "helper"), (long)libc, &s), -ENOENT,
	       "other objects' statics are not candidates (was: ambiguous)");
	has_str(ovup_err_msg(), "static symbols of that name elsewhere: app:a.c#1",
		"... the message lists them");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "only_here"), (long)exe, &s), -ENOENT,
	       "another object's static is not used without a selector (was: resolved)");
	has_str(ovup_err_msg(),
		"not in the static symbols of app and the global symbols of app, "
		"libc.so.6, libfoo.so.1 and ld-linux.so.2",
		"... the message names the objects searched, in search order");
	has_str(ovup_err_msg(), "libfoo.so.1:c.c#1", "... and the static namesake");
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "only_here", .object = "libfoo.so.1"),
				       (long)exe, &s),
	       0, "... which a selector chooses");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "prinft"), -1, &s), -ENOENT,
	       "an unknown symbol");
	has_str(ovup_err_msg(), "did you mean 'printf'", "... suggests the nearest");

	/* the dynamic linker's choices */
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "getpid"), &s), 0,
	       "one global getpid and a static one in the loader: not ambiguous");
	is_int(s->obj, libc, "... libc's global is replaced");
	ovup_symtab_namesakes(&st, s, buf, sizeof(buf));
	has_str(buf, "ld-linux.so.2:rtld.c#1 (static",
		"... the loader's static namesake is listed");
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "memcpy"), (long)lib2, &s), 0,
	       "memcpy: libc's global, not the loader's static");
	is_int(s->addr, 0x7400, "... the default version, not memcpy@GLIBC_2.2.5");
	is_int(s->bind, OVUP_BIND_GLOBAL, "... a static alias at its address does not hide it");
	is_str(s->version, "GLIBC_2.14", "... and its version is kept");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "interposed"), &s), 0,
	       "a global the executable interposes, called by its library through the PLT");
	is_int(s->obj, exe, "... the executable's, which every call reaches");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "both"), &s), -ENOTUNIQ,
	       "two globals both called (the library calls its own directly): ambiguous");
	has_str(ovup_err_msg(),
		"app#1 (global, 0x1600), which every call through a PLT or GOT "
		"binds to, libfoo.so.1#1 (global, 0x9600), which libfoo.so.1's own "
		"calls reach",
		"... the message says which callers bind to each");
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "both", .object = "libfoo.so.1"), &s), 0,
	       "... a selector chooses");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "tbuf"), -1, &s), -ENOENT,
	       "static TLS variables of other objects are not candidates");
	has_str(ovup_err_msg(), "app:a.c#1 (static, 0x0), libfoo.so.1:c.c#1 (static, 0x0)",
		"... at the same offset of two objects they are two, not aliases");
	is_int(ovup_symtab_resolve_ref(&st, SEL(.name = "tbuf"), (long)lib2, &s), 0,
	       "... the patched object's own resolves");
	ok(s->obj == lib2 && s->type == OVUP_SYM_TLS, "... a TLS symbol of that object");
	ovup_err_clear();
	is_int(ovup_symtab_resolve_func(&st, SEL(.name = "terr"), &s), -EINVAL,
	       "a thread-local variable cannot be replaced");
	has_str(ovup_err_msg(), "is a variable", "... it is a variable");
	ok(!ovup_symtab_by_addr(&st, 0x10), "a TLS offset names no function");

	is_int(ovup_symtab_suggest(&st, "compute_", 1, sug, 3), 1, "one function near 'compute_'");
	is_int(ovup_symtab_suggest(&st, "zzzzzzzzzzzz", 1, sug, 3), 0, "nothing near nonsense");
	ok(ovup_symtab_by_addr(&st, 0x1310) &&
		   !strcmp(ovup_symtab_by_addr(&st, 0x1310)->name, "compute"),
	   "an address inside compute names it");
	ok(!ovup_symtab_by_addr(&st, 0x5000), "an address in no function names none");
	ovup_symtab_free(&st);

	/* the kernel's statics (--diff): no file names, so the one of a unit
	 * is the nearest to a global of that unit, within the unit's size */
	{
		struct ovup_symtab k = { 0 };
		uint32_t vm = obj(&k, "vmlinux", 1, 0), mod = obj(&k, "unix", 0, 0);

		ovup_err_clear();
		k.statics_shared = 1;
		ovup_symtab_add(&k, vm, "eventfd_ctx_do_read", 0x10000, 64, OVUP_SYM_FUNC,
				OVUP_BIND_GLOBAL, NULL);
		ovup_symtab_add(&k, vm, "eventfd_write", 0x10400, 64, OVUP_SYM_FUNC,
				OVUP_BIND_LOCAL, NULL);
		ovup_symtab_add(&k, vm, "eventfd_write", 0x11800, 64, OVUP_SYM_FUNC,
				OVUP_BIND_LOCAL, NULL);
		ovup_symtab_add(&k, vm, "eventfd_write", 0x90000, 64, OVUP_SYM_FUNC,
				OVUP_BIND_LOCAL, NULL);
		ovup_symtab_add(&k, vm, "show", 0x50000, 64, OVUP_SYM_FUNC, OVUP_BIND_LOCAL, NULL);
		ovup_symtab_add(&k, mod, "eventfd_write", 0x10100, 64, OVUP_SYM_FUNC,
				OVUP_BIND_LOCAL, NULL);
		ovup_symtab_add(&k, vm, "twice", 0x20000, 64, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL,
				NULL);
		ovup_symtab_add(&k, mod, "twice", 0x30000, 64, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL,
				NULL);
		ovup_symtab_finish(&k);
		is_int(ovup_symtab_resolve_func(&k, SEL(.name = "eventfd_write"), &s), -ENOTUNIQ,
		       "a static kallsyms has four of: ambiguous by name alone");
		ovup_err_clear();
		is_int(ovup_symtab_resolve_func(&k,
						SEL(.name = "eventfd_write",
						    .near = "eventfd_ctx_do_read", .dist = 0x4000),
						&s),
		       0, "near a global of its unit: one");
		ok(s->addr == 0x10400 && s->obj == vm,
		   "... the nearest in the anchor's object (not a module's, though nearer)");
		is_int(ovup_symtab_resolve_ref(&k,
					       SEL(.name = "eventfd_write",
						   .near = "eventfd_ctx_do_read", .dist = 0x4000),
					       -1, &s),
		       0, "a reference the same way");
		ok(s->addr == 0x10400, "... the same one");
		is_int(ovup_symtab_resolve_ref(&k,
					       SEL(.name = "show", .near = "eventfd_ctx_do_read",
						   .dist = 0x4000),
					       -1, &s),
		       -ENOENT, "a name only another unit has, far from the anchor: not bound");
		has_str(ovup_err_msg(),
			"the target has none within 16384 bytes of 'eventfd_ctx_do_read'",
			"... saying so (its build may have inlined the unit's own)");
		ovup_err_clear();
		is_int(ovup_symtab_resolve_func(&k,
						SEL(.name = "eventfd_write", .near = "twice",
						    .dist = 0x100000),
						&s),
		       -ENOENT, "an anchor two objects define: nothing is guessed");
		ovup_err_clear();
		is_int(ovup_symtab_resolve_func(&k,
						SEL(.name = "eventfd_write", .near = "no_such",
						    .dist = 0x100000),
						&s),
		       -ENOENT, "an anchor the target lacks: nothing either");
		ovup_err_clear();
		ovup_symtab_free(&k);
	}
	cache_by_addr(1);
	cache_by_addr(2);
	cache_by_addr(3);
	return tap_done();
}
