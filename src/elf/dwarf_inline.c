// SPDX-License-Identifier: MIT
/*
 * What DWARF tells about a function ovup replaces: the functions it was
 * inlined into.  Those copies keep the old code after the switch, which is
 * how other tools' patches end up silently incomplete.  With dwarf_call.c,
 * the only files that call libdw.
 */
#define _GNU_SOURCE
#include "elf.h"
#include "../util/util.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct walk {
	const char *name;
	Dwarf_Off *defs; /* DIEs of subprograms called name */
	size_t ndefs, capdefs;
	char **callers;
	size_t ncallers;
	int pass;
};

static void add_def(struct walk *w, Dwarf_Off off)
{
	if (w->ndefs == w->capdefs) {
		w->capdefs = w->capdefs ? w->capdefs * 2 : 8;
		w->defs = ovup_xrealloc(w->defs, w->capdefs * sizeof(*w->defs));
	}
	w->defs[w->ndefs++] = off;
}

static int is_def(const struct walk *w, Dwarf_Off off)
{
	size_t i;

	for (i = 0; i < w->ndefs; i++)
		if (w->defs[i] == off)
			return 1;
	return 0;
}

static void add_caller(struct walk *w, const char *caller)
{
	size_t i;

	for (i = 0; i < w->ncallers; i++)
		if (!strcmp(w->callers[i], caller))
			return;
	w->callers = ovup_xrealloc(w->callers, (w->ncallers + 1) * sizeof(*w->callers));
	w->callers[w->ncallers++] = ovup_xstrdup(caller);
}

/* pass 0 collects the subprograms named w->name; pass 1 finds inlined
 * instances of them and the subprogram each sits in */
static void walk(struct walk *w, Dwarf_Die *die, const char *in_func, int depth)
{
	Dwarf_Die child;

	if (depth > 64 || dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		const char *here = in_func;

		if (tag == DW_TAG_subprogram) {
			Dwarf_Attribute a;
			const char *n = dwarf_formstring(
				dwarf_attr_integrate(&child, DW_AT_name, &a));

			if (w->pass == 0 && n && !strcmp(n, w->name))
				add_def(w, dwarf_dieoffset(&child));
			here = n ? n : in_func;
		} else if (tag == DW_TAG_inlined_subroutine && w->pass == 1) {
			Dwarf_Attribute a;
			Dwarf_Die origin;

			if (dwarf_attr(&child, DW_AT_abstract_origin, &a) &&
			    dwarf_formref_die(&a, &origin) && is_def(w, dwarf_dieoffset(&origin)) &&
			    in_func && strcmp(in_func, w->name))
				add_caller(w, in_func);
		}
		walk(w, &child, here, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

int ovup_dwarf_inlined_callers(const char *path, uint64_t addr, const char *name, char ***callers,
			       size_t *ncallers)
{
	struct walk w = { .name = name };
	Dwarf_Die cu;
	Dwarf *dbg;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	*callers = NULL;
	*ncallers = 0;
	if (fd < 0)
		return -errno;
	dbg = dwarf_begin(fd, DWARF_C_READ);
	if (!dbg) {
		close(fd);
		return -ENOENT; /* no DWARF in this file */
	}
	/* without LTO a function is inlined only within its own unit */
	if (!dwarf_addrdie(dbg, addr, &cu)) {
		ret = -ENOENT;
		goto out;
	}
	for (w.pass = 0; w.pass < 2; w.pass++)
		walk(&w, &cu, NULL, 0);
	*callers = w.callers;
	*ncallers = w.ncallers;
out:
	free(w.defs);
	dwarf_end(dbg);
	close(fd);
	return ret;
}

int ovup_dwarf_producer(const char *path, uint64_t addr, char **producer)
{
	Dwarf_Attribute at;
	const char *s;
	Dwarf_Die cu;
	Dwarf *dbg;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -ENOENT;

	*producer = NULL;
	if (fd < 0)
		return -errno;
	dbg = dwarf_begin(fd, DWARF_C_READ);
	if (dbg && dwarf_addrdie(dbg, addr, &cu) &&
	    (s = dwarf_formstring(dwarf_attr(&cu, DW_AT_producer, &at)))) {
		*producer = strdup(s);
		ret = *producer ? 0 : -ENOMEM;
	}
	if (dbg)
		dwarf_end(dbg);
	close(fd);
	return ret;
}
