// SPDX-License-Identifier: MIT
/*
 * Before blocks are freed: could anything still run in, or return into,
 * one of them?  The threads' registers and every word of memory that could
 * hold a code pointer are searched, within a budget per pause.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The search for pointers into blocks about to be freed. */
#define SCAN_BUDGET (512ull << 20) /* resident writable memory searched, at most */
#define SCAN_CHUNK (1ull << 20)

struct scan {
	struct proc_target *p;
	const struct ovup_block *b;
	size_t nb;
	uint64_t lo, hi; /* the blocks' envelope, a fast first test */
	uint64_t guard;  /* glibc's pointer guard, 0 if unknown */
	uint64_t budget;
	uint64_t live; /* words below this, on a stack's first page, are dead */
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
		if (at + 8 * j >= s->live && hit(s, w[j], &addr)) {
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

/* A register of a thread that points into the blocks: that thread is
 * running there, or returns there. */
static int regs_in_blocks(struct proc_target *p, const struct scan *s, struct ovup_busy *busy)
{
	size_t i, j;

	for (i = 0; i < p->threads.n; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t w[64];
		size_t nw = ovup_arch_regs_words(&th->regs, w, 30);

		nw += ovup_arch_regs_resume_pcs(&th->regs, w + nw);
		/* the registers its signal handler returns to */
		if (th->has_sig_regs) {
			nw += ovup_arch_regs_words(&th->sig_regs, w + nw, 30);
			nw += ovup_arch_regs_resume_pcs(&th->sig_regs, w + nw);
		}
		for (j = 0; j < nw; j++)
			if (points_in(s, w[j])) {
				busy->tid = th->tid;
				busy->addr = w[j];
				ovup_proc_thread_comm(p->pid, th->tid, busy->comm,
						      sizeof(busy->comm));
				return -EBUSY;
			}
	}
	return 0;
}

/* glibc's pointer guard, read where the first thread's registers say it
 * is; 0 if unknown. */
static uint64_t pointer_guard(struct proc_target *p)
{
	uint64_t guard = 0, ga;

	if (!p->threads.n)
		return 0;
	ga = ovup_arch_pointer_guard_addr(&p->threads.t[0].regs);
	if (ga && pread(p->memfd, &guard, 8, (off_t)ga) != 8)
		guard = 0;
	return guard;
}

/* Where the search of mapping m starts: a thread's stack below its stack
 * pointer (and red zone) is dead, return addresses left there are never
 * used again (nor what ovup's own calls left there: their frames, with
 * the handler's address).  Where several threads' stacks share a mapping,
 * only below the lowest. */
static uint64_t live_from(struct proc_target *p, const struct ovup_map *m)
{
	uint64_t low = UINT64_MAX;
	size_t k;

	for (k = 0; k < p->threads.n; k++) {
		uint64_t sp = ovup_arch_regs_sp(&p->threads.t[k].regs);

		if (sp >= m->start && sp < m->end)
			low = OVUP_MIN(low, sp);
	}
	if (low != UINT64_MAX && low - m->start > 128)
		return low - 128;
	return m->start;
}

/* Searches every readable mapping that could hold a code pointer: the
 * writable ones and ovup's other blocks. */
static int scan_maps(struct proc_target *p, struct scan *s, const struct ovup_map *m, size_t n)
{
	char path[64];
	size_t i;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->pid);
	s->pagemap = open(path, O_RDONLY | O_CLOEXEC);
	for (i = 0; i < n && !ret; i++) {
		int ours = !strncmp(m[i].path, "/memfd:" OVUP_MEMFD_BLOCK,
				    7 + strlen(OVUP_MEMFD_BLOCK));

		if (m[i].perms[0] != 'r' || (m[i].perms[1] != 'w' && !ours) || is_block(s, &m[i]) ||
		    !strcmp(m[i].path, "[vvar]") || !strcmp(m[i].path, "[vsyscall]"))
			continue;
		s->live = live_from(p, &m[i]);
		ret = scan_range(s, OVUP_ALIGN_DOWN(s->live, 4096), m[i].end);
	}
	if (s->pagemap >= 0)
		close(s->pagemap);
	return ret;
}

/* A word found on a thread's live stack: that thread returns into it. */
static void blame_stack_owner(struct proc_target *p, const struct ovup_map *m, size_t n,
			      struct ovup_busy *busy)
{
	size_t i, k;

	for (k = 0; busy->ref && k < p->threads.n; k++) {
		struct ovup_thread *th = &p->threads.t[k];
		uint64_t sp = ovup_arch_regs_sp(&th->regs);

		for (i = 0; i < n; i++)
			if (sp >= m[i].start && sp < m[i].end && busy->ref >= sp &&
			    busy->ref < m[i].end) {
				busy->tid = th->tid;
				ovup_proc_thread_comm(p->pid, th->tid, busy->comm,
						      sizeof(busy->comm));
			}
	}
}

/* Could anything still run in, or return into, one of the blocks?  Every
 * register of every thread, and every word of memory that could hold a
 * code pointer: all writable mappings (thread and coroutine stacks, saved
 * contexts and signal frames, jmp_bufs, callbacks a patch registered) and
 * ovup's other blocks.  Conservative: a word that merely looks like such
 * an address keeps the blocks too.  A process with more resident memory
 * than the budget cannot be searched in one pause: its blocks are kept. */
int ovup_proc_blocks_in_use(struct proc_target *p, const struct ovup_block *b, size_t nb,
			    struct ovup_busy *busy)
{
	struct scan s = { p, b, nb, UINT64_MAX, 0, 0, SCAN_BUDGET, 0, -1, busy };
	struct ovup_map *m;
	size_t n, k;
	int ret;

	for (k = 0; k < nb; k++) {
		s.lo = OVUP_MIN(s.lo, b[k].addr);
		s.hi = OVUP_MAX(s.hi, b[k].addr + b[k].size);
	}
	ret = regs_in_blocks(p, &s, busy);
	if (ret)
		return ret;
	s.guard = pointer_guard(p);
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	ret = scan_maps(p, &s, m, n);
	if (ret == -EBUSY)
		blame_stack_owner(p, m, n, busy);
	ovup_maps_free(m, n);
	return ret;
}
