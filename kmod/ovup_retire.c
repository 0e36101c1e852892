// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Retired blocks: code (and its data) a revert switched away from while
 * some task, an idle task perhaps, still had a frame in it.  Nothing can
 * newly enter retired code, so each task found in it needs to be seen
 * clean once; then the blocks are freed.  Checked every second from a
 * work item that visits the CPUs in turn (a CPU's idle task can only be
 * walked while something else runs there), at every pawrite and revert,
 * and at module exit, which waits: the blocks lie in ovup.ko's own text
 * (each group pins the module, so only a forced unload gets there).
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/bsearch.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include "ovup_internal.h"

/* The blocks of one reverted (or dropped) record. */
struct ovup_retired {
	struct list_head node;
	char name[OVUP_NAME_MAX];
	u32 nblocks;
	struct ovup_block **blocks;
	struct ovup_k_range ranges[OVUP_BLOCKS_MAX]; /* its text blocks */
	u32 nranges;
	struct ovup_pending *pending;  /* sorted by task */
	u32 npending;
	bool all;          /* not listed: every task older than retired_at */
	u64 retired_at;    /* ktime_get_ns(), the clock of task->start_time */
	struct ovup_k_busy busy;  /* the last task found in it */
};

static LIST_HEAD(ovup_retired_list);  /* oldest first */
static void ovup_retire_work(struct work_struct *w);
static DECLARE_DELAYED_WORK(ovup_retire_dwork, ovup_retire_work);
static int ovup_retire_cpu;
static bool ovup_retire_stopping;

static int ovup_pending_cmp(const void *a, const void *b)
{
	const struct ovup_pending *x = a, *y = b;

	return x->task == y->task ? 0 : x->task < y->task ? -1 : 1;
}

static void ovup_retire_kick(void)
{
	int cpu;

	if (ovup_retire_stopping || list_empty(&ovup_retired_list))
		return;
	/* next online CPU, so that each idle task gets seen switched out */
	cpu = cpumask_next(ovup_retire_cpu, cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	ovup_retire_cpu = cpu;
	queue_delayed_work_on(cpu, system_wq, &ovup_retire_dwork, HZ);
}

/* Take the record's blocks (they leave the record) into a new group. */
static struct ovup_retired *ovup_retired_new(struct ovup_record *rec)
{
	struct ovup_retired *g;
	u32 i;

	/* small, and a revert that already switched cannot fail here */
	g = kzalloc(sizeof(*g), GFP_KERNEL | __GFP_NOFAIL);
	strscpy(g->name, rec->name, sizeof(g->name));
	g->blocks = rec->blocks;
	g->nblocks = rec->nblocks;
	rec->blocks = NULL;
	rec->nblocks = 0;
	for (i = 0; i < g->nblocks; i++) {
		struct ovup_block *b = g->blocks[i];

		b->record = NULL;
		b->file = NULL;
		b->retired = true;
		if (b->area->kind == OVUP_K_TEXT && g->nranges < OVUP_BLOCKS_MAX) {
			g->ranges[g->nranges].start = b->addr;
			g->ranges[g->nranges++].end = b->addr + (b->npages << PAGE_SHIFT);
		}
	}
	g->retired_at = ktime_get_ns();
	g->busy.pid = -1;
	/* rmmod is refused (busy) rather than left waiting in ovup_exit for
	 * a task that may sleep for ever in the code
	 */
	__module_get(THIS_MODULE);
	list_add_tail(&g->node, &ovup_retired_list);
	ovup_retire_kick();
	return g;
}

/* For a record dropped without a stack check (who may be in it is not
 * known): every task that exists now has to be seen clean.
 */
void ovup_blocks_retire(struct ovup_record *rec)
{
	struct ovup_retired *g = ovup_retired_new(rec);

	g->all = true;
	pr_info("'%s': %u block(s) retired until no task uses them\n", g->name, g->nblocks);
}

/* After a revert's stop: the tasks its stop pass found in the blocks.
 * Returns the number of blocks retired.
 */
int ovup_blocks_retire_pending(struct ovup_record *rec, const struct ovup_scan *sc)
{
	struct ovup_retired *g = ovup_retired_new(rec);

	g->busy = sc->soft_busy;
	g->all = sc->pending_all;
	if (!g->all) {
		g->pending = kvcalloc(sc->npending ?: 1, sizeof(*g->pending), GFP_KERNEL);
		g->npending = sc->npending;
		if (!g->pending) {
			g->all = true;
		} else {
			memcpy(g->pending, sc->pending, sc->npending * sizeof(*g->pending));
			sort(g->pending, g->npending, sizeof(*g->pending),
			     ovup_pending_cmp, NULL);
		}
	}
	pr_info("reverted '%s': %u block(s) retired: task %d (%s) may still return into them\n",
		g->name, g->nblocks, g->busy.pid, g->busy.comm);
	return g->nblocks;
}

/* Only under RCU (or for an idle task): the task may go after it. */
static void ovup_pending_set(struct ovup_pending *p, struct task_struct *t)
{
	p->task = t;
	p->pid = t->pid;
	p->start_time = t->start_time;
}

/* "all": list every task older than the retirement, idle tasks too.
 * Tasks that old only ever become fewer, so counting first is enough.
 */
static int ovup_retired_fill_all(struct ovup_retired *g)
{
	struct task_struct *p, *t;
	u32 n = num_possible_cpus(), i = 0;
	int cpu;

	rcu_read_lock();
	for_each_process_thread(p, t)
		n++;
	rcu_read_unlock();
	g->pending = kvcalloc(n, sizeof(*g->pending), GFP_KERNEL);
	if (!g->pending)
		return -ENOMEM;
	rcu_read_lock();
	for_each_process_thread(p, t)
		if (t->start_time <= g->retired_at && i < n)
			ovup_pending_set(&g->pending[i++], t);
	rcu_read_unlock();
	for_each_possible_cpu(cpu)
		if (i < n)
			ovup_pending_set(&g->pending[i++], ovup_idle_task(cpu));
	g->npending = i;
	g->all = false;
	sort(g->pending, g->npending, sizeof(*g->pending), ovup_pending_cmp, NULL);
	return 0;
}

static void ovup_retired_visit(struct ovup_retired *g, struct task_struct *t, bool gone)
{
	struct ovup_pending key = { .task = t }, *p;
	struct ovup_walk_ranges wr = { .soft = g->ranges, .nsoft = g->nranges };
	struct ovup_k_busy busy;
	unsigned long nsw;
	int r;

	p = bsearch(&key, g->pending, g->npending, sizeof(*p), ovup_pending_cmp);
	/* another task at a reused address: the pending one is gone */
	if (!p || p->seen || p->pid != t->pid || p->start_time != t->start_time)
		return;
	p->found = true;
	if (gone) {
		p->seen = true;
		return;
	}
	r = ovup_walk_quiet(t, &wr, &busy, &nsw);
	if (r == OVUP_WALK_CLEAN)
		p->seen = true;
	else if (r == OVUP_WALK_SOFT || r == OVUP_WALK_UNWIND)
		g->busy = busy;
}

/* One check of one group: true if no pending task is left. */
static bool ovup_retired_clean(struct ovup_retired *g)
{
	struct task_struct *p, *t;
	bool left = false;
	u32 i;
	int cpu;

	for (i = 0; i < g->npending; i++)
		g->pending[i].found = false;
	rcu_read_lock();
	for_each_process_thread(p, t)
		ovup_retired_visit(g, t, false);
	rcu_read_unlock();
	/* an offline CPU's idle task restarts from a fresh stack */
	for_each_possible_cpu(cpu)
		ovup_retired_visit(g, ovup_idle_task(cpu), !cpu_online(cpu));
	for (i = 0; i < g->npending; i++) {
		if (!g->pending[i].found)
			g->pending[i].seen = true;  /* exited */
		left |= !g->pending[i].seen;
	}
	return !left;
}

static void ovup_retired_free(struct ovup_retired *g)
{
	u32 i;

	list_del(&g->node);
	for (i = 0; i < g->nblocks; i++)
		ovup_block_free(g->blocks[i]);
	pr_info("retired block(s) of '%s' freed\n", g->name);
	kfree(g->blocks);
	kvfree(g->pending);
	kfree(g);
	module_put(THIS_MODULE);
}

/* Groups retired, each holding a reference on ovup.ko.  With ovup_lock. */
u32 ovup_retired_count(void)
{
	struct ovup_retired *g;
	u32 n = 0;

	list_for_each_entry(g, &ovup_retired_list, node)
		n++;
	return n;
}

/* Free every group no task uses any more.  Called with ovup_lock held. */
void ovup_retired_check(void)
{
	struct ovup_retired *g, *tmp;

	list_for_each_entry_safe(g, tmp, &ovup_retired_list, node) {
		if (g->all && ovup_retired_fill_all(g))
			continue;
		if (ovup_retired_clean(g))
			ovup_retired_free(g);
	}
}

static void ovup_retire_work(struct work_struct *w)
{
	mutex_lock(&ovup_lock);
	ovup_retired_check();
	ovup_retire_kick();
	mutex_unlock(&ovup_lock);
}

int ovup_retired_get(struct ovup_k_retired *out)
{
	struct ovup_retired *g;
	u32 i, n = 0;
	int ret;

	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		return ret;
	ret = -ENOENT;
	list_for_each_entry(g, &ovup_retired_list, node)
		for (i = 0; i < g->nblocks; i++)
			if (n++ == out->index) {
				out->addr = g->blocks[i]->addr;
				out->size = g->blocks[i]->npages << PAGE_SHIFT;
				memset(out->name, 0, sizeof(out->name));
				strscpy(out->name, g->name, sizeof(out->name));
				out->busy = g->busy;
				ret = 0;
				goto unlock;
			}
unlock:
	mutex_unlock(&ovup_lock);
	return ret;
}

static long ovup_retire_on_cpu(void *unused)
{
	mutex_lock(&ovup_lock);
	ovup_retired_check();
	mutex_unlock(&ovup_lock);
	return 0;
}

/*
 * Module exit: the retired code lies in ovup.ko's text, which is about to
 * go, so wait until no task uses it, checking from every CPU in turn.
 */
void ovup_retire_exit(void)
{
	bool said = false;
	int cpu;

	mutex_lock(&ovup_lock);
	ovup_retire_stopping = true;
	mutex_unlock(&ovup_lock);
	cancel_delayed_work_sync(&ovup_retire_dwork);
	for (;;) {
		cpus_read_lock();
		for_each_online_cpu(cpu)
			work_on_cpu(cpu, ovup_retire_on_cpu, NULL);
		cpus_read_unlock();
		if (list_empty(&ovup_retired_list))
			break;
		if (!said)
			pr_info("unloading: waiting for tasks to leave retired code\n");
		said = true;
		msleep(100);
	}
}
