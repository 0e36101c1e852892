// SPDX-License-Identifier: MIT
/*
 * A thread-local variable of the process, as a constant offset from the
 * thread pointer: possible for the objects whose TLS block the loader put
 * in static TLS (those loaded at start), at the same distance below the
 * thread pointer in every thread (x86-64, TLS variant II).
 */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <inttypes.h>

int ovup_proc_tls_offset(struct ovup_target *t, const struct ovup_symtab *st,
			 const struct ovup_sym *s, int64_t *tpoff)
{
	struct proc_target *p = ovup_to_proc(t);
	const struct ovup_object *o = &st->objs[s->obj];
	const struct ovup_linkmap *e;
	struct ovup_linkmap *m;
	size_t n;
	int ret;

	ret = ovup_proc_link_maps(p, 1, &m, &n);
	if (ret)
		return ret;
	e = ovup_linkmap_find(m, n, o);
	if (!e)
		ret = ovup_err(-ENOENT,
			       "pid %d: thread-local variable '%s' of %s: the loader does "
			       "not list %s, so its TLS block cannot be found",
			       p->pid, s->name, o->name, o->name);
	else if (e->tls_modid < 0)
		ret = ovup_err(-ENOTSUP,
			       "pid %d: thread-local variable '%s' of %s: where the loader "
			       "keeps TLS blocks is unknown (no _thread_db_link_map_l_tls_* "
			       "descriptors in libc: not glibc?)",
			       p->pid, s->name, o->name);
	else if (e->tls_modid == 0)
		ret = ovup_err(-ENOENT,
			       "pid %d: thread-local variable '%s' of %s: the loader gave "
			       "%s no TLS block",
			       p->pid, s->name, o->name, o->name);
	else if (e->tls_offset == OVUP_NO_TLS_OFFSET ||
		 e->tls_offset == OVUP_FORCED_DYNAMIC_TLS_OFFSET)
		/* each thread gets such a block when it first touches it, at
		 * an address of its own: no constant reaches it */
		ret = ovup_err(-ENOTSUP,
			       "pid %d: variable '%s' of %s is in dynamic TLS (loaded by "
			       "dlopen); ovup can only reach thread-local variables of "
			       "objects loaded at start",
			       p->pid, s->name, o->name);
	else
		*tpoff = (int64_t)s->addr - e->tls_offset;
	if (!ret)
		ovup_info("pid %d: thread-local '%s' of %s: %" PRId64 " from the thread pointer "
			  "(offset %#" PRIx64 " in module %ld, l_tls_offset %" PRId64 ")",
			  p->pid, s->name, o->name, *tpoff, s->addr, e->tls_modid, e->tls_offset);
	ovup_linkmaps_free(m, n);
	return ret;
}
