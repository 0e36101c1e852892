// SPDX-License-Identifier: MIT
/*
 * The live switch: an apply's sites written while only the threads that
 * must stop are stopped (docs/procedure.md, "The pause").  A breakpoint
 * goes first at every site, then the tails of the jumps, then their first
 * bytes, with a look at every thread between (the kernel's text_poke_bp
 * order).  A thread blocked in the kernel is never stopped: its syscall
 * file gives its pc.  A running one is stopped and held to the end.  One
 * that reaches a site meets the breakpoint: ovup's SIGTRAP handler keeps
 * it at the site until the jump is whole.  No thread that meets a
 * breakpoint is traced, so none ever waits in a ptrace stop that a dying
 * tracer would end badly (a signal-delivery stop's signal is lost when the
 * tracer dies, on current kernels, and delivered, on older ones).
 *
 * The tracer is a child of ovup: ovup waits for it and, if it died,
 * finishes or undoes what it left (the guard).  A killed ovup leaves the
 * child to finish.  Both killed: threads that reach a site wait in the
 * handler until the next ovup run settles it (ovup_proc_trap_repair).
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRAP_SIG 5 /* SIGTRAP, for the kernel's rt_sigaction */
#define SA_RESTORER_ 0x04000000ull
/* below this many threads, stopping them all pauses less (bench/pause) */
#define OVUP_TRAP_MIN_THREADS 16
#define SETTLE_NS 5000000ull
#define RELEASED_NS 1000000000ull

/* struct sigaction as the kernel takes it */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* One thread of the process, seen through its syscall file; held ones are
 * also in p->threads (seized and stopped). */
struct tthread {
	pid_t tid;
	int fd; /* /proc/PID/task/TID/syscall, -1 if it could not be opened */
	int held;
};

struct tracer {
	struct proc_target *p;
	struct ovup_txn *txn;
	struct trap_share *sh;
	struct tthread *t;
	size_t n, cap;
};

/* How far the tracer got, shared with ovup (MAP_SHARED): what the guard
 * reads if the tracer died. */
enum { STAGE_NONE, STAGE_TRAPS, STAGE_DONE };
struct trap_share {
	int stage;
	int forward;    /* writing the jumps (0: putting the old bytes back) */
	uint32_t tails; /* sites whose bytes after the first are written */
	int ret;
	long failed_site;
	struct ovup_busy busy;
	uint64_t pause_ns; /* the longest any thread was held */
	uint32_t threads, held;
	char msg[1024];
};

uint64_t ovup_proc_trap_extra(const struct ovup_obj *o)
{
	(void)o;
	return OVUP_ARCH_TRAP_TABLE + 8 * (1 + OVUP_TRAP_SITES) + 16;
}

/* The handler goes after the patch's code, in the room trap_extra keeps. */
int ovup_proc_trap_fixup(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st)
{
	struct proc_target *p = ovup_to_proc(t);
	uint64_t end = 0, size = ovup_proc_trap_extra(NULL) - 16;
	uint8_t *b;
	size_t i;

	(void)st;
	for (i = 0; i < img->nsecs; i++)
		if (img->secs[i].flags & 4 /* SHF_EXECINSTR */)
			end = OVUP_MAX(end, img->secs[i].addr + img->secs[i].size);
	if (!end)
		return 0;
	end = OVUP_ALIGN_UP(end, 16);
	b = ovup_elf_img_add(img, ".ovup.trap", end, size, 6 /* SHF_ALLOC | SHF_EXECINSTR */);
	memcpy(b, ovup_arch_trap_handler, OVUP_ARCH_TRAP_TABLE);
	p->trap_code = end;
	return 0;
}

/* ---- what /proc says -------------------------------------------------------- */

/* Bit sig of the mask on line key of a status file. */
static int status_bit(const char *path, const char *key, int sig)
{
	char *s = ovup_read_file(path, NULL), *b;
	int yes = 0;

	if (s && (b = strstr(s, key)))
		yes = (strtoull(b + strlen(key), NULL, 16) >> (sig - 1)) & 1;
	free(s);
	return yes;
}

static int task_bit(int pid, pid_t tid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	return status_bit(path, key, SIGTRAP);
}

static int proc_bit(int pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return status_bit(path, key, SIGTRAP);
}

static size_t count_threads(int pid)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static long site_of(const struct ovup_txn *txn, uint64_t addr)
{
	size_t i;

	for (i = 0; i < txn->nsites; i++)
		if (txn->sites[i].addr == addr)
			return (long)i;
	return -1;
}

/* Does pc, or the syscall before it, fall in the bytes being replaced?
 * Then busy says who. */
static int in_the_way(struct proc_target *p, const struct ovup_txn *txn, pid_t tid,
		      const uint64_t *pcs, size_t npc, struct ovup_busy *busy)
{
	size_t j, k;

	for (j = 0; j < npc; j++)
		for (k = 0; k < txn->nranges; k++)
			if (pcs[j] >= txn->ranges[k].start && pcs[j] < txn->ranges[k].end) {
				busy->tid = tid;
				busy->addr = pcs[j];
				ovup_proc_thread_comm(p->pid, tid, busy->comm, sizeof(busy->comm));
				return -EBUSY;
			}
	return 0;
}

/* ---- the threads ------------------------------------------------------------ */

static struct tthread *tt_find(struct tracer *tr, pid_t tid)
{
	size_t i;

	for (i = 0; i < tr->n; i++)
		if (tr->t[i].tid == tid)
			return &tr->t[i];
	return NULL;
}

/* Seizes a thread to be held to the end (seizing stops nobody): 1 if it
 * is to be interrupted, 0 if it is gone. */
static int seize_one(struct tracer *tr, struct tthread *tt)
{
	int ret;

	tt->held = 1;
	ret = ovup_ptrace_seize(&tr->p->threads, tt->tid);
	return ret == -ESRCH ? 0 : ret ? ret : 1;
}

/* Interrupts a seized thread: its hold begins.  1 if its stop is to be
 * waited for (got_stop), 0 if it is gone. */
static int interrupt_one(struct tracer *tr, pid_t tid)
{
	struct ovup_threads *ts = &tr->p->threads;
	long i = ovup_ptrace_index(ts, tid);
	int ret;

	if (i < 0)
		return 0;
	if (ts->t[i].stop || ts->t[i].interrupted)
		return 1;
	ts->t[i].t_stop = ovup_now_ns();
	ret = ovup_ptrace_interrupt(ts, (size_t)i);
	tr->sh->held += !ret;
	return ret == -ESRCH ? 0 : ret ? ret : 1;
}

/* Asks thread tid to stop, to be held to the end: seized, interrupted. */
static int ask_stop(struct tracer *tr, struct tthread *tt)
{
	int ret = seize_one(tr, tt);

	return ret > 0 ? interrupt_one(tr, tt->tid) : ret;
}

/* Waits for a held thread's stop.  One that took a breakpoint's SIGTRAP
 * under ptrace (it was being seized as it trapped) goes back to the site
 * with the signal cancelled: it meets the breakpoint again, untraced, or
 * runs the whole jump. */
static int got_stop(struct tracer *tr, pid_t tid)
{
	struct ovup_threads *ts = &tr->p->threads;
	struct ovup_thread *th;
	long i = ovup_ptrace_index(ts, tid);
	uint64_t site;
	int ret;

	if (i < 0)
		return 0;
	/* clone events stop it too, and then it holds there */
	while (!ts->t[i].stop) {
		ret = ovup_ptrace_wait(ts, tid);
		if (ret)
			return ret == -ESRCH ? 0 : ret;
		i = ovup_ptrace_index(ts, tid);
	}
	th = &ts->t[i];
	site = ovup_arch_trap_site(&th->regs);
	if (th->stop == OVUP_STOP_SIGNAL && th->sig == SIGTRAP && site_of(tr->txn, site) >= 0) {
		ret = ovup_ptrace_set_pc(ts, (size_t)i, site);
		if (ret)
			return ret == -ESRCH ? 0 : ret;
		th->sig = 0;
		return 0;
	}
	/* any other signal: delivered now, not lost if the tracer dies */
	ret = ovup_ptrace_take_signal(ts, (size_t)i);
	return ret == -ESRCH ? 0 : ret;
}

/* Threads it has not seen yet: their syscall files opened.  One that
 * blocks SIGTRAP is held: the kernel would give a SIGTRAP it forces on
 * such a thread the default action, for the whole process. */
static int rescan(struct tracer *tr)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", tr->p->pid);
	d = opendir(path);
	if (!d)
		return ovup_proc_gone(tr->p);
	while (!ret && (de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		struct tthread *tt;

		if (tid <= 0 || tt_find(tr, tid))
			continue;
		if (tr->n == tr->cap) {
			tr->cap = tr->cap ? 2 * tr->cap : 64;
			tr->t = ovup_xrealloc(tr->t, tr->cap * sizeof(*tr->t));
		}
		tt = &tr->t[tr->n++];
		memset(tt, 0, sizeof(*tt));
		tt->tid = tid;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", tr->p->pid, tid);
		tt->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (tt->fd < 0 && errno == ENOENT)
			continue; /* gone */
		/* a thread it cannot look at without stopping is stopped */
		if (tt->fd < 0 || task_bit(tr->p->pid, tid, "SigBlk:")) {
			ret = ask_stop(tr, tt);
			ret = ret > 0 ? got_stop(tr, tid) : ret;
		}
	}
	closedir(d);
	return ret;
}

/*
 * Looks at every thread: the serialising step.  A thread blocked in the
 * kernel is read from its syscall file and left alone; one that is running
 * (on a CPU or ready to be) is stopped and held, which makes it execute a
 * serialising instruction before it runs user code again.  With check, no
 * thread may be inside the bytes being replaced (-EBUSY).
 */
static int survey(struct tracer *tr, int check)
{
	struct ovup_threads *ts = &tr->p->threads;
	size_t k, nwait = 0, nrun = 0;
	pid_t *wait, *run;
	int ret;

	ret = rescan(tr);
	wait = ovup_xcalloc(tr->n + 1, sizeof(*wait));
	run = ovup_xcalloc(tr->n + 1, sizeof(*run));
	for (k = 0; !ret && k < tr->n; k++) {
		struct tthread *tt = &tr->t[k];
		uint64_t pcs[2];
		char buf[256], *last;
		size_t npc = 1;
		ssize_t r;
		long nr;

		if (tt->held) {
			wait[nwait++] = tt->tid; /* looked at below */
			continue;
		}
		if (tt->fd < 0)
			continue;
		r = pread(tt->fd, buf, sizeof(buf) - 1, 0);
		if (r <= 0)
			continue; /* exiting */
		buf[r] = 0;
		if (!strncmp(buf, "running", 7)) {
			/* all seized before any is interrupted, and all
			 * interrupted before any is waited for */
			ret = seize_one(tr, tt);
			if (ret > 0)
				run[nrun++] = tt->tid;
			ret = ret > 0 ? 0 : ret;
			continue;
		}
		if (!check)
			continue;
		/* "nr args... sp pc", or "-1 sp pc" outside a syscall */
		nr = strtol(buf, NULL, 10);
		buf[strcspn(buf, "\n")] = 0;
		last = strrchr(buf, ' ');
		if (!last)
			continue;
		pcs[0] = strtoull(last + 1, NULL, 16);
		if (nr >= 0)
			pcs[npc++] = pcs[0] - 2; /* a restarted syscall runs again */
		/* just past a breakpoint, asleep before its handler: it
		 * goes back to the site */
		if (site_of(tr->txn, pcs[0] - 1) >= 0 && task_bit(tr->p->pid, tt->tid, "SigPnd:"))
			continue;
		ret = in_the_way(tr->p, tr->txn, tt->tid, pcs, npc, &tr->sh->busy);
	}
	/* running threads compete with ovup for the CPUs while they are
	 * held: ovup goes real-time first (and only then: a tracer that is
	 * real-time makes every stop of an idle thread a wake-up of another
	 * CPU) */
	if (!ret && nrun)
		ovup_sched_hold_begin();
	for (k = 0; !ret && k < nrun; k++) {
		ret = interrupt_one(tr, run[k]);
		if (ret > 0)
			wait[nwait++] = run[k];
		ret = ret > 0 ? 0 : ret;
	}
	free(run);
	for (k = 0; !ret && k < nwait; k++) {
		struct ovup_thread *th;
		uint64_t pcs[2];
		long i;

		ret = got_stop(tr, wait[k]);
		i = ovup_ptrace_index(ts, wait[k]);
		if (ret || i < 0 || !check)
			continue;
		th = &ts->t[i];
		/* interrupted on its way from a breakpoint to the handler:
		 * the SIGTRAP it holds takes it back to the site */
		if (site_of(tr->txn, ovup_arch_trap_site(&th->regs)) >= 0 &&
		    task_bit(tr->p->pid, wait[k], "SigPnd:"))
			continue;
		ret = in_the_way(tr->p, tr->txn, wait[k], pcs,
				 ovup_arch_regs_resume_pcs(&th->regs, pcs), &tr->sh->busy);
		/* and where its signal handler returns to */
		if (!ret && th->has_sig_regs)
			ret = in_the_way(tr->p, tr->txn, wait[k], pcs,
					 ovup_arch_regs_resume_pcs(&th->sig_regs, pcs),
					 &tr->sh->busy);
	}
	free(wait);
	return ret;
}

/* ---- the handler ------------------------------------------------------------ */

/* Is addr ovup's handler (this one's, or the one before the call
 * sequence), in a block of ovup's as the target's maps show them (an
 * earlier patch's)? */
static int ovup_handler_at(struct proc_target *p, uint64_t addr)
{
	uint8_t code[OVUP_ARCH_TRAP_TABLE];
	struct ovup_block *b;
	size_t n, i, len = 0;

	if (ovup_proc_blocks(&p->base, &b, &n))
		return 0;
	for (i = 0; i < n; i++)
		if (addr >= b[i].addr && addr < b[i].addr + b[i].size)
			len = OVUP_MIN(sizeof(code), b[i].addr + b[i].size - addr);
	free(b);
	if (len < OVUP_ARCH_TRAP_TABLE_V1 ||
	    pread(p->memfd, code, len, (off_t)addr) != (ssize_t)len)
		return 0;
	return (len == sizeof(code) && !memcmp(code, ovup_arch_trap_handler, sizeof(code))) ||
	       !memcmp(code, ovup_arch_trap_handler_v1, OVUP_ARCH_TRAP_TABLE_V1);
}

/* A thread let go after a call runs on until it is back in the call it
 * was interrupted in: the next survey would find it running and hold it
 * to the end.  It is given up to SETTLE_NS to get there (ovup's own
 * time, while no thread is held); fd is its syscall file. */
static void settle(int fd)
{
	uint64_t end = ovup_now_ns() + SETTLE_NS;
	char buf[16];

	while (fd >= 0 && pread(fd, buf, sizeof(buf), 0) >= 7 && !strncmp(buf, "running", 7) &&
	       ovup_now_ns() < end)
		sched_yield();
}

/*
 * rt_sigaction(SIGTRAP, act, old) in host, a thread stopped for this call
 * alone, over the default action: the thread is let go at once with the
 * call's registers and makes it on its own, then puts itself back through
 * its frame (its hold is one stop).  The call turns act, under its
 * stack, into the old action, which ovup reads there; a word beside it
 * tells that no signal frame has taken the place since.  -EAGAIN if the
 * action is not the default (what was there must be read, stopped) or
 * host cannot.
 */
static int call_released(struct tracer *tr, struct tthread *host, const struct ksigaction *act,
			 struct ksigaction *old)
{
	struct proc_target *p = tr->p;
	uint64_t args[6] = { TRAP_SIG, 0, 0, 8, 0, 0 }, at = 0, t_stop, end;
	struct {
		struct ksigaction act;
		uint64_t tag;
	} d = { *act, ovup_now_ns() ^ 0x6f7675702d746167ull }, seen;
	long k = ovup_ptrace_index(&p->threads, host->tid);
	int ret;

	if (k < 0 || proc_bit(p->pid, "SigCgt:"))
		return -EAGAIN;
	t_stop = p->threads.t[k].t_stop;
	ret = ovup_proc_syscall_released(p, host->tid, SYS_rt_sigaction, args, &d, sizeof(d), 6u,
					 &at);
	if (ret == -EAGAIN)
		return ret;
	if (ovup_ptrace_index(&p->threads, host->tid) < 0) {
		tr->sh->pause_ns = OVUP_MAX(tr->sh->pause_ns, ovup_now_ns() - t_stop);
		host->held = 0;
	}
	ovup_proc_trap_die_at("trap-released", 0);
	if (ret)
		return ret;
	/* done once the action there is no longer act: a thread that has a
	 * CPU takes microseconds */
	end = ovup_now_ns() + RELEASED_NS;
	for (;;) {
		if (pread(p->memfd, &seen, sizeof(seen), (off_t)at) != (ssize_t)sizeof(seen))
			return ovup_proc_gone(p);
		if (memcmp(&seen.act, act, sizeof(*act)))
			break;
		if (ovup_now_ns() > end)
			return ovup_err(-ETIMEDOUT,
					"pid %d: thread %d did not make the call that installs "
					"ovup's SIGTRAP handler",
					p->pid, host->tid);
		sched_yield();
	}
	if (seen.tag == d.tag) {
		*old = seen.act;
	} else {
		/* a signal frame took the place once the thread was back:
		 * the action was the default a moment before the call */
		memset(old, 0, sizeof(*old));
		ovup_info("pid %d: the old SIGTRAP action was overwritten before ovup read it; "
			  "it was the default just before",
			  p->pid);
	}
	return 0;
}

/* Runs rt_sigaction(SIGTRAP, act, old) in a held thread (one is stopped
 * for it if none is, and let go after). */
static int sigtrap_action(struct tracer *tr, const struct ksigaction *act, struct ksigaction *old)
{
	struct proc_target *p = tr->p;
	uint64_t args[6] = { TRAP_SIG, 0, 0, 8, 0, 0 };
	struct tthread *host = NULL;
	int64_t res;
	size_t i;
	int ret, borrowed = 0, short_way;

	for (i = 0; i < p->threads.n && !host; i++)
		if (p->threads.t[i].stop)
			host = tt_find(tr, p->threads.t[i].tid);
	for (i = 0; i < tr->n && !host; i++)
		if (tr->t[i].tid == p->pid || i == tr->n - 1)
			host = &tr->t[i]; /* the leader, else any */
	if (!host)
		return ovup_proc_gone(p);
	if (!host->held) {
		borrowed = 1;
		ovup_info("pid %d: thread %d stopped for the handler's call", p->pid, host->tid);
		ret = ask_stop(tr, host);
		ret = ret > 0 ? got_stop(tr, host->tid) : ret ? ret : -ESRCH;
		if (ret)
			return ret == -ESRCH ? ovup_proc_gone(p) : ret;
	}
	/* a thread stopped for this call alone is held for one stop: let go
	 * at once over the default action (call_released), else stopped once
	 * more, at the breakpoint after the call in the handler's own
	 * sequence; either way it puts itself back through its frame */
	ret = -EAGAIN;
	res = 0;
	short_way = borrowed && act->handler == p->trap_code;
	if (short_way && old)
		ret = call_released(tr, host, act, old);
	if (ret == -EAGAIN && short_way)
		ret = ovup_proc_syscall_trap(p, host->tid, SYS_rt_sigaction, args, act,
					     sizeof(*act), old ? 6u : 2u, old, &res);
	if (ret == -EAGAIN)
		ret = ovup_proc_syscall_rw(p, SYS_rt_sigaction, args, act, sizeof(*act),
					   old ? 6u : 2u, old, &res);
	if (!ret && res)
		ret = ovup_err((int)res, "pid %d: rt_sigaction failed in the target: %s", p->pid,
			       strerror((int)-res));
	if (borrowed) {
		/* it goes on now: its hold is over */
		long k = ovup_ptrace_index(&p->threads, host->tid);

		if (k >= 0) {
			struct ovup_thread *th = &p->threads.t[k];

			tr->sh->pause_ns = OVUP_MAX(tr->sh->pause_ns, ovup_now_ns() - th->t_stop);
			if (!ovup_ptrace_detach_one(&p->threads, (size_t)k))
				host->held = 0;
		}
		if (!host->held)
			settle(host->fd);
	}
	return ret;
}

/* Installs the handler of this patch's block, over the default action or
 * over an earlier patch's handler; -EOPNOTSUPP if the process has its own.
 * It stays while the block lives (ovup_proc_trap_release). */
static int install(struct tracer *tr)
{
	struct proc_target *p = tr->p;
	struct ovup_txn *txn = tr->txn;
	struct ksigaction act, old = { 0 };
	uint64_t table[1 + OVUP_TRAP_SITES];
	size_t i;
	int ret;

	if (proc_bit(p->pid, "SigIgn:"))
		return ovup_err(-EOPNOTSUPP, "pid %d ignores SIGTRAP", p->pid);
	ret = ovup_proc_gadgets(p);
	if (ret)
		return ret;
	table[0] = txn->nsites;
	for (i = 0; i < txn->nsites; i++)
		table[1 + i] = txn->sites[i].addr;
	if (pwrite(p->memfd, table, 8 * (1 + txn->nsites),
		   (off_t)(p->trap_code + OVUP_ARCH_TRAP_TABLE)) !=
	    (ssize_t)(8 * (1 + txn->nsites)))
		return ovup_err(-EIO, "pid %d: cannot write the breakpoint table: %m", p->pid);
	act = (struct ksigaction){ p->trap_code, SA_SIGINFO | SA_RESTORER_, p->gadget_restorer, 0 };
	ret = sigtrap_action(tr, &act, &old);
	if (ret || !old.handler || ovup_handler_at(p, old.handler))
		return ret;
	/* the process's own: it gets it back */
	ret = sigtrap_action(tr, &old, NULL);
	return ret ? ret : ovup_err(-EOPNOTSUPP, "pid %d handles SIGTRAP itself", p->pid);
}

/* ---- the switch ------------------------------------------------------------- */

/* Test hook: the tracer dies here (OVUP_FAULT=name or name:k), and with
 * trap-both, ovup with it (docs/testing.md). */
void ovup_proc_trap_die_at(const char *name, size_t k)
{
	if (k ? !ovup_fault_n(name, k) : !ovup_fault(name))
		return;
	if (ovup_fault("trap-both"))
		kill(getppid(), SIGKILL);
	raise(SIGKILL);
}

static int write_at(struct proc_target *p, uint64_t addr, const uint8_t *b, size_t n)
{
	if (!n)
		return 0;
	if (pwrite(p->memfd, b, n, (off_t)addr) != (ssize_t)n)
		return ovup_err(-EIO, "pid %d: cannot write at 0x%" PRIx64 ": %m", p->pid, addr);
	return 0;
}

static int breakpoints(struct tracer *tr)
{
	static const uint8_t cc = OVUP_ARCH_TRAP_BYTE;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && i < tr->txn->nsites; i++)
		ret = write_at(tr->p, tr->txn->sites[i].addr, &cc, 1);
	return ret;
}

/* Every site to its jump (forward) or to its old bytes: the tails behind
 * the breakpoints, a survey (serialising), the first bytes. */
static int put(struct tracer *tr, int forward)
{
	struct ovup_txn *txn = tr->txn;
	size_t i;
	int ret = 0;

	tr->sh->forward = forward;
	tr->sh->tails = 0;
	for (i = 0; !ret && i < txn->nsites; i++) {
		const struct ovup_site *s = &txn->sites[i];

		ovup_proc_trap_die_at("trap-tail", i + 1);
		ret = write_at(tr->p, s->addr + 1, (forward ? s->write : s->expect) + 1,
			       s->len - 1);
		tr->sh->tails += !ret;
	}
	if (!ret)
		ret = survey(tr, 0);
	for (i = 0; !ret && i < txn->nsites; i++) {
		const struct ovup_site *s = &txn->sites[i];

		ovup_proc_trap_die_at("trap-head", i + 1);
		ret = write_at(tr->p, s->addr, forward ? s->write : s->expect, 1);
	}
	return ret;
}

static int compare(struct tracer *tr)
{
	struct ovup_txn *txn = tr->txn;
	size_t i;

	for (i = 0; i < txn->nsites; i++) {
		const struct ovup_site *s = &txn->sites[i];
		uint8_t cur[OVUP_SITE_MAX];

		if (pread(tr->p->memfd, cur, s->len, (off_t)s->addr) != (ssize_t)s->len)
			return ovup_err(-EIO, "pid %d: cannot read 0x%" PRIx64 ": %m", tr->p->pid,
					s->addr);
		if (memcmp(cur, s->expect, s->len)) {
			tr->sh->failed_site = (long)i;
			return -ESTALE;
		}
	}
	return 0;
}

/* The tracer's whole run; sh->stage says how far it got. */
static int trace(struct tracer *tr)
{
	struct ovup_threads *ts = &tr->p->threads;
	uint64_t now;
	size_t i;
	int ret, busy;

	/* the thread alloc's calls were made in was let go a moment ago */
	if (ts->last_released) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", tr->p->pid,
			 ts->last_released);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		settle(fd);
		if (fd >= 0)
			close(fd);
	}
	/* the threads running now are held from here: they would take the
	 * CPUs from the thread that makes the call for ovup; a thread in the
	 * way now is in the way before anything is written */
	ret = survey(tr, 1);
	if (!ret)
		ret = install(tr);
	if (!ret)
		ret = compare(tr);
	if (ret)
		goto release;
	ovup_proc_trap_die_at("trap-before", 0);
	tr->sh->stage = STAGE_TRAPS;
	ret = breakpoints(tr);
	ovup_proc_trap_die_at("trap-traps", 0);
	busy = !ret ? survey(tr, 1) : 0;
	if (!ret && !busy)
		ret = put(tr, 1);
	else if (!ret && busy == -EBUSY)
		ret = put(tr, 0), ret = ret ? ret : -EBUSY;
	else if (!ret)
		ret = busy;
	if (ret && ret != -EBUSY)
		return ret; /* sites half-way: the guard settles them */
	ovup_proc_trap_die_at("trap-after", 0);
release:
	/* every held thread goes on, with the signal it stopped for */
	now = ovup_now_ns();
	for (i = 0; i < ts->n; i++)
		if (ts->t[i].t_stop)
			tr->sh->pause_ns = OVUP_MAX(tr->sh->pause_ns, now - ts->t[i].t_stop);
	tr->sh->threads = (uint32_t)tr->n;
	if (ovup_ptrace_resume_all(ts) && !ret)
		ret = -EIO;
	tr->sh->stage = STAGE_DONE;
	return ret;
}

/* ---- ovup's side: the guard, the repair, the release ------------------------- */

/*
 * A live switch whose tracer died, settled with every thread stopped:
 * each site to its jump if complete is 1, to its old bytes if 0 (a tail
 * is written only once no thread is inside any, so no thread can be
 * caught in one); a thread stopped with a breakpoint's SIGTRAP back at
 * the site, its signal cancelled.  A thread waiting in the handler, or
 * one whose SIGTRAP is still pending, runs the site once it is whole.
 */
static int settle_all(struct proc_target *p, struct ovup_txn *txn, int complete)
{
	size_t i;
	int ret;

	ret = ovup_proc_stop(&p->base);
	for (i = 0; !ret && i < txn->nsites; i++) {
		const struct ovup_site *s = &txn->sites[i];
		const uint8_t *want = complete ? s->write : s->expect;
		uint8_t cur[OVUP_SITE_MAX];

		if (pread(p->memfd, cur, s->len, (off_t)s->addr) != (ssize_t)s->len)
			ret = -EIO;
		else if (memcmp(cur, want, s->len))
			ret = write_at(p, s->addr, want, s->len);
	}
	for (i = 0; !ret && i < p->threads.n; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t site = ovup_arch_trap_site(&th->regs);

		if (th->stop != OVUP_STOP_SIGNAL || th->sig != SIGTRAP || site_of(txn, site) < 0)
			continue;
		th->sig = 0;
		ret = ovup_ptrace_set_pc(&p->threads, i, site);
	}
	ovup_proc_resume(&p->base, txn);
	return ret;
}

/* The tracer died: settled from what it said it had done. */
static int guard(struct proc_target *p, struct ovup_txn *txn, struct trap_share *sh)
{
	int complete = sh->stage >= STAGE_TRAPS && sh->forward && sh->tails == txn->nsites;
	int ret = 0;

	ovup_info("pid %d: the live switch's tracer died (stage %d, %s, %u of %zu tails)", p->pid,
		  sh->stage, sh->forward ? "forward" : "back", sh->tails, txn->nsites);
	if (sh->stage >= STAGE_TRAPS)
		ret = settle_all(p, txn, complete);
	if (ret) {
		ovup_err_set_inconsistent();
		return ovup_err(ret,
				"pid %d: the process switching its sites died, and ovup "
				"could not settle them",
				p->pid);
	}
	if (complete) {
		ovup_warn("pid %d: the process switching its sites died; ovup finished the switch",
			  p->pid);
		return 0;
	}
	return ovup_err(-ECHILD,
			"pid %d: the process switching its sites died; nothing was switched, "
			"try again",
			p->pid);
}

int ovup_proc_trap_repair(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = ovup_to_proc(t);
	int traps = 0, complete = 1, ret;
	size_t i;

	for (i = 0; i < txn->nsites; i++) {
		const struct ovup_site *s = &txn->sites[i];
		uint8_t cur[OVUP_SITE_MAX];

		if (s->len < 1 || s->len > OVUP_SITE_MAX)
			continue;
		if (pread(p->memfd, cur, s->len, (off_t)s->addr) != (ssize_t)s->len)
			return ovup_proc_gone(p);
		traps |= cur[0] == OVUP_ARCH_TRAP_BYTE && s->write[0] != OVUP_ARCH_TRAP_BYTE &&
			 s->expect[0] != OVUP_ARCH_TRAP_BYTE;
		/* a tail is written only once no thread can be in any */
		complete &= !memcmp(cur + 1, s->write + 1, s->len - 1);
	}
	if (!traps)
		return 0;
	ret = settle_all(p, txn, complete);
	if (ret)
		return ovup_err(ret,
				"pid %d: a switch an earlier ovup left half-way could not be "
				"settled",
				p->pid);
	ovup_note("pid %d: finished a switch an earlier ovup left half-way (%s)", p->pid,
		  complete ? "to the new code" : "back to the old code");
	return 0;
}

int ovup_proc_trap_release(struct proc_target *p, const struct ovup_block *b, size_t nb,
			   struct ovup_busy *busy)
{
	static const struct ksigaction dfl = { 0 };
	uint64_t args[6] = { TRAP_SIG, 0, 0, 8, 0, 0 };
	struct ksigaction cur = { 0 };
	int64_t res;
	size_t i, k;
	int ret, in = 0;

	if (!proc_bit(p->pid, "SigCgt:"))
		return 0;
	ret = ovup_proc_syscall_rw(p, SYS_rt_sigaction, args, &dfl, sizeof(dfl), 4u, &cur, &res);
	if (ret || res)
		return ret ? ret : (int)res;
	for (k = 0; k < nb; k++)
		in |= cur.handler >= b[k].addr && cur.handler < b[k].addr + b[k].size;
	if (!in)
		return 0;
	/* a trap of the last switch still on its way to the handler, pending
	 * or stopped for (its stop would pass it on) */
	for (i = 0; i < p->threads.n; i++)
		if (task_bit(p->pid, p->threads.t[i].tid, "SigPnd:") ||
		    (p->threads.t[i].stop == OVUP_STOP_SIGNAL && p->threads.t[i].sig == SIGTRAP)) {
			busy->tid = p->threads.t[i].tid;
			busy->addr = cur.handler;
			ovup_proc_thread_comm(p->pid, busy->tid, busy->comm, sizeof(busy->comm));
			return -EBUSY;
		}
	/* args again: the call above set args[2] to where its data was */
	args[2] = 0;
	ret = ovup_proc_syscall_rw(p, SYS_rt_sigaction, args, &dfl, sizeof(dfl), 2u, NULL, &res);
	return ret ? ret : (int)res;
}

/* ---- the switch, from ovup ---------------------------------------------------- */

static int live_usable(struct proc_target *p, const struct ovup_txn *txn)
{
	const char *mode = getenv("OVUP_PAUSE");
	size_t i;

	if (mode && !strcmp(mode, "stop"))
		return 0;
	if (p->live_off || txn->revert || !p->trap_code || !txn->nsites ||
	    txn->nsites > OVUP_TRAP_SITES || p->threads.n)
		return 0;
	for (i = 0; i < txn->nsites; i++)
		if (txn->sites[i].len < 1 || txn->sites[i].len > OVUP_SITE_MAX)
			return 0;
	/* stopping a few threads costs less than the call that installs
	 * the handler (bench/pause) */
	if (!(mode && !strcmp(mode, "live")) && count_threads(p->pid) < OVUP_TRAP_MIN_THREADS)
		return 0;
	return 1;
}

static void tracer_main(struct proc_target *p, struct ovup_txn *txn, struct trap_share *sh)
{
	struct tracer tr = { .p = p, .txn = txn, .sh = sh };
	struct rlimit nofile;

	/* a file per thread */
	if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* ovup's signals are for ovup: the tracer finishes */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	ovup_err_clear();
	sh->ret = trace(&tr);
	if (sh->ret && ovup_err_msg())
		snprintf(sh->msg, sizeof(sh->msg), "%s", ovup_err_msg());
	_exit(0);
}

int ovup_proc_switch_live(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = ovup_to_proc(t);
	struct trap_share *sh;
	int st, ret;
	pid_t pid;

	if (!live_usable(p, txn))
		return -EOPNOTSUPP;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -EOPNOTSUPP;
	memset(sh, 0, sizeof(*sh));
	sh->failed_site = -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		munmap(sh, sizeof(*sh));
		return -EOPNOTSUPP;
	}
	if (!pid)
		tracer_main(p, txn, sh);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (sh->stage == STAGE_DONE && WIFEXITED(st)) {
		ret = sh->ret;
		txn->busy = sh->busy;
		txn->failed_site = sh->failed_site;
		txn->pause_ns = sh->pause_ns;
		txn->hold_ns = p->threads.max_hold;
		if (ret == -EOPNOTSUPP) {
			ovup_info("%s; all its threads are stopped instead", sh->msg);
			p->live_off = 1;
		} else if (ret && ret != -EBUSY && ret != -ESTALE) {
			ret = sh->msg[0] ? ovup_err(ret, "%s", sh->msg)
					 : ovup_proc_ptrace_err(p, ret, "switch its sites");
		}
		ovup_info("pid %d: live switch: %u threads, %u held, longest hold %" PRIu64 " us",
			  p->pid, sh->threads, sh->held, sh->pause_ns / 1000);
	} else {
		ret = guard(p, txn, sh);
	}
	munmap(sh, sizeof(*sh));
	return ret;
}
