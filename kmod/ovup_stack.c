// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The stack check: may the sites change now, and does any task still have
 * a frame in code that is going away?  Every task is walked (ORC) once
 * outside stop_machine; inside it only the tasks that are new, ran since,
 * were running or were not clean are walked again, so the stopped window
 * does not grow with the number of sleeping tasks.  The idle tasks of
 * every CPU, which are on no task list, are found through idle_threads.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/unwind.h>
#include "ovup_internal.h"

/* &idle_threads (a per-CPU variable), or 0 until OVUP_IOC_IDLE. */
static unsigned long ovup_idle_threads;

static struct task_struct *ovup_idle_read(unsigned long var, int cpu)
{
	struct task_struct **slot = per_cpu_ptr((struct task_struct * __percpu *)var, cpu);
	struct task_struct *t;
	unsigned int flags;
	pid_t pid;

	if (copy_from_kernel_nofault(&t, slot, sizeof(t)) || !t)
		return NULL;
	if (copy_from_kernel_nofault(&flags, &t->flags, sizeof(flags)) ||
	    copy_from_kernel_nofault(&pid, &t->pid, sizeof(pid)))
		return NULL;
	return (flags & PF_IDLE) && pid == 0 ? t : NULL;
}

/*
 * Accept var as &idle_threads only if it reads like it on every possible
 * CPU: CPU 0 holds init_task, each other CPU an idle task.  The per-CPU offset
 * is bounded first (x86-64 per-CPU symbols are offsets from 0 into the
 * static per-CPU area, far below 1 GiB), so a wrong number is an errno,
 * read through copy_from_kernel_nofault, never an oops.
 */
int ovup_idle_set(u64 var)
{
	struct task_struct *t0;
	int cpu;

	if (!var || var >= SZ_1G)
		return -EINVAL;
	/* CPU 0's is init_task itself, whose PF_IDLE a one-CPU kernel
	 * does not always show: the pointer is the proof there
	 */
	if (copy_from_kernel_nofault(&t0, per_cpu_ptr((struct task_struct * __percpu *)var, 0),
				     sizeof(t0)) || t0 != &init_task)
		return -EINVAL;
	for_each_possible_cpu(cpu)
		if (cpu && !ovup_idle_read(var, cpu))
			return -EINVAL;
	WRITE_ONCE(ovup_idle_threads, var);
	return 0;
}

bool ovup_idle_known(void)
{
	return READ_ONCE(ovup_idle_threads) != 0;
}

/* The idle task of a possible CPU (validated at OVUP_IOC_IDLE; idle tasks
 * are never freed).
 */
struct task_struct *ovup_idle_task(int cpu)
{
	return *per_cpu_ptr((struct task_struct * __percpu *)ovup_idle_threads, cpu);
}

static bool ovup_in(const struct ovup_k_range *r, u32 n, unsigned long addr)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (addr >= r[i].start && addr < r[i].end)
			return true;
	return false;
}

static int ovup_walk_busy(struct ovup_k_busy *busy, struct task_struct *t, u32 reason,
			  unsigned long addr, int ret)
{
	busy->pid = t ? task_pid_nr(t) : -1;
	busy->reason = reason;
	busy->addr = addr;
	memset(busy->comm, 0, sizeof(busy->comm));
	/* no get_task_comm(): it takes task_lock, and we may not sleep */
	if (t)
		strscpy(busy->comm, t->comm, sizeof(busy->comm));
	return ret;
}

/*
 * The unwinder stopped at a frame in ovup's text that has no ORC rows: a
 * trampoline, a stub, or a patch whose rows did not fit.
 * Its callers cannot be named, but each of their return addresses is a
 * word of the rest of the stack.  So look at every word from the frame's
 * sp up: none in a hard range means no caller returns there.
 */
static int ovup_walk_rest(struct task_struct *t, struct unwind_state *state,
			  const struct ovup_walk_ranges *wr, struct ovup_k_busy *busy, int soft)
{
	unsigned long lo = (unsigned long)task_stack_page(t), hi = lo + THREAD_SIZE;
	unsigned long p, w;

	if (state->sp < lo || state->sp >= hi || !IS_ALIGNED(state->sp, sizeof(long)))
		return ovup_walk_busy(busy, t, OVUP_BUSY_UNWIND, state->ip, OVUP_WALK_UNWIND);
	for (p = state->sp; p < hi; p += sizeof(long)) {
		w = READ_ONCE_NOCHECK(*(unsigned long *)p);
		if (ovup_in(wr->hard, wr->nhard, w))
			return ovup_walk_busy(busy, t, OVUP_BUSY_FRAME, w, OVUP_WALK_HARD);
		if (!soft && ovup_in(wr->soft, wr->nsoft, w)) {
			soft = 1;
			ovup_walk_busy(busy, t, OVUP_BUSY_FRAME, w, 0);
		}
	}
	return soft ? OVUP_WALK_SOFT : OVUP_WALK_CLEAN;
}

/*
 * Walk one task that is not running.  A frame in a hard range makes it
 * busy (a return address, or an instruction it was interrupted at); a
 * frame in a soft range (code being retired) is only noted.  Any doubt
 * (unwinder error, unnamed address) is OVUP_WALK_UNWIND.
 */
int ovup_walk_task(struct task_struct *t, const struct ovup_walk_ranges *wr,
		   struct ovup_k_busy *busy)
{
	struct unwind_state state;
	unsigned long addr;
	int soft = 0;

	/* A dead task's stack is gone; it runs no code any more. */
	if (!t->stack || !refcount_read(&t->stack_refcount))
		return OVUP_WALK_CLEAN;

	for (unwind_start(&state, t, NULL, NULL);
	     !unwind_done(&state) && !unwind_error(&state);
	     unwind_next_frame(&state)) {
		struct pt_regs *regs = unwind_get_entry_regs(&state, NULL);

		if (regs && user_mode(regs))  /* the kernel part is done */
			return soft ? OVUP_WALK_SOFT : OVUP_WALK_CLEAN;
		addr = unwind_get_return_address(&state);
		if (!addr)
			return ovup_walk_busy(busy, t, OVUP_BUSY_UNWIND, state.ip,
					      OVUP_WALK_UNWIND);
		/* state.signal: ip is where the task was interrupted, not
		 * where a call returns to
		 */
		if (ovup_in(wr->hard, wr->nhard, addr))
			return ovup_walk_busy(busy, t, state.signal ? OVUP_BUSY_EXEC :
					      OVUP_BUSY_FRAME, addr, OVUP_WALK_HARD);
		if (ovup_area_of(addr, 1) == &ovup_text) {
			if (!soft && ovup_in(wr->soft, wr->nsoft, addr)) {
				soft = 1;
				ovup_walk_busy(busy, t, OVUP_BUSY_FRAME, addr, 0);
			}
			/* patch code with ORC rows: the unwinder goes on */
			if (!ovup_orc_covers(addr))
				return ovup_walk_rest(t, &state, wr, busy, soft);
		}
	}
	if (unwind_error(&state))
		return ovup_walk_busy(busy, t, OVUP_BUSY_UNWIND, state.ip, OVUP_WALK_UNWIND);
	return soft ? OVUP_WALK_SOFT : OVUP_WALK_CLEAN;
}

static unsigned long ovup_switches(struct task_struct *t)
{
	return READ_ONCE(t->nvcsw) + READ_ONCE(t->nivcsw);
}

/*
 * Walk a task while the machine runs.  The result holds only if the task
 * did not run meanwhile: not on a CPU before, and after the walk still not
 * on a CPU with the same count of switches (__schedule() counts a switch
 * before it clears on_cpu, so reading on_cpu first and the count second
 * cannot miss a run).  *nsw gets the count for a later comparison.
 */
int ovup_walk_quiet(struct task_struct *t, const struct ovup_walk_ranges *wr,
		    struct ovup_k_busy *busy, unsigned long *nsw)
{
	unsigned long before;
	int ret;

	/* acquire: on_cpu is read before the count of switches */
	if (smp_load_acquire(&t->on_cpu))
		return OVUP_WALK_RUNNING;
	before = ovup_switches(t);
	*nsw = before;
	/* the count is read before the stack it vouches for */
	smp_rmb();
	ret = ovup_walk_task(t, wr, busy);
	/* the stack is read before on_cpu and the count are read again */
	smp_rmb();
	/* acquire: as above, on_cpu before the count */
	if (smp_load_acquire(&t->on_cpu) || ovup_switches(t) != before)
		return OVUP_WALK_RUNNING;
	return ret;
}

/* ---- the two passes ------------------------------------------------------ */

/* What pass one saw of a task, kept in an open-addressing table by task
 * pointer: the stop pass looks each task up in a few instructions.
 */
struct ovup_seen {
	struct task_struct *task;
	u64 start_time;
	unsigned long nsw;
	pid_t pid;
	bool clean;
};

static u32 ovup_hash(const struct task_struct *t, u32 mask)
{
	return (u32)(((unsigned long)t >> 6) * 0x9E3779B97F4A7C15ull >> 40) & mask;
}

static struct ovup_seen *ovup_seen_slot(struct ovup_scan *sc, struct task_struct *t)
{
	u32 i = ovup_hash(t, sc->mask);

	while (sc->seen[i].task && sc->seen[i].task != t)
		i = (i + 1) & sc->mask;
	return &sc->seen[i];
}

static void ovup_scan_one(struct ovup_scan *sc, struct task_struct *t)
{
	struct ovup_k_busy busy;
	struct ovup_seen *e;
	unsigned long nsw = 0;
	int r;

	if (sc->nseen >= sc->cap)
		return;  /* the stop pass walks what has no entry */
	r = ovup_walk_quiet(t, &sc->wr, &busy, &nsw);
	e = ovup_seen_slot(sc, t);
	if (e->task)
		return;
	e->task = t;
	e->pid = t->pid;
	e->start_time = t->start_time;
	e->nsw = nsw;
	e->clean = r == OVUP_WALK_CLEAN;
	sc->nseen++;
}

static u32 ovup_count_tasks(void)
{
	struct task_struct *g, *t;
	u32 n = 0;

	rcu_read_lock();
	for_each_process_thread(g, t)
		n++;
	rcu_read_unlock();
	return n + num_possible_cpus();
}

/*
 * Pass one, outside stop_machine (may sleep before it walks).  The table
 * has room for the tasks counted now plus slack, at most half full; tasks
 * that appear later have no entry and are walked in the stop pass.
 */
int ovup_scan_prepare(struct ovup_scan *sc)
{
	struct task_struct *g, *t;
	u32 n, size = 64;
	int cpu;

	if (!ovup_idle_known())
		return -ENOKEY;
	n = ovup_count_tasks() + 64;
	while (size < 2 * n)
		size <<= 1;
	sc->seen = kvcalloc(size, sizeof(*sc->seen), GFP_KERNEL);
	sc->pending = kvcalloc(n, sizeof(*sc->pending), GFP_KERNEL);
	if (!sc->seen || !sc->pending) {
		ovup_scan_free(sc);
		return -ENOMEM;
	}
	sc->mask = size - 1;
	sc->cap = n;
	sc->pending_cap = n;

	rcu_read_lock();
	for_each_process_thread(g, t)
		ovup_scan_one(sc, t);
	rcu_read_unlock();
	for_each_possible_cpu(cpu)
		ovup_scan_one(sc, ovup_idle_task(cpu));
	return 0;
}

void ovup_scan_free(struct ovup_scan *sc)
{
	kvfree(sc->seen);
	kvfree(sc->pending);
	sc->seen = NULL;
	sc->pending = NULL;
}

/* Unchanged since pass one found it clean: it has not run since. */
static bool ovup_still_clean(struct ovup_scan *sc, struct task_struct *t)
{
	const struct ovup_seen *e = ovup_seen_slot(sc, t);

	return e->task == t && e->clean && e->pid == t->pid &&
	       e->start_time == t->start_time && e->nsw == ovup_switches(t) &&
	       !READ_ONCE(t->on_cpu);
}

static void ovup_note_pending(struct ovup_scan *sc, struct task_struct *t)
{
	struct ovup_pending *p;

	sc->soft_hit = true;
	if (sc->npending >= sc->pending_cap) {
		sc->pending_all = true;  /* too many to list: all must be seen */
		return;
	}
	p = &sc->pending[sc->npending++];
	p->task = t;
	p->pid = t->pid;
	p->start_time = t->start_time;
}

/* One task inside stop_machine: 0 or -EBUSY. */
static int ovup_stop_one(struct ovup_scan *sc, struct task_struct *t, bool idle)
{
	struct ovup_k_busy busy;
	int r;

	sc->tasks++;
	if (ovup_still_clean(sc, t))
		return 0;
	sc->rechecked++;
	if (READ_ONCE(t->on_cpu)) {
		/* Inside stop_machine only the stopper threads run (they
		 * run stop_machine code); an idle task cannot, since each
		 * online CPU switched from it to its stopper.
		 */
		if (!idle && (t->flags & PF_KTHREAD) && !strncmp(t->comm, "migration/", 10))
			return 0;
		return ovup_walk_busy(&sc->busy, t, OVUP_BUSY_UNWIND, 0, -EBUSY);
	}
	r = ovup_walk_task(t, &sc->wr, &busy);
	if (r == OVUP_WALK_SOFT) {
		sc->soft_busy = busy;
		ovup_note_pending(sc, t);
		return 0;
	}
	if (r == OVUP_WALK_CLEAN)
		return 0;
	sc->busy = busy;
	return -EBUSY;
}

/*
 * The stop pass: every task and every online CPU's idle task, walking
 * again only what pass one could not vouch for.  An offline CPU's idle
 * task sits in play_dead() and starts over from a fresh stack when the
 * CPU comes back, so it can return into nothing; it is left out.
 */
int ovup_scan_stop(struct ovup_scan *sc)
{
	struct task_struct *g, *t;
	int cpu, ret = 0;

	sc->tasks = 0;
	sc->rechecked = 0;
	sc->npending = 0;
	sc->soft_hit = false;
	sc->pending_all = false;
	rcu_read_lock();
	for_each_process_thread(g, t) {
		ret = ovup_stop_one(sc, t, false);
		if (ret)
			goto unlock;
	}
	for_each_online_cpu(cpu) {
		ret = ovup_stop_one(sc, ovup_idle_task(cpu), true);
		if (ret)
			goto unlock;
	}
unlock:
	rcu_read_unlock();
	return ret;
}
