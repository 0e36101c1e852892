/* SPDX-License-Identifier: MIT */
/*
 * The dynamic loader's own list of the objects it loaded (struct link_map,
 * reached through r_debug), read from the target's memory: the order the
 * loader searches them in, and where each one's thread-local block is.
 */
#ifndef OVUP_LINKMAP_H
#define OVUP_LINKMAP_H

#include <stddef.h>
#include <stdint.h>

struct proc_target;
struct ovup_object;

/* glibc's l_tls_offset values that name no static TLS block */
#define OVUP_NO_TLS_OFFSET 0
#define OVUP_FORCED_DYNAMIC_TLS_OFFSET (-1)

struct ovup_linkmap {
	uint64_t addr;   /* of the struct link_map in the target */
	uint64_t l_addr; /* load bias: run-time minus link-time address */
	char *name;      /* l_name: "" for the executable, else the path the loader opened */
	uint64_t l_ld;   /* run-time address of its dynamic section */
	/* glibc's private fields, found through the descriptors libc exports
	 * for debuggers (_thread_db_link_map_l_tls_*): the module id (0: the
	 * object has no TLS; -1: unknown, no descriptors) and l_tls_offset,
	 * the thread pointer minus the start of its block in static TLS, or
	 * OVUP_NO_TLS_OFFSET / OVUP_FORCED_DYNAMIC_TLS_OFFSET when it has no
	 * block there (loaded by dlopen) */
	long tls_modid;
	int64_t tls_offset;
};

/* The main namespace's list, in the loader's order (the executable first;
 * the loader itself wherever it stands, usually last).  Reads memory
 * only: the target need not be stopped.  0, or -errno with the message
 * set (-ENOENT: no dynamic loader, e.g. a static program).  The TLS
 * fields only if tls (else tls_modid is -1). */
int ovup_proc_link_maps(struct proc_target *p, int tls, struct ovup_linkmap **out, size_t *n);
void ovup_linkmaps_free(struct ovup_linkmap *m, size_t n);

/* The entry of an object of the symbol table (its bias and path), or NULL:
 * the one whose l_addr is the object's bias; among several, the
 * executable's (listed first, with an empty name) for the main program,
 * else the one with the same file name. */
const struct ovup_linkmap *ovup_linkmap_find(const struct ovup_linkmap *m, size_t n,
					     const struct ovup_object *o);

#endif
