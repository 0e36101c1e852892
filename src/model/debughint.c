// SPDX-License-Identifier: MIT
/*
 * What to tell a user about an object whose symbols came from .dynsym
 * only: its build-id, and the ways to its debug file (the package that
 * carries it, the file itself, a debuginfod server), in one wording for
 * every message that needs it.
 */
#define _GNU_SOURCE
#include "symtab.h"
#include "../util/util.h"

#include <stdlib.h>

char *ovup_object_symbols_hint(const struct ovup_object *o)
{
	char hex[2 * OVUP_BUILD_ID_MAX + 1] = "";
	struct ovup_buf b = { 0 };
	char *pkg;

	if (o->build_id_len)
		ovup_hex(hex, o->build_id, o->build_id_len);
	/* dpkg-query runs here, not when the symbols are read: only a
	 * message that needs the name pays for it */
	pkg = o->path[0] == '/' ? ovup_debug_package(o->path) : NULL;
	ovup_buf_printf(&b, "has only .dynsym, no symbol table (%s%s); install ",
			hex[0] ? "build-id " : "no build-id", hex);
	if (pkg && o->debug_hint)
		ovup_buf_printf(&b, "%s or its debug file %s", pkg, o->debug_hint);
	else if (pkg || o->debug_hint)
		ovup_buf_printf(&b, "%s%s", o->debug_hint ? "its debug file " : "",
				pkg ? pkg : o->debug_hint);
	else
		ovup_buf_printf(&b, "its debug symbols");
	/* a server finds a debug file by build-id only */
	if (o->debuginfod)
		ovup_buf_printf(&b, "; %s", o->debuginfod);
	else if (hex[0])
		ovup_buf_printf(&b, ", or set DEBUGINFOD_URLS to a debuginfod server");
	free(pkg);
	return b.s;
}

void ovup_symbols_hints_prefetch(const struct ovup_symtab *st)
{
	const char **paths = ovup_xcalloc(st->nobjs + 1, sizeof(*paths));
	size_t i, n = 0;

	for (i = 0; i < st->nobjs; i++)
		if (!st->objs[i].full && st->objs[i].path[0] == '/')
			paths[n++] = st->objs[i].path;
	if (n)
		ovup_debug_packages_prefetch(paths, n);
	free(paths);
}
