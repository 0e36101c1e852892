// SPDX-License-Identifier: MIT
/*
 * The process's address space as ovup sees it: /proc/PID/maps (with a dry
 * run's planned blocks counted as taken), /proc/PID/stat, and reading and
 * writing through /proc/PID/mem, which, like the paper's ov_pawrite, writes
 * past the page protection.
 */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads /proc/PID/stat fields (1-based numbering as in proc(5)). */
static int read_stat_fields(int pid, const int *want, uint64_t *out, size_t n)
{
	char path[64], *text, *p;
	size_t i;
	int field = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	text = ovup_read_file(path, NULL);
	if (!text)
		return errno == ENOENT ? -ESRCH : -errno;
	p = strrchr(text, ')'); /* comm may hold spaces and parentheses */
	if (!p) {
		free(text);
		return -EINVAL;
	}
	p += 2;
	while (*p) {
		for (i = 0; i < n; i++)
			if (want[i] == field)
				out[i] = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
		field++;
	}
	free(text);
	return 0;
}

void ovup_proc_start_brk(struct proc_target *p, uint64_t *brk)
{
	static const int brk_fields[] = { 47 /* start_brk */ };

	read_stat_fields(p->pid, brk_fields, brk, 1);
}

static int map_cmp(const void *a, const void *b)
{
	const struct ovup_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int ovup_proc_read_maps(struct proc_target *p, struct ovup_map **m, size_t *n)
{
	char path[64], *text;
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	text = ovup_read_file(path, NULL);
	if (!text)
		return ovup_proc_gone(p);
	ret = ovup_maps_parse(text, m, n);
	free(text);
	if (ret)
		return ovup_err(ret, "pid %d: cannot parse /proc/%d/maps", p->pid, p->pid);
	if (!p->nplanned)
		return 0;
	/* a dry run's earlier choices count as taken */
	*m = ovup_xrealloc(*m, (*n + p->nplanned) * sizeof(**m));
	for (i = 0; i < p->nplanned; i++) {
		struct ovup_map *e = &(*m)[(*n)++];

		memset(e, 0, sizeof(*e));
		e->start = p->planned[i].addr;
		e->end = p->planned[i].addr + p->planned[i].size;
		memcpy(e->perms, "---p", 5);
		e->path = ovup_xstrdup("[planned]");
	}
	qsort(*m, *n, sizeof(**m), map_cmp);
	return 0;
}

int ovup_proc_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct proc_target *p = ovup_to_proc(t);
	ssize_t n = pread(p->memfd, buf, len, (off_t)addr);

	if (n == (ssize_t)len)
		return 0;
	/* 0 bytes: the address space is gone, before the process is a
	 * zombie (an unmapped address fails with EIO instead) */
	if (n == 0 || ovup_proc_dead(p->pid))
		return ovup_proc_gone(p);
	return ovup_err(n < 0 ? -errno : -EIO, "pid %d: cannot read %zu bytes at 0x%" PRIx64 ": %s",
			p->pid, len, addr, n < 0 ? strerror(errno) : "short read");
}

int ovup_proc_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len)
{
	struct proc_target *p = ovup_to_proc(t);
	ssize_t n;

	if (ovup_fault("exit-target-at-load")) {
		/* test hook: the process dies in the middle of an apply; wait
		 * until its memory is gone (it may stay a zombie) */
		int i;
		char c;

		kill(p->pid, SIGKILL);
		for (i = 0; i < 2000 && pread(p->memfd, &c, 1, (off_t)addr) == 1; i++)
			ovup_sleep_us(1000);
	}
	n = pwrite(p->memfd, buf, len, (off_t)addr);
	if (n == (ssize_t)len)
		return 0;
	if (n == 0 || ovup_proc_dead(p->pid))
		return ovup_proc_gone(p);
	return ovup_err(n < 0 ? -errno : -EIO,
			"pid %d: cannot write %zu bytes at 0x%" PRIx64 ": %s", p->pid, len, addr,
			n < 0 ? strerror(errno) : "short write");
}
