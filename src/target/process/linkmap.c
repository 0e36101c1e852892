// SPDX-License-Identifier: MIT
/*
 * The loader's list of loaded objects, read through /proc/PID/mem: the
 * executable's DT_DEBUG gives r_debug, r_debug gives the first link_map,
 * and the public head of each link_map (l_addr, l_name, l_ld, l_next)
 * the rest; glibc's descriptors for debuggers locate its private TLS
 * fields.  Nothing here needs the target stopped.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../elf/elf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OBJECTS 65536 /* a longer list is a cycle: memory changed under us */
#define MAX_NAME 4096

/* struct r_debug and the public head of struct link_map (<link.h>), LP64 */
#define R_MAP 8
#define R_STATE 24
#define RT_CONSISTENT 0
#define L_ADDR 0
#define L_NAME 8
#define L_LD 16
#define L_NEXT 24
#define LINK_MAP_HEAD 40

/* Quiet: the caller reports, naming what it was reading. */
static int rd(struct proc_target *p, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(p->memfd, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static uint64_t u64_at(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* A NUL-terminated string, read a page at a time: it may end just
 * before an unmapped page. */
static char *read_string(struct proc_target *p, uint64_t addr)
{
	char *s = ovup_xmalloc(MAX_NAME);
	size_t got = 0;

	while (addr && got + 1 < MAX_NAME) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		char *nul;

		if (chunk > MAX_NAME - 1 - got)
			chunk = MAX_NAME - 1 - got;
		if (rd(p, addr + got, s + got, chunk))
			break;
		nul = memchr(s + got, 0, chunk);
		if (nul)
			return s;
		got += chunk;
	}
	s[got] = 0;
	return s;
}

/* The address of r_debug, which the loader stores in the executable's
 * DT_DEBUG entry: found through the program headers the auxiliary
 * vector points to. */
static int find_r_debug(struct proc_target *p, uint64_t *r_debug)
{
	uint64_t phdr = 0, phnum = 0, bias = 0, dyn = 0, dynsz = 0, *a;
	char path[64], *auxv;
	size_t alen, i;
	int have_phdr = 0;

	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	auxv = ovup_read_file(path, &alen);
	if (!auxv)
		return ovup_proc_gone(p);
	a = (uint64_t *)auxv;
	for (i = 0; (i + 1) * 16 <= alen; i++) {
		if (a[2 * i] == AT_PHDR)
			phdr = a[2 * i + 1];
		else if (a[2 * i] == AT_PHNUM)
			phnum = a[2 * i + 1];
	}
	free(auxv);
	for (i = 0; i < phnum && i < 256; i++) {
		Elf64_Phdr ph;

		if (rd(p, phdr + i * sizeof(ph), &ph, sizeof(ph)))
			return ovup_err(-EIO,
					"pid %d: cannot read its program headers at 0x%" PRIx64,
					p->pid, phdr);
		if (ph.p_type == PT_PHDR) {
			bias = phdr - ph.p_vaddr;
			have_phdr = 1;
		} else if (ph.p_type == PT_DYNAMIC) {
			dyn = ph.p_vaddr;
			dynsz = ph.p_memsz;
		}
	}
	if (!dynsz || !have_phdr)
		return ovup_err(-ENOENT,
				"pid %d: the program has no dynamic section: statically "
				"linked, so there is no loader's list of objects",
				p->pid);
	for (i = 0; (i + 1) * sizeof(Elf64_Dyn) <= dynsz; i++) {
		Elf64_Dyn d;

		if (rd(p, bias + dyn + i * sizeof(d), &d, sizeof(d)))
			break;
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_DEBUG && d.d_un.d_ptr) {
			*r_debug = d.d_un.d_ptr;
			return 0;
		}
	}
	return ovup_err(-ENOENT,
			"pid %d: the program's DT_DEBUG is empty: no dynamic loader "
			"has run in it (statically linked?)",
			p->pid);
}

struct tls_desc {
	uint64_t sym_offset, sym_modid; /* link-time addresses of the descriptors */
};

static int desc_name(const char *name, const char *want)
{
	size_t n = strlen(want);

	/* a versioned name (x@@GLIBC_PRIVATE) is the same descriptor */
	return !strncmp(name, want, n) && (name[n] == 0 || name[n] == '@');
}

static void find_desc(void *arg, const struct ovup_elf_sym *s)
{
	struct tls_desc *d = arg;

	if (desc_name(s->name, "_thread_db_link_map_l_tls_offset"))
		d->sym_offset = s->value;
	else if (desc_name(s->name, "_thread_db_link_map_l_tls_modid"))
		d->sym_modid = s->value;
}

/* The offset of a 64-bit field of struct link_map, from the descriptor
 * {bits, count, offset} at addr; -1 if it does not describe one. */
static long field_offset(struct proc_target *p, uint64_t addr)
{
	uint32_t desc[3];

	if (!addr || rd(p, addr, desc, sizeof(desc)) || desc[0] != 64 || desc[1] != 1 ||
	    desc[2] < LINK_MAP_HEAD || desc[2] > 1 << 16)
		return -1;
	return (long)desc[2];
}

/* Where l_tls_offset and l_tls_modid lie in the loader's struct link_map:
 * glibc exports descriptors for libthread_db in libc.so.6 (libpthread.so.0
 * before 2.34).  Both -1 when no object has them. */
static void find_tls_fields(struct proc_target *p, const struct ovup_linkmap *m, size_t n,
			    long *off_offset, long *off_modid)
{
	size_t i;

	*off_offset = *off_modid = -1;
	for (i = 0; i < n && *off_offset < 0; i++) {
		const char *base = ovup_basename(m[i].name);
		struct tls_desc d = { 0 };
		char *path;
		int fd;

		if (strncmp(base, "libc.so.", 8) && strncmp(base, "libpthread.so.", 14))
			continue;
		/* the file as the target sees it, through its root */
		path = ovup_xasprintf("/proc/%d/root%s", p->pid, m[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
		if (fd < 0)
			continue;
		ovup_elf_symbols(fd, 1, find_desc, &d);
		close(fd);
		if (!d.sym_offset || !d.sym_modid)
			continue;
		*off_offset = field_offset(p, m[i].l_addr + d.sym_offset);
		*off_modid = field_offset(p, m[i].l_addr + d.sym_modid);
		if (*off_modid < 0)
			*off_offset = -1;
	}
}

/* One pass over the list; -EAGAIN if the loader was changing it. */
static int walk(struct proc_target *p, uint64_t r_debug, struct ovup_linkmap **out, size_t *n)
{
	uint64_t lm;
	uint8_t head[LINK_MAP_HEAD];
	int32_t state;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (rd(p, r_debug + R_STATE, &state, sizeof(state)) || rd(p, r_debug + R_MAP, &lm, 8))
		return -EIO;
	if (state != RT_CONSISTENT)
		return -EAGAIN;
	while (lm) {
		struct ovup_linkmap *e;

		if (*n >= MAX_OBJECTS || rd(p, lm, head, sizeof(head)))
			return -EAGAIN;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = ovup_xrealloc(*out, cap * sizeof(**out));
		}
		e = &(*out)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->addr = lm;
		e->l_addr = u64_at(head, L_ADDR);
		e->l_ld = u64_at(head, L_LD);
		e->name = read_string(p, u64_at(head, L_NAME));
		e->tls_modid = -1;
		lm = u64_at(head, L_NEXT);
	}
	/* a dlopen that began while we walked may have left us half a list */
	if (rd(p, r_debug + R_STATE, &state, sizeof(state)) || state != RT_CONSISTENT)
		return -EAGAIN;
	return 0;
}

int ovup_proc_link_maps(struct proc_target *p, int tls, struct ovup_linkmap **out, size_t *n)
{
	uint64_t r_debug = 0;
	long off_offset, off_modid;
	size_t i;
	int ret, tries;

	*out = NULL;
	*n = 0;
	ret = find_r_debug(p, &r_debug);
	if (ret)
		return ret;
	for (tries = 0; tries < 200; tries++) {
		ret = walk(p, r_debug, out, n);
		if (ret != -EAGAIN)
			break;
		ovup_linkmaps_free(*out, *n);
		*out = NULL;
		*n = 0;
		ovup_sleep_us(1000);
	}
	if (ret) {
		if (ovup_proc_dead(p->pid))
			return ovup_proc_gone(p);
		return ovup_err(ret,
				"pid %d: cannot read the loader's list of objects (r_debug at "
				"0x%" PRIx64 ")%s",
				p->pid, r_debug,
				ret == -EAGAIN ? ": it kept changing (a dlopen or dlclose "
						 "running?); try again"
					       : "");
	}
	/* reading libc's .dynsym for them costs more than the rest */
	if (!tls)
		return 0;
	find_tls_fields(p, *out, *n, &off_offset, &off_modid);
	for (i = 0; i < *n && off_offset >= 0; i++) {
		struct ovup_linkmap *e = &(*out)[i];
		uint64_t v;

		if (rd(p, e->addr + (uint64_t)off_modid, &v, 8))
			continue;
		e->tls_modid = (long)v;
		if (rd(p, e->addr + (uint64_t)off_offset, &v, 8)) {
			e->tls_modid = -1;
			continue;
		}
		e->tls_offset = (int64_t)v;
	}
	return 0;
}

void ovup_linkmaps_free(struct ovup_linkmap *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].name);
	free(m);
}

const struct ovup_linkmap *ovup_linkmap_find(const struct ovup_linkmap *m, size_t n,
					     const struct ovup_object *o)
{
	const struct ovup_linkmap *only = NULL;
	size_t i, cnt = 0;

	if (o->is_main)
		return n && m[0].l_addr == o->bias ? &m[0] : NULL;
	for (i = 1; i < n; i++) {
		if (m[i].l_addr != o->bias)
			continue;
		/* the loader's path may differ from the maps' by symlinks
		 * (/lib64 or /lib vs /usr/lib): the file name decides */
		if (!strcmp(ovup_basename(m[i].name), o->name))
			return &m[i];
		only = &m[i];
		cnt++;
	}
	return cnt == 1 ? only : NULL;
}
