// SPDX-License-Identifier: MIT
/*
 * What both targets share to turn a patch file into an object: the
 * compiler run for user space, the sorting of a user-space object's
 * sections into text, read-only and writable data, and where ovup.h is.
 */
#define _GNU_SOURCE
#include "compile.h"
#include "../elf/elf.h"
#include "../util/util.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ovup_classify_user(const char *name, uint64_t flags, uint32_t type)
{
	if (!strncmp(name, ".ovup.", 6))
		return OVUP_SEC_META;
	if (!(flags & SHF_ALLOC))
		return OVUP_SEC_IGNORE;
	if (!strcmp(name, ".eh_frame") || !strncmp(name, ".note", 5) || type == SHT_NOTE ||
	    type == SHT_GROUP)
		return OVUP_SEC_IGNORE;
	if (flags & SHF_TLS)
		return OVUP_SEC_REJECT;
	if (!strncmp(name, ".init_array", 11) || !strncmp(name, ".fini_array", 11) ||
	    !strncmp(name, ".ctors", 6) || !strncmp(name, ".dtors", 6) || !strcmp(name, ".init") ||
	    !strcmp(name, ".fini") || !strncmp(name, ".preinit", 8))
		return OVUP_SEC_REJECT;
	if (flags & SHF_EXECINSTR)
		return !strcmp(name, ".text") || !strncmp(name, ".text.", 6) ? OVUP_SEC_TEXT
									     : OVUP_SEC_REJECT;
	if (type == SHT_NOBITS)
		return !strcmp(name, ".bss") || !strncmp(name, ".bss.", 5) ? OVUP_SEC_BSS
									   : OVUP_SEC_REJECT;
	if (!strcmp(name, ".rodata") || !strncmp(name, ".rodata.", 8) ||
	    !strcmp(name, ".data.rel.ro") || !strncmp(name, ".data.rel.ro.", 13))
		return OVUP_SEC_RO;
	if (flags & SHF_WRITE)
		return !strcmp(name, ".data") || !strncmp(name, ".data.", 6) ? OVUP_SEC_RW
									     : OVUP_SEC_REJECT;
	return OVUP_SEC_REJECT;
}

/* The directory `make install` put ovup.h in, PREFIX/share/ovup/include
 * (the Makefile passes it); this default is the Makefile's own. */
#ifndef OVUP_INCLUDE_DIR
#define OVUP_INCLUDE_DIR "/usr/local/share/ovup/include"
#endif

/* Where ovup.h may be, in the order it is looked for: next to the
 * executable first, an install (BIN/../share/ovup/include: a DESTDIR
 * staging or a moved prefix too) or the source tree (build/../include),
 * so that build/ovup uses its own tree's header even where an older ovup
 * is installed; then the configured directory, for a binary copied
 * elsewhere.  Returns how many of max were filled. */
static size_t include_candidates(char dirs[][PATH_MAX], size_t max)
{
	static const char *const rel[] = { "/../share/ovup/include", "/../include" };
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t n = 0, i;
	char *slash;

	if (len > 0) {
		exe[len] = 0;
		slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		for (i = 0; i < OVUP_ARRAY_SIZE(rel) && n < max; i++)
			if (strlen(exe) + strlen(rel[i]) < PATH_MAX)
				snprintf(dirs[n++], PATH_MAX, "%s%s", exe, rel[i]);
	}
	if (n < max)
		snprintf(dirs[n++], PATH_MAX, "%s", OVUP_INCLUDE_DIR);
	return n;
}

static int has_header(const char *dir)
{
	char probe[PATH_MAX + 16];

	snprintf(probe, sizeof(probe), "%s/ovup.h", dir);
	return !access(probe, R_OK);
}

const char *ovup_include_dir(void)
{
	static char found[PATH_MAX];
	char dirs[4][PATH_MAX];
	const char *env = getenv("OVUP_INCLUDE");
	size_t n, i;

	if (env && *env)
		return env;
	if (found[0])
		return found;
	n = include_candidates(dirs, OVUP_ARRAY_SIZE(dirs));
	for (i = 0; i < n; i++)
		if (has_header(dirs[i])) {
			snprintf(found, sizeof(found), "%s", dirs[i]);
			return found;
		}
	/* none: the configured one, which the diagnosis names */
	return OVUP_INCLUDE_DIR;
}

char *ovup_include_missing(void)
{
	const char *env = getenv("OVUP_INCLUDE");
	struct ovup_buf b = { 0 };
	char dirs[4][PATH_MAX];
	size_t n, i;

	if (has_header(ovup_include_dir()))
		return NULL;
	if (env && *env)
		return ovup_xasprintf("ovup.h is not in %s (OVUP_INCLUDE); set OVUP_INCLUDE to "
				      "the directory that holds it, or unset it",
				      env);
	ovup_buf_printf(&b, "ovup.h was not found (looked in");
	n = include_candidates(dirs, OVUP_ARRAY_SIZE(dirs));
	for (i = 0; i < n; i++)
		ovup_buf_printf(&b, "%s %s", i ? "," : "", dirs[i]);
	ovup_buf_printf(&b, "); install ovup ('make install') or set OVUP_INCLUDE to the "
			    "directory that holds ovup.h");
	return b.s;
}

/* The compiler's command line, in argv (room for 32 + nextra); argv[0]
 * is the compiler. */
static void cc_argv(char **argv, const char *inc, const char *src, const char *out,
		    char *const extra[], size_t nextra)
{
	const char *cc = getenv("CC");
	size_t n = 0, i;

	argv[n++] = (char *)(cc && *cc ? cc : "cc");
	argv[n++] = "-c";
	argv[n++] = "-O2";
	/* -fPIC -fno-plt: every function and variable of the target is reached
	 * through the GOT that ld fills with absolute addresses, because the
	 * target's libraries lie farther than +-2 GiB from the patch */
	argv[n++] = "-fPIC";
	argv[n++] = "-fno-plt";
	/* the target's thread-local variables through a slot holding their
	 * offset from the thread pointer (core/link.c): the only model that
	 * needs neither the loader (__tls_get_addr) nor the patch to be the
	 * executable */
	argv[n++] = "-ftls-model=initial-exec";
	argv[n++] = "-fno-common";
	argv[n++] = "-fno-asynchronous-unwind-tables";
	argv[n++] = "-fno-exceptions";
	/* a patch that replaces strlen or memcpy defines a function the
	 * compiler thinks it knows: it must neither assume the builtin's
	 * contract (nonnull, ...) nor turn a loop into a call of it, which is
	 * now the patch itself */
	argv[n++] = "-fno-builtin";
	argv[n++] = "-fno-tree-loop-distribute-patterns";
	/* the register contract (contract.c): DWARF tells whether a function
	 * takes arguments on the stack, which a wrapper cannot pass; without
	 * jump tables every indirect jump of the patch is a tail call, so the
	 * analysis need not assume the worst of a switch */
	argv[n++] = "-g";
	argv[n++] = "-fno-jump-tables";
	argv[n++] = (char *)inc;
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	argv[n++] = (char *)src;
	for (i = 0; i < nextra; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
}

int ovup_cc_compile(struct ovup_target *t, const char *src, const char *out, char *const extra[],
		    size_t nextra)
{
	char **argv, *inc, *output = NULL, *missing;
	const char *cc;
	int ret;

	(void)t;
	if (nextra > 1024)
		return ovup_err(-E2BIG, "too many compiler flags (%zu, at most 1024)", nextra);
	argv = ovup_xcalloc(32 + nextra + 1, sizeof(*argv));
	inc = ovup_xasprintf("-I%s", ovup_include_dir());
	cc_argv(argv, inc, src, out, extra, nextra);
	ret = ovup_run(argv, &output);
	cc = argv[0]; /* a literal or the environment's: outlives argv */
	free(argv);
	if (ret != 0) {
		if (output && *output)
			fputs(output, stderr);
		/* the compiler names the header it did not find: say where
		 * ovup looked for it, and how to point it there */
		missing = output && strstr(output, "ovup.h") ? ovup_include_missing() : NULL;
		free(output);
		free(inc);
		if (ret < 0)
			return ovup_err(ret,
					"cannot run the compiler '%s': %s; install gcc "
					"(apt-get install gcc) or set CC",
					cc, strerror(-ret));
		if (missing) {
			ret = ovup_err(-EINVAL, "%s: the patch does not compile: %s", src, missing);
			free(missing);
			return ret;
		}
		return ovup_err(-EINVAL,
				"%s: the patch does not compile (compiler errors above); "
				"fix them and try again",
				src);
	}
	if (output && *output)
		fputs(output, stderr); /* warnings */
	free(output);
	free(inc);
	return 0;
}
