// SPDX-License-Identifier: MIT
/*
 * The code as it was before any patch, read from the files the process
 * mapped (its memory may hold a patch already): a symbol's bytes from its
 * object (pristine), bytes at an address (original), and a whole
 * executable mapping (code_at).
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../elf/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ovup_proc_pristine(struct ovup_target *t, const struct ovup_symtab *st,
		       const struct ovup_sym *s, uint64_t addr, void *buf, size_t len)
{
	const struct ovup_object *o = &st->objs[s->obj];
	int fd, ret;

	(void)t;
	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ovup_elf_read_vaddr(fd, addr - o->bias, buf, len);
	close(fd);
	return ret;
}

/* The executable file mapping that holds [addr, addr+len), opened
 * through map_files: the very file mapped, even if replaced on disk
 * since.  The fd, or -ENOENT. */
static int open_code(struct proc_target *p, uint64_t addr, uint64_t len, struct ovup_map *out)
{
	struct ovup_map *m;
	size_t n, i;
	int fd = -ENOENT;

	if (ovup_proc_read_maps(p, &m, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		char path[128];

		if (addr < m[i].start || addr + len > m[i].end || m[i].perms[2] != 'x' ||
		    m[i].path[0] != '/')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, p->pid,
			 m[i].start, m[i].end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -ENOENT;
		*out = m[i];
		out->path = NULL;
		break;
	}
	ovup_maps_free(m, n);
	return fd;
}

int ovup_proc_original(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct proc_target *p = ovup_to_proc(t);
	struct ovup_map m;
	int fd = open_code(p, addr, len, &m), ret;

	if (fd < 0)
		return fd;
	ret = pread(fd, buf, len, (off_t)(m.offset + addr - m.start)) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return ret;
}

int ovup_proc_code_at(struct ovup_target *t, uint64_t addr, uint8_t **buf, uint64_t *start,
		      size_t *len)
{
	struct proc_target *p = ovup_to_proc(t);
	struct ovup_map m;
	int fd = open_code(p, addr, 1, &m);
	ssize_t got;

	if (fd < 0)
		return fd;
	*len = (size_t)(m.end - m.start);
	*buf = ovup_xmalloc(*len);
	*start = m.start;
	/* the mapping may run past the end of the file: the rest is zeros */
	memset(*buf, 0, *len);
	got = pread(fd, *buf, *len, (off_t)m.offset);
	close(fd);
	if (got < 0) {
		free(*buf);
		*buf = NULL;
		return -EIO;
	}
	return 0;
}
