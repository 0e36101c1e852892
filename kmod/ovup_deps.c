// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The modules a patch depends on, and what `rmmod -f` does to them.  Every
 * module the patch's code or data refers to is pinned for as long as its
 * record exists, so a plain rmmod of it is refused.  A forced rmmod of such
 * a module (or of one whose function is patched) drops the records that
 * need it from a module notifier; a forced rmmod of ovup.ko itself restores
 * every site before the module's text, where all patch code lives, is freed.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include "ovup_internal.h"

/* A forced drop waits this long for tasks to leave ovup's code before it
 * lets the kernel free the module (see docs/kernel.md, rmmod -f).
 */
#define OVUP_GOING_WAIT_MS 5000
#define OVUP_RETRY_MS 20
/* ovup_exit cannot give up; it says every so often what it waits for */
#define OVUP_EXIT_WARN_MS 10000

/*
 * The module whose core (text or data) holds addr, in any state but
 * unformed, or NULL; the caller holds rcu_read_lock().  __module_address()
 * is not exported, so walk the module list from our own entry; the list
 * head `modules` is the one node that does not lie in module memory.
 */
struct module *ovup_module_at(unsigned long addr)
{
	struct list_head *head = &THIS_MODULE->list, *pos;

	for (pos = rcu_dereference(list_next_rcu(head)); pos != head;
	     pos = rcu_dereference(list_next_rcu(pos))) {
		struct module *mod;

		if ((unsigned long)pos < MODULES_VADDR || (unsigned long)pos >= MODULES_END)
			continue;
		mod = container_of(pos, struct module, list);
		if (mod->state != MODULE_STATE_UNFORMED && within_module_core(addr, mod))
			return mod;
	}
	if (within_module_core(addr, THIS_MODULE))
		return THIS_MODULE;
	return NULL;
}

/* Pin the module holding addr unless rec pins it already: 0, -EINVAL if
 * addr is in no module, -ENXIO if its module is loading or unloading.
 */
static int ovup_dep_pin(struct ovup_record *rec, unsigned long addr)
{
	struct module *mod;
	int ret = 0;
	u32 i;

	if (addr < MODULES_VADDR || addr >= MODULES_END)
		return -EINVAL;
	rcu_read_lock();
	mod = ovup_module_at(addr);
	if (!mod) {
		ret = -EINVAL;
		goto unlock;
	}
	/* ovup.ko itself is pinned by every record */
	if (mod == THIS_MODULE)
		goto unlock;
	for (i = 0; i < rec->ndeps; i++)
		if (rec->deps[i] == mod)
			goto unlock;
	/* try_module_get() alone would take a module still in its init */
	if (mod->state != MODULE_STATE_LIVE || !try_module_get(mod)) {
		ret = -ENXIO;
		goto unlock;
	}
	rec->deps[rec->ndeps++] = mod;
unlock:
	rcu_read_unlock();
	return ret;
}

/* Pin the module of each of addrs[n]; on failure *failed is its index and
 * nothing stays pinned.
 */
int ovup_deps_pin(struct ovup_record *rec, const u64 *addrs, u32 n, u32 *failed)
{
	u32 i;
	int ret;

	if (!n)
		return 0;
	rec->deps = kcalloc(n, sizeof(*rec->deps), GFP_KERNEL);
	if (!rec->deps)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ret = ovup_dep_pin(rec, addrs[i]);
		if (ret) {
			*failed = i;
			ovup_deps_put(rec);
			return ret;
		}
	}
	return 0;
}

void ovup_deps_put(struct ovup_record *rec)
{
	u32 i;

	for (i = 0; i < rec->ndeps; i++)
		module_put(rec->deps[i]);
	kfree(rec->deps);
	rec->deps = NULL;
	rec->ndeps = 0;
}

/* ---- rmmod -f of a module a record needs -------------------------------- */

static bool ovup_record_needs(const struct ovup_record *r, const struct module *mod)
{
	u32 i;

	for (i = 0; i < r->ndeps; i++)
		if (r->deps[i] == mod)
			return true;
	for (i = 0; r->mods && i < r->nsites; i++)
		if (r->mods[i] == mod)
			return true;
	return false;
}

static bool ovup_record_over(const struct ovup_record *r, const struct ovup_record *under)
{
	u32 i, j;

	for (i = 0; i < r->nsites; i++)
		for (j = 0; j < under->nsites; j++)
			if (ovup_sites_overlap(&r->sites[i], &under->sites[j]))
				return true;
	return false;
}

/* Mark the records that need mod, and those stacked on a marked one (their
 * saved bytes are its jump): all go, newest first.  Returns how many.
 */
static u32 ovup_mark_going(const struct module *mod)
{
	struct ovup_record *r, *under;
	u32 n = 0;

	list_for_each_entry(r, &ovup_records, node) {
		r->dropping = ovup_record_needs(r, mod);
		list_for_each_entry(under, &ovup_records, node) {
			if (under == r || r->dropping)
				break;
			r->dropping = under->dropping && ovup_record_over(r, under);
		}
		n += r->dropping;
	}
	return n;
}

/* Restore the sites of r outside mod, retrying a transient failure (a
 * site being rewritten by someone else, memory) until the deadline.
 */
static int ovup_restore_until(struct ovup_record *r, const struct module *mod,
			      unsigned long deadline)
{
	int ret;

	for (;;) {
		ret = ovup_sites_restore(r, mod);
		if (!ret || time_after(jiffies, deadline))
			return ret;
		msleep(OVUP_RETRY_MS);
	}
}

/* Wait until no task has a frame in ovup's code: one of them could be on
 * its way into the module being freed.  0, or -EBUSY at the deadline.
 */
static int ovup_wait_quiet(unsigned long deadline, struct ovup_k_busy *busy)
{
	struct ovup_k_range area = {
		.start = ovup_text.base,
		.end = ovup_text.base + (ovup_text.npages << PAGE_SHIFT),
	};
	int ret;

	for (;;) {
		ret = ovup_stacks_check(&area, 1, busy);
		if (ret != -EBUSY || time_after(jiffies, deadline))
			return ret;
		msleep(OVUP_RETRY_MS);
	}
}

static void ovup_drop_for(struct module *mod)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(OVUP_GOING_WAIT_MS);
	struct ovup_record *r, *tmp;
	struct ovup_k_busy busy;
	u32 dropped = 0;
	int ret;

	mutex_lock(&ovup_lock);
	if (!ovup_mark_going(mod))
		goto unlock;
	list_for_each_entry_safe_reverse(r, tmp, &ovup_records, node) {
		if (!r->dropping)
			continue;
		r->dropping = false;
		ret = ovup_restore_until(r, mod, deadline);
		if (ret) {
			/* its jump stays: better than writing over someone
			 * else's bytes; the older records it covers fail too
			 */
			pr_err("module %s is being force-unloaded, but patch '%s' (seq %llu) could not be restored (%d); it stays applied\n",
			       mod->name, r->name, r->seq, ret);
			continue;
		}
		pr_warn("module %s is being force-unloaded: dropped patch '%s' (seq %llu), which %s it; its sites are restored\n",
			mod->name, r->name, r->seq,
			ovup_record_needs(r, mod) ? "needs" : "is stacked on a patch that needs");
		ovup_record_drop(r);
		dropped++;
	}
	if (dropped && ovup_wait_quiet(deadline, &busy))
		pr_warn("task %d (%.16s) is still in ovup's code at %pS after %d ms; if it calls into %s once that is freed, the kernel oopses (the risk rmmod -f takes)\n",
			busy.pid, busy.comm, (void *)(unsigned long)busy.addr,
			OVUP_GOING_WAIT_MS, mod->name);
unlock:
	mutex_unlock(&ovup_lock);
}

/*
 * Called by delete_module() after the module's exit function and before
 * its memory is freed, in process context without module_mutex: a forced
 * rmmod ignored our references.  Also called for a module whose init
 * failed; no record can need one of those (only live modules are pinned).
 */
static int ovup_module_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	if (action == MODULE_STATE_GOING)
		ovup_drop_for(data);
	return NOTIFY_DONE;
}

static struct notifier_block ovup_module_nb = {
	.notifier_call = ovup_module_notify,
};

int ovup_deps_init(void)
{
	return register_module_notifier(&ovup_module_nb);
}

/* ---- rmmod -f ovup ------------------------------------------------------ */

/* Restore r's sites, retrying until it works, saying every so often why
 * it does not yet.
 */
static void ovup_restore_forever(struct ovup_record *r)
{
	unsigned long warn_at = jiffies + msecs_to_jiffies(OVUP_EXIT_WARN_MS);
	int ret;

	while ((ret = ovup_sites_restore(r, NULL))) {
		if (time_after(jiffies, warn_at)) {
			pr_warn("unloading: patch '%s' cannot be restored yet (%d: a site is being changed by someone else, e.g. a kprobe on it); still trying\n",
				r->name, ret);
			warn_at = jiffies + msecs_to_jiffies(OVUP_EXIT_WARN_MS);
		}
		msleep(OVUP_RETRY_MS);
	}
}

/*
 * ovup_exit() cannot fail, and runs with patches applied only when forced
 * (every record holds a reference on ovup.ko): restore every site, newest
 * first, then wait until no task has a frame in ovup's code, for as long
 * as that takes: returning earlier would free code a task runs.
 */
void ovup_deps_exit(void)
{
	unsigned long warn_at = jiffies + msecs_to_jiffies(OVUP_EXIT_WARN_MS);
	struct ovup_record *r, *tmp;
	struct ovup_k_busy busy;
	u32 n;

	unregister_module_notifier(&ovup_module_nb);
	mutex_lock(&ovup_lock);
	n = ovup_record_count();
	if (!n)
		goto unlock;
	if (n)
		pr_warn("force-unloaded with %u patch(es) applied: restoring them\n", n);
	list_for_each_entry_safe_reverse(r, tmp, &ovup_records, node) {
		ovup_restore_forever(r);
		pr_warn("unloading: patch '%s' (seq %llu) restored\n", r->name, r->seq);
		ovup_record_drop(r);
	}
	while (ovup_wait_quiet(jiffies, &busy) == -EBUSY) {
		if (time_after(jiffies, warn_at)) {
			pr_warn("unloading: waiting for task %d (%.16s), which is in ovup's code at %pS\n",
				busy.pid, busy.comm, (void *)(unsigned long)busy.addr);
			warn_at = jiffies + msecs_to_jiffies(OVUP_EXIT_WARN_MS);
		}
		msleep(OVUP_RETRY_MS);
	}
	if (n)
		pr_warn("unloading: every patch is restored and no task is in its code\n");
unlock:
	mutex_unlock(&ovup_lock);
}
