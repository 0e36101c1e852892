// SPDX-License-Identifier: MIT
/*
 * ovup's blocks in the target, made with system calls run in it
 * (remote.c): memfds named "ovup-patch:NAME", so /proc/PID/maps shows
 * every one of them and only those are ever unmapped; the ops alloc,
 * chgprot, free and blocks.  Whether a block may be freed is scan.c's.
 */
#define _GNU_SOURCE
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1u
#endif

/* The memfd's descriptor in the target: closing it can only fail if it
 * is gone already, and the mapping keeps the file alive. */
static void close_fd(struct proc_target *p, int fd)
{
	uint64_t args[6] = { (uint64_t)fd, 0, 0, 0, 0, 0 };
	int64_t res;

	ovup_proc_syscall(p, SYS_close, args, NULL, 0, 0, &res);
}

int ovup_proc_map(struct proc_target *p, const char *name, uint64_t addr, uint64_t size, int prot,
		  uint64_t *at)
{
	int held = p->threads.n > 0, ret;
	int64_t res, fd;

	/* the sequences the calls run are found before a thread is held
	 * (the first search reads the loader's code: half a millisecond) */
	ret = ovup_proc_gadgets(p);
	if (ret)
		return ret;
	/* one thread held for the four calls */
	if (!held) {
		ret = ovup_ptrace_stop_one(&p->threads);
		if (ret) {
			ovup_ptrace_resume_all(&p->threads);
			return ovup_proc_ptrace_err(p, ret, "attach with ptrace");
		}
	}
	/* A descriptor left open here by a killed ovup is closed by the next
	 * run (ovup_proc_close_leftovers). */
	{
		uint64_t args[6] = { 0, MFD_CLOEXEC, 0, 0, 0, 0 };

		ret = ovup_proc_syscall(p, SYS_memfd_create, args, name, strlen(name) + 1, 0, &fd);
		if (!ret && fd < 0)
			ret = ovup_err((int)fd, "pid %d: memfd_create failed in the target: %s",
				       p->pid, strerror((int)-fd));
	}
	if (ret)
		goto out;
	ret = ovup_proc_call(p, "ftruncate", SYS_ftruncate, (uint64_t)fd, size, 0, 0, 0, 0, &res);
	/* MAP_PRIVATE: a fork child gets its own copy, as of any private
	 * memory */
	if (!ret)
		ret = ovup_proc_call(p, "mmap", SYS_mmap, addr, size, (uint64_t)prot,
				     MAP_PRIVATE | (addr ? MAP_FIXED_NOREPLACE : 0), (uint64_t)fd,
				     0, &res);
	close_fd(p, (int)fd);
	if (ret == -EEXIST) {
		ovup_err_clear(); /* the target mapped something there meanwhile */
		goto out;
	}
	if (ret)
		goto out;
	if (addr && (uint64_t)res != addr) {
		/* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
		int64_t ignored;

		ovup_proc_call(p, "munmap", SYS_munmap, (uint64_t)res, size, 0, 0, 0, 0, &ignored);
		ret = ovup_err(-ENOSPC, "pid %d: the kernel did not map at 0x%" PRIx64, p->pid,
			       addr);
		goto out;
	}
	*at = (uint64_t)res;
out:
	if (!held)
		ovup_ptrace_resume_all(&p->threads);
	return ret;
}

/* Is [addr, addr+size) exactly memory ovup mapped (one memfd of its
 * own, nothing else)?  A record can name anything; ovup unmaps only what
 * the target shows is its own. */
static int owned(const struct ovup_map *m, size_t n, uint64_t addr, uint64_t size,
		 const char *prefix)
{
	uint64_t at = addr, inode = 0;
	size_t i;

	for (i = 0; i < n && at < addr + size; i++) {
		if (m[i].end <= at)
			continue;
		if (m[i].start != at || strncmp(m[i].path, "/memfd:", 7) ||
		    strncmp(m[i].path + 7, prefix, strlen(prefix)) ||
		    (inode && m[i].inode != inode))
			return 0;
		inode = m[i].inode;
		at = m[i].end;
	}
	return at == addr + size;
}

int ovup_proc_unmap(struct proc_target *p, uint64_t addr, uint64_t size, const char *prefix)
{
	struct ovup_map *m;
	size_t n;
	int64_t res;
	int ret, mine;

	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	mine = owned(m, n, addr, size, prefix);
	ovup_maps_free(m, n);
	if (!mine)
		return ovup_err(-EPERM,
				"pid %d: refusing to unmap 0x%" PRIx64 "-0x%" PRIx64 ": the "
				"target shows no memory of ovup's there",
				p->pid, addr, addr + size);
	return ovup_proc_call(p, "munmap", SYS_munmap, addr, size, 0, 0, 0, 0, &res);
}

int ovup_proc_close_leftovers(struct proc_target *p)
{
	char dir[64], path[384], link[256];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", p->pid);
	d = opendir(dir);
	if (!d)
		return 0; /* not allowed to look: nothing we can do about it */
	while ((de = readdir(d)) && !ret) {
		ssize_t len;
		int fd = atoi(de->d_name);

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = 0;
		if (strncmp(link, "/memfd:ovup-", 12))
			continue;
		close_fd(p, fd);
	}
	closedir(d);
	return ret;
}

/* ---- the target ops: alloc, chgprot, free, blocks ------------------------- */

int ovup_proc_alloc(struct ovup_target *t, enum ovup_block_kind kind, const char *owner,
		    uint64_t size, uint64_t lo, uint64_t hi, uint64_t near, int dry_run,
		    struct ovup_block *out)
{
	struct proc_target *p = ovup_to_proc(t);
	uint64_t brk = 0;
	char name[128];
	int attempt, ret;

	size = OVUP_ALIGN_UP(size, 4096);
	ovup_proc_start_brk(p, &brk);
	snprintf(name, sizeof(name), OVUP_MEMFD_BLOCK "%s", owner);
	for (attempt = 0; attempt < 8; attempt++) {
		struct ovup_map *m;
		size_t n;
		uint64_t addr, at;

		ret = ovup_proc_read_maps(p, &m, &n);
		if (ret)
			return ret;
		ret = ovup_maps_hole(m, n, size, lo, hi, near, brk, &addr);
		ovup_maps_free(m, n);
		if (ret)
			return ovup_err(ret,
					"pid %d: no free %" PRIu64
					" KiB within +-2 GiB of the replaced "
					"functions",
					p->pid, size >> 10);
		out->addr = addr;
		out->size = size;
		out->kind = kind;
		/* W^X from the first instant: code is mapped read+exec and
		 * filled through /proc/PID/mem, which also works where the
		 * process forbids gaining exec later (PR_SET_MDWE, systemd's
		 * MemoryDenyWriteExecute) */
		out->prot = kind == OVUP_BLOCK_TEXT ? OVUP_PROT_READ_EXEC : OVUP_PROT_READ;
		if (dry_run) {
			if (p->nplanned < OVUP_ARRAY_SIZE(p->planned))
				p->planned[p->nplanned++] = *out;
			return 0;
		}
		ret = ovup_proc_map(p, name, addr, size,
				    kind == OVUP_BLOCK_TEXT ? PROT_READ | PROT_EXEC : PROT_READ,
				    &at);
		if (ret != -EEXIST)
			return ret;
	}
	return ovup_err(-EAGAIN, "pid %d: its address space kept changing under ovup", p->pid);
}

int ovup_proc_chgprot(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot)
{
	struct proc_target *p = ovup_to_proc(t);
	int64_t res;
	int mp = prot == OVUP_PROT_READ_EXEC    ? PROT_READ | PROT_EXEC
		 : prot == OVUP_PROT_READ_WRITE ? PROT_READ | PROT_WRITE
						: PROT_READ;

	return ovup_proc_call(p, "mprotect", SYS_mprotect, addr, OVUP_ALIGN_UP(len, 4096),
			      (uint64_t)mp, 0, 0, 0, &res);
}

int ovup_proc_free(struct ovup_target *t, const struct ovup_block *b, size_t nb,
		   struct ovup_busy *busy)
{
	struct proc_target *p = ovup_to_proc(t);
	size_t i;
	int ret;

	if (!nb)
		return 0;
	if (ovup_proc_dead(p->pid))
		return -ESRCH; /* its memory went with it */
	ret = ovup_proc_gadgets(p);
	if (!ret)
		ret = ovup_proc_stop(t);
	if (ret)
		return ret;
	ret = ovup_proc_blocks_in_use(p, b, nb, busy);
	if (!ret)
		ret = ovup_proc_trap_release(p, b, nb, busy);
	for (i = 0; i < nb && !ret; i++)
		ret = ovup_proc_unmap(p, b[i].addr, b[i].size, OVUP_MEMFD_BLOCK);
	ovup_ptrace_resume_all(&p->threads);
	return ret;
}

int ovup_proc_blocks(struct ovup_target *t, struct ovup_block **out, size_t *nout)
{
	struct proc_target *p = ovup_to_proc(t);
	struct ovup_map *m;
	size_t n, i;
	int ret;

	*out = NULL;
	*nout = 0;
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct ovup_block *b;

		if (strncmp(m[i].path, "/memfd:" OVUP_MEMFD_BLOCK, 7 + strlen(OVUP_MEMFD_BLOCK)))
			continue;
		/* one memfd mapped in consecutive pieces is one block */
		if (*nout && i && m[i - 1].end == m[i].start && m[i - 1].inode == m[i].inode &&
		    !strcmp(m[i - 1].path, m[i].path)) {
			b = &(*out)[*nout - 1];
			b->size = m[i].end - b->addr;
		} else {
			*out = ovup_xrealloc(*out, (*nout + 1) * sizeof(**out));
			const char *name = m[i].path + 7 + strlen(OVUP_MEMFD_BLOCK);

			b = &(*out)[(*nout)++];
			memset(b, 0, sizeof(*b));
			b->addr = m[i].start;
			b->size = m[i].end - m[i].start;
			b->kind = OVUP_BLOCK_DATA;
			snprintf(b->owner, sizeof(b->owner), "%.*s", (int)strcspn(name, " "),
				 name); /* before " (deleted)" */
		}
		if (m[i].perms[2] == 'x')
			b->kind = OVUP_BLOCK_TEXT;
	}
	ovup_maps_free(m, n);
	if (!t->offline)
		ovup_proc_close_leftovers(p);
	return 0;
}
