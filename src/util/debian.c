// SPDX-License-Identifier: MIT
/*
 * Debian package lookup: which package ships a file's debug symbols, so an
 * error can name the package to install.
 */
#define _GNU_SOURCE
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Answers already known: one dpkg-query reads dpkg's whole database, a
 * fifth of a second, so a message about several objects asks once. */
static struct {
	char *path, *pkg; /* pkg NULL: no package ships it */
} cache[64];
static size_t ncache;

static int cached(const char *path, char **pkg)
{
	size_t i;

	for (i = 0; i < ncache; i++)
		if (!strcmp(cache[i].path, path)) {
			*pkg = cache[i].pkg ? ovup_xstrdup(cache[i].pkg) : NULL;
			return 1;
		}
	return 0;
}

/* libc's debug symbols are in Debian main; others in the debug archive
 * as -dbgsym */
static char *dbg_name(const char *pkg, size_t len)
{
	if (len == 5 && !strncmp(pkg, "libc6", 5))
		return ovup_xstrdup("libc6-dbg");
	return ovup_xasprintf("%.*s-dbgsym", (int)len, pkg);
}

/* The package of path in dpkg-query -S's output ("pkg[:arch][, ...]: /file"
 * lines); merged /usr: dpkg may know /lib/x.so where the process maps
 * /usr/lib/x.so. */
static char *find_owner(const char *out, const char *path)
{
	const char *line = out;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *sep = strstr(line, ": /");
		size_t flen = end ? (size_t)(end - line) : strlen(line);

		if (sep && sep < line + flen && strncmp(line, "dpkg-query:", 11)) {
			const char *file = sep + 2;
			size_t n = (size_t)(line + flen - file);

			if ((n == strlen(path) && !strncmp(file, path, n)) ||
			    (!strncmp(path, "/usr/", 5) && n == strlen(path + 4) &&
			     !strncmp(file, path + 4, n)))
				return dbg_name(line, strcspn(line, ":,"));
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

void ovup_debug_packages_prefetch(const char *const paths[], size_t n)
{
	char **argv = ovup_xcalloc(2 * n + 3, sizeof(*argv)), *out = NULL, *pkg;
	size_t i, k = 0;

	argv[k++] = "dpkg-query";
	argv[k++] = "-S";
	for (i = 0; i < n; i++) {
		if (cached(paths[i], &pkg)) {
			free(pkg);
			continue;
		}
		argv[k++] = (char *)paths[i];
		if (!strncmp(paths[i], "/usr/", 5))
			argv[k++] = (char *)paths[i] + 4;
	}
	if (k > 2) {
		/* exit 1 when one path is nobody's: the others still print */
		ovup_run(argv, &out);
		for (i = 0; i < n && ncache < OVUP_ARRAY_SIZE(cache); i++) {
			if (cached(paths[i], &pkg)) {
				free(pkg);
				continue;
			}
			cache[ncache].path = ovup_xstrdup(paths[i]);
			cache[ncache++].pkg = out ? find_owner(out, paths[i]) : NULL;
		}
	}
	free(out);
	free(argv);
}

char *ovup_debug_package(const char *path)
{
	char *pkg;

	if (!cached(path, &pkg)) {
		ovup_debug_packages_prefetch(&path, 1);
		if (!cached(path, &pkg))
			pkg = NULL;
	}
	return pkg;
}
