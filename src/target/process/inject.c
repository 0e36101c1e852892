// SPDX-License-Identifier: MIT
/*
 * System calls made inside the target, and the memory ovup maps with them.
 * Each call runs in one stopped thread from sequences of the target's own
 * code over a signal frame (see ovup_arch_frame), so a thread left behind
 * by a killed ovup completes the call and returns to where it was.  ovup's
 * blocks are memfds named "ovup-patch:NAME": /proc/PID/maps then shows
 * every one of them, and only those are ever unmapped.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* ---- the sequences injected calls run ----------------------------------- */

static int gadget_at(struct proc_target *p, uint64_t addr, const uint8_t *want, size_t len)
{
	uint8_t cur[16];

	return addr && pread(p->memfd, cur, len, (off_t)addr) == (ssize_t)len &&
	       !memcmp(cur, want, len);
}

/* The length of the restorer at addr, or 0. */
static size_t restorer_at(struct proc_target *p, uint64_t addr)
{
	size_t k;

	for (k = 0; ovup_arch_gadget_restorer[k]; k++)
		if (gadget_at(p, addr, ovup_arch_gadget_restorer[k], ovup_arch_gadget_restorer_len[k]))
			return ovup_arch_gadget_restorer_len[k];
	return 0;
}

static int by_size(const void *a, const void *b)
{
	const struct ovup_map *x = a, *y = b;
	uint64_t lx = x->end - x->start, ly = y->end - y->start;

	return lx < ly ? -1 : lx > ly;
}

/* Finds both sequences in the target's executable file mappings (the
 * dynamic loader and libc have them); checked again before every use,
 * because a patch may since have changed those bytes. */
static int find_gadgets(struct proc_target *p)
{
	struct ovup_map *m;
	size_t n, i, k;
	int ret;

	if (gadget_at(p, p->gadget_syscall, ovup_arch_gadget_syscall, ovup_arch_gadget_syscall_len) &&
	    restorer_at(p, p->gadget_restorer))
		return 0;
	p->gadget_syscall = p->gadget_restorer = 0;
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	/* smallest first: the dynamic loader has both and is a tenth of libc */
	qsort(m, n, sizeof(*m), by_size);
	for (i = 0; i < n && !(p->gadget_syscall && p->gadget_restorer); i++) {
		uint64_t len = m[i].end - m[i].start;
		uint8_t *buf, *hit;

		if (m[i].perms[2] != 'x' || m[i].path[0] != '/' || len > (64ull << 20))
			continue;
		buf = ovup_xmalloc(len);
		if (pread(p->memfd, buf, len, (off_t)m[i].start) != (ssize_t)len) {
			free(buf);
			continue;
		}
		if (!p->gadget_syscall &&
		    (hit = memmem(buf, len, ovup_arch_gadget_syscall, ovup_arch_gadget_syscall_len)))
			p->gadget_syscall = m[i].start + (uint64_t)(hit - buf);
		for (k = 0; !p->gadget_restorer && ovup_arch_gadget_restorer[k]; k++)
			if ((hit = memmem(buf, len, ovup_arch_gadget_restorer[k],
					  ovup_arch_gadget_restorer_len[k])))
				p->gadget_restorer = m[i].start + (uint64_t)(hit - buf);
		free(buf);
	}
	ovup_maps_free(m, n);
	if (!p->gadget_syscall || !p->gadget_restorer)
		return ovup_err(-ENOTSUP, "pid %d: its code has no %s sequence, which ovup needs to "
					  "make system calls in it that survive ovup's own death "
					  "(a static binary without libc?); refusing to touch it",
				p->pid, p->gadget_syscall ? "signal-return" : "'syscall; ret'");
	return 0;
}

/* ---- one call in one thread --------------------------------------------- */

/* A user shadow stack would refuse the borrowed `ret`. */
static int uses_shadow_stack(int pid, int tid)
{
	char path[64], *s, *line;
	int on = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	s = ovup_read_file(path, NULL);
	if (s && (line = strstr(s, "x86_Thread_features:"))) {
		char *eol = strchr(line, '\n');

		if (eol)
			*eol = 0;
		on = strstr(line, "shstk") != NULL;
	}
	free(s);
	return on;
}

/* A sandbox's seccomp filter would kill the process, or fail the call, on
 * a syscall ovup injects: refuse before the call instead.  Each call is
 * checked with its real arguments, and with it everything an apply or
 * revert injects (and the rt_sigreturn that ends every injection), so the
 * first injection already fails when a later one would, with nothing done
 * yet.  Never suspended (PTRACE_O_SUSPEND_SECCOMP): a thread left running
 * the injected sequence by a killed ovup would meet the filter again. */
static int seccomp_allows(struct proc_target *p, size_t i, long nr, const uint64_t args[6])
{
	struct ovup_seccomp_call calls[16];
	uint64_t ip = p->gadget_syscall + 2; /* as the kernel reports it */
	char why[512];
	size_t n;
	int ret;

	calls[0].nr = nr;
	memcpy(calls[0].args, args, sizeof(calls[0].args));
	calls[0].ip = ip;
	calls[1] = (struct ovup_seccomp_call){ .nr = SYS_rt_sigreturn,
					       .ip = p->gadget_restorer + restorer_at(p, p->gadget_restorer) };
	n = 2 + ovup_seccomp_injected(ip, calls + 2, OVUP_ARRAY_SIZE(calls) - 2);
	ret = ovup_seccomp_check(&p->seccomp, p->pid, p->threads.t[i].tid, calls, n, why,
				 sizeof(why));
	if (ret == -ESRCH || (ret && ovup_proc_dead(p->pid)))
		return ovup_proc_gone(p);
	if (ret)
		return ovup_err(ret, "pid %d: %s", p->pid, why);
	return 0;
}

/* Runs the call in thread i; -EAGAIN if this thread cannot take it (the
 * caller tries another), with the reason in why. */
static int inject(struct proc_target *p, size_t i, long nr, uint64_t args[6], const void *data,
		  size_t ndata, int data_arg, int64_t *res, const char **why)
{
	static uint8_t xstate[OVUP_ARCH_XSTATE_MAX];
	struct ovup_arch_frame f = { 0 };
	struct user_regs_struct inj;
	uint64_t mask;
	uint8_t *saved = NULL;
	int ret, restored;

	if (!p->threads.t[i].stop)
		return -EAGAIN;
	if (uses_shadow_stack(p->pid, p->threads.t[i].tid)) {
		*why = "its threads use a shadow stack";
		return -EAGAIN;
	}
	ret = ovup_ptrace_quiet(&p->threads, i);
	if (ret == -EAGAIN)
		*why = "its threads are flooded with signals";
	if (ret)
		return ret;
	ret = seccomp_allows(p, i, nr, args);
	if (ret)
		return ret;
	ret = ovup_ptrace_thread_state(&p->threads, i, &mask, xstate, &f.xlen);
	if (ret)
		return ret;
	f.regs = &p->threads.t[i].regs;
	f.sigmask = mask;
	f.xstate = xstate;
	f.restorer = p->gadget_restorer;
	f.data = data;
	f.ndata = ndata;
	ret = ovup_arch_frame(&f);
	if (ret) {
		*why = "a thread's FPU state does not fit a signal frame";
		return ret == -ENOMEM ? ret : -EAGAIN;
	}
	/* The frame takes the room a signal frame would: memory below the
	 * stack pointer that the thread must already keep free.  What was
	 * there is put back once the thread is itself again. */
	saved = ovup_xmalloc(f.len);
	if (pread(p->memfd, saved, f.len, (off_t)f.lo) != (ssize_t)f.len ||
	    pwrite(p->memfd, f.bytes, f.len, (off_t)f.lo) != (ssize_t)f.len) {
		*why = "a thread's stack has no room for a signal frame";
		ret = -EAGAIN;
		goto out;
	}
	if (data)
		args[data_arg] = f.data_addr;
	inj = p->threads.t[i].regs;
	ovup_arch_regs_syscall(&inj, p->gadget_syscall, f.sp, nr, args);
	ret = ovup_ptrace_syscall(&p->threads, i, &inj, mask, res, &restored);
	if (restored && pwrite(p->memfd, saved, f.len, (off_t)f.lo) != (ssize_t)f.len && !ret)
		ret = -EIO;
out:
	free(saved);
	free(f.bytes);
	return ret;
}

int ovup_proc_syscall(struct proc_target *p, long nr, uint64_t args[6], const void *data,
		      size_t ndata, int data_arg, int64_t *res)
{
	const char *why = "no thread of it is stopped";
	int held = p->threads.n > 0, ret;
	size_t i;

	ret = find_gadgets(p);
	if (ret)
		return ret;
	if (!held) {
		ret = ovup_ptrace_stop_one(&p->threads);
		if (ret) {
			ovup_ptrace_resume_all(&p->threads);
			return ovup_proc_ptrace_err(p, ret, "attach with ptrace");
		}
	}
	ret = -EAGAIN;
	for (i = 0; i < p->threads.n && ret == -EAGAIN; i++)
		ret = inject(p, i, nr, args, data, ndata, data_arg, res, &why);
	if (!held)
		ovup_ptrace_resume_all(&p->threads);
	if (ret == -EAGAIN)
		return ovup_err(-EAGAIN, "pid %d: no thread can make a system call for ovup: %s; "
					 "try again",
				p->pid, why);
	if (ret)
		return ovup_proc_ptrace_err(p, ret, "run a system call in it");
	return 0;
}

/* ---- mapping and unmapping ---------------------------------------------- */

static int call(struct proc_target *p, const char *what, long nr, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *res)
{
	uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };
	int ret = ovup_proc_syscall(p, nr, args, NULL, 0, 0, res);

	if (!ret && *res < 0 && *res > -4096)
		return ovup_err((int)*res, "pid %d: %s failed in the target: %s", p->pid, what,
				strerror((int)-*res));
	return ret;
}

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
	ret = call(p, "ftruncate", SYS_ftruncate, (uint64_t)fd, size, 0, 0, 0, 0, &res);
	/* MAP_PRIVATE: a fork child gets its own copy, as of any private
	 * memory */
	if (!ret)
		ret = call(p, "mmap", SYS_mmap, addr, size, (uint64_t)prot,
			   MAP_PRIVATE | (addr ? MAP_FIXED_NOREPLACE : 0), (uint64_t)fd, 0, &res);
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

		call(p, "munmap", SYS_munmap, (uint64_t)res, size, 0, 0, 0, 0, &ignored);
		ret = ovup_err(-ENOSPC, "pid %d: the kernel did not map at 0x%" PRIx64, p->pid, addr);
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
		return ovup_err(-EPERM, "pid %d: refusing to unmap 0x%" PRIx64 "-0x%" PRIx64 ": the "
					"target shows no memory of ovup's there",
				p->pid, addr, addr + size);
	return call(p, "munmap", SYS_munmap, addr, size, 0, 0, 0, 0, &res);
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
					"pid %d: no free %" PRIu64 " KiB within +-2 GiB of the replaced "
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
				    kind == OVUP_BLOCK_TEXT ? PROT_READ | PROT_EXEC : PROT_READ, &at);
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

	return call(p, "mprotect", SYS_mprotect, addr, OVUP_ALIGN_UP(len, 4096), (uint64_t)mp, 0, 0,
		    0, &res);
}

/* The search for pointers into blocks about to be freed. */
#define SCAN_BUDGET (512ull << 20) /* resident writable memory searched, at most */
#define SCAN_CHUNK (1ull << 20)

struct scan {
	struct proc_target *p;
	const struct ovup_block *b;
	size_t nb;
	uint64_t lo, hi;        /* the blocks' envelope, a fast first test */
	uint64_t guard;         /* glibc's pointer guard, 0 if unknown */
	uint64_t budget;
	int pagemap;
	struct ovup_busy *busy;
};

static int points_in(const struct scan *s, uint64_t w)
{
	size_t k;

	if (w < s->lo || w >= s->hi)
		return 0;
	for (k = 0; k < s->nb; k++)
		if (w >= s->b[k].addr && w < s->b[k].addr + s->b[k].size)
			return 1;
	return 0;
}

/* 1 if the word is, or (glibc-mangled) hides, an address in the blocks */
static int hit(const struct scan *s, uint64_t w, uint64_t *addr)
{
	if (points_in(s, w)) {
		*addr = w;
		return 1;
	}
	if (s->guard && points_in(s, ovup_arch_demangle(w, s->guard))) {
		*addr = ovup_arch_demangle(w, s->guard);
		return 1;
	}
	return 0;
}

/* The pages of [at, at + n pages) that hold anything, in used[]: present
 * or swapped out; a page never touched reads as zeros.  Without pagemap
 * every page counts. */
static void pages_used(struct scan *s, uint64_t at, size_t n, uint8_t *used)
{
	uint64_t e[SCAN_CHUNK / 4096];
	size_t i;

	if (s->pagemap < 0 ||
	    pread(s->pagemap, e, n * 8, (off_t)(at / 4096 * 8)) != (ssize_t)(n * 8)) {
		memset(used, 1, n);
		return;
	}
	for (i = 0; i < n; i++)
		used[i] = (e[i] >> 62) & 3;
}

static int scan_words(struct scan *s, const uint64_t *w, size_t n, uint64_t at)
{
	uint64_t addr;
	size_t j;

	for (j = 0; j < n; j++)
		if (hit(s, w[j], &addr)) {
			s->busy->addr = addr;
			s->busy->ref = at + 8 * j;
			return -EBUSY;
		}
	return 0;
}

static int scan_range(struct scan *s, uint64_t start, uint64_t end)
{
	uint64_t *buf = ovup_xmalloc(SCAN_CHUNK), at;
	uint8_t used[SCAN_CHUNK / 4096];
	int ret = 0;

	for (at = start; at < end && !ret; at += SCAN_CHUNK) {
		size_t np = (size_t)(OVUP_MIN(end - at, SCAN_CHUNK) / 4096), i = 0;

		pages_used(s, at, np, used);
		while (i < np && !ret) {
			size_t run = 0;
			ssize_t got;

			for (; i < np && !used[i]; i++)
				;
			for (; i + run < np && used[i + run]; run++)
				;
			if (!run)
				break;
			if (run * 4096 > s->budget) {
				s->busy->unchecked = 1;
				ret = -EBUSY;
				break;
			}
			s->budget -= run * 4096;
			got = pread(s->p->memfd, buf, run * 4096, (off_t)(at + i * 4096));
			if (got > 0)
				ret = scan_words(s, buf, (size_t)got / 8, at + i * 4096);
			i += run;
		}
	}
	free(buf);
	return ret;
}

static int is_block(const struct scan *s, const struct ovup_map *m)
{
	return points_in(s, m->start);
}

/* Could anything still run in, or return into, one of the blocks?  Every
 * register of every thread, and every word of memory that could hold a
 * code pointer: all writable mappings (thread and coroutine stacks, saved
 * contexts and signal frames, jmp_bufs, callbacks a patch registered) and
 * ovup's other blocks.  Conservative: a word that merely looks like such
 * an address keeps the blocks too.  A process with more resident memory
 * than the budget cannot be searched in one pause: its blocks are kept. */
static int blocks_in_use(struct proc_target *p, const struct ovup_block *b, size_t nb,
			 struct ovup_busy *busy)
{
	struct scan s = { p, b, nb, UINT64_MAX, 0, 0, SCAN_BUDGET, -1, busy };
	struct ovup_map *m;
	char path[64];
	size_t n, i, k, j;
	int ret;

	for (k = 0; k < nb; k++) {
		s.lo = OVUP_MIN(s.lo, b[k].addr);
		s.hi = OVUP_MAX(s.hi, b[k].addr + b[k].size);
	}
	for (i = 0; i < p->threads.n; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t w[32];
		size_t nw = ovup_arch_regs_words(&th->regs, w, 30);

		nw += ovup_arch_regs_resume_pcs(&th->regs, w + nw);
		for (j = 0; j < nw; j++)
			if (points_in(&s, w[j])) {
				busy->tid = th->tid;
				busy->addr = w[j];
				ovup_proc_thread_comm(p->pid, th->tid, busy->comm, sizeof(busy->comm));
				return -EBUSY;
			}
	}
	if (p->threads.n) {
		uint64_t ga = ovup_arch_pointer_guard_addr(&p->threads.t[0].regs);

		if (ga && pread(p->memfd, &s.guard, 8, (off_t)ga) != 8)
			s.guard = 0;
	}
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
	s.pagemap = open(path, O_RDONLY | O_CLOEXEC);
	for (i = 0; i < n && !ret; i++) {
		int ours = !strncmp(m[i].path, "/memfd:" OVUP_MEMFD_BLOCK,
				    7 + strlen(OVUP_MEMFD_BLOCK));

		uint64_t from = m[i].start, low = UINT64_MAX;

		if (m[i].perms[0] != 'r' || (m[i].perms[1] != 'w' && !ours) || is_block(&s, &m[i]) ||
		    !strcmp(m[i].path, "[vvar]") || !strcmp(m[i].path, "[vsyscall]"))
			continue;
		/* a thread's stack below its stack pointer (and red zone) is
		 * dead: return addresses left there are never used again.
		 * Where several threads' stacks share a mapping, only below
		 * the lowest. */
		for (k = 0; k < p->threads.n; k++) {
			uint64_t sp = ovup_arch_regs_sp(&p->threads.t[k].regs);

			if (sp >= m[i].start && sp < m[i].end)
				low = OVUP_MIN(low, sp);
		}
		if (low != UINT64_MAX && low - m[i].start > 128)
			from = OVUP_ALIGN_DOWN(low - 128, 4096);
		ret = scan_range(&s, from, m[i].end);
	}
	if (s.pagemap >= 0)
		close(s.pagemap);
	/* a word on a thread's live stack: that thread returns into it */
	for (k = 0; ret == -EBUSY && busy->ref && k < p->threads.n; k++) {
		struct ovup_thread *th = &p->threads.t[k];
		uint64_t sp = ovup_arch_regs_sp(&th->regs);

		for (i = 0; i < n; i++)
			if (sp >= m[i].start && sp < m[i].end && busy->ref >= sp &&
			    busy->ref < m[i].end) {
				busy->tid = th->tid;
				ovup_proc_thread_comm(p->pid, th->tid, busy->comm, sizeof(busy->comm));
			}
	}
	ovup_maps_free(m, n);
	return ret;
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
	ret = ovup_proc_stop(t);
	if (ret)
		return ret;
	ret = blocks_in_use(p, b, nb, busy);
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
			snprintf(b->owner, sizeof(b->owner), "%.*s",
				 (int)strcspn(name, " "), name); /* before " (deleted)" */
		}
		if (m[i].perms[2] == 'x')
			b->kind = OVUP_BLOCK_TEXT;
	}
	ovup_maps_free(m, n);
	if (!t->offline)
		ovup_proc_close_leftovers(p);
	return 0;
}
