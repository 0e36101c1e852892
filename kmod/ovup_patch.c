// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The paper's pawrite for the kernel target, and its inverse: a batch of
 * branch writes at function entries, done all-or-nothing inside one
 * stop_machine after a compare-and-swap of every site and a walk of every
 * task's stack (ORC).  Successful writes become records that revert undoes,
 * newest first.  Every record pins ovup.ko, the modules it patches and
 * those its code refers to (ovup_deps.c).
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/atomic.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/stop_machine.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/sync_core.h>
#include <linux/uaccess.h>
#include <asm/unaligned.h>
#include "ovup_internal.h"

LIST_HEAD(ovup_records);  /* oldest first */
static u64 ovup_seq;

/* What an entry looks like after boot: ftrace's 5-byte NOP where
 * `call __fentry__` was, or that call (e8) while ftrace traces it.
 */
static const u8 ovup_nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
#define OVUP_CALL_REL32 0xe8
#define OVUP_JMP_REL32 0xe9
#define OVUP_INT3 0xcc

/* Is [func, func+5) a patchable function entry? 0, -EINVAL, or -EAGAIN
 * while ftrace or a kprobe is in the middle of rewriting it (int3).
 */
static int ovup_check_entry(unsigned long func)
{
	u8 b[5];

	if (copy_from_kernel_nofault(b, (void *)func, sizeof(b)))
		return -EINVAL;
	if (!memcmp(b, ovup_nop5, sizeof(b)) || b[0] == OVUP_CALL_REL32)
		return 0;
	return b[0] == OVUP_INT3 ? -EAGAIN : -EINVAL;
}

/*
 * Pin the module whose core text holds addr, or set *modp = NULL for the
 * core kernel.
 */
static int ovup_pin_owner(unsigned long addr, struct module **modp)
{
	struct module *found;
	int ret = -EINVAL;

	*modp = NULL;
	if (addr < MODULES_VADDR || addr >= MODULES_END)
		return 0;
	rcu_read_lock();
	found = ovup_module_at(addr);
	/* Not ourselves: a record pins ovup.ko already, and patching the
	 * patcher is not something to support.
	 */
	if (found && found != THIS_MODULE && found->state == MODULE_STATE_LIVE &&
	    try_module_get(found)) {
		*modp = found;
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

/* Where the `jmp rel32` written at a site lands must be code that outlives
 * the jump and that this operation loaded: a text block this very pawrite
 * hands to its record.  Not other kernel text (ovup does not redirect
 * functions to each other), not another record's block (freed with that
 * record), not a block of another fd.  The page must be executable now: a
 * block still R (no chgprot RX) is refused here rather than faulting on
 * the first call.
 */
static int ovup_check_jump(const struct ovup_k_site *s, const struct ovup_record *rec)
{
	unsigned long target = s->addr + 5 + (long)(s32)get_unaligned_le32(&s->write[1]);
	struct ovup_block *b = ovup_block_containing(target, 1);
	u32 i;

	if (s->write[0] != OVUP_JMP_REL32 || !b || b->area != &ovup_text)
		return -EINVAL;
	for (i = 0; i < rec->nblocks; i++)
		if (rec->blocks[i] == b)
			return ovup_is_kernel_text(target, 1) ? 0 : -EINVAL;
	return -EINVAL;
}

/* The newest record with a site at addr, or NULL. */
static const struct ovup_k_site *ovup_newest_site(unsigned long addr)
{
	struct ovup_record *r;
	u32 i;

	list_for_each_entry_reverse(r, &ovup_records, node)
		for (i = 0; i < r->nsites; i++)
			if (r->sites[i].addr == addr)
				return &r->sites[i];
	return NULL;
}

/* What pawrite will save as the function's original bytes must not be a
 * branch into ovup's own areas, unless it is exactly the jump the newest
 * record on this site wrote (stacking).  Anything else there is a jump an
 * interrupted or concurrent writer left, and saving it as "original" would
 * make revert restore a jump into freed memory.
 */
static int ovup_check_expect(const struct ovup_k_site *s)
{
	const struct ovup_k_site *top;
	unsigned long target;

	if (s->expect[0] != OVUP_JMP_REL32 && s->expect[0] != OVUP_CALL_REL32)
		return 0;
	target = s->addr + 5 + (long)(s32)get_unaligned_le32(&s->expect[1]);
	if (!ovup_overlaps_areas(target, 1))
		return 0;
	top = ovup_newest_site(s->addr);
	return top && !memcmp(top->write, s->expect, s->len) ? 0 : -EINVAL;
}

/* The size of the function starting at func, from "name+0x0/0xSIZE": 0
 * if func is not where a symbol starts.
 */
static unsigned long ovup_func_size(unsigned long func)
{
	unsigned long size = 0;
	char *sym, *p, *end;

	sym = kmalloc(KSYM_SYMBOL_LEN, GFP_KERNEL);
	if (!sym)
		return 0;
	sprint_symbol(sym, func);
	p = strstr(sym, "+0x0/0x");
	if (p) {
		p += strlen("+0x0/0x");
		end = strchrnul(p, ' ');
		*end = 0;
		if (kstrtoul(p, 16, &size))
			size = 0;
	}
	kfree(sym);
	return size;
}

/*
 * Validate one site of a pawrite and pin its module.  A site is exactly
 * what ovup's plan makes: `jmp rel32` (5 bytes) at func+5, func a symbol's
 * start with an ftrace entry, func+10 inside that function, the jump into
 * a block of this pawrite, over bytes that are not someone else's jump
 * into ovup.  Checks that can change (the entry, expect) are redone inside
 * stop_machine.
 */
static int ovup_check_site(const struct ovup_k_site *s, const struct ovup_record *rec,
			   struct module **modp)
{
	unsigned long size;
	int ret;

	*modp = NULL;
	if (s->pad)
		return -EINVAL;
	if (s->len > OVUP_SITE_BYTES)
		return -E2BIG;
	if (s->len != 5)
		return -EINVAL;
	if (s->func > ULONG_MAX - 5 - OVUP_SITE_BYTES || s->addr != s->func + 5)
		return -EINVAL;
	if (ovup_overlaps_areas(s->func, 10) || !ovup_is_kernel_text(s->func, 10))
		return -EINVAL;
	size = ovup_func_size(s->func);
	if (size < 10)
		return -EINVAL;

	ret = ovup_check_entry(s->func);
	if (ret)
		return ret;
	ret = ovup_check_jump(s, rec);
	if (!ret)
		ret = ovup_check_expect(s);
	if (ret)
		return ret;
	return ovup_pin_owner(s->func, modp);
}

bool ovup_sites_overlap(const struct ovup_k_site *a, const struct ovup_k_site *b)
{
	return a->addr < b->addr + b->len && b->addr < a->addr + a->len;
}

static int ovup_check_name(const char *name)
{
	size_t i, n = strnlen(name, OVUP_NAME_MAX);

	if (!n || n == OVUP_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return -EINVAL;
	return 0;
}

static struct ovup_record *ovup_record_find(const char *name)
{
	struct ovup_record *r;

	list_for_each_entry(r, &ovup_records, node)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

/* ---- inside stop_machine ------------------------------------------------ */

struct ovup_stop {
	const struct ovup_k_site *sites;
	void **alias;                     /* writable alias of each site */
	u32 nsites;
	bool revert;                      /* compare `write`, put back `expect` */
	struct ovup_scan scan;            /* the stack check */
	bool nocheck;                     /* no stack check (ovup_sites_restore) */
	bool publish;                     /* publish the prepared tables (apply) */
	int ret;
	u32 failed;
	u64 stop_ns;                      /* first CPU in -> work done */
	atomic_t cpus;
	int done;
};

/* Runs on one CPU while all others wait with interrupts off. */
static int ovup_stop_main(struct ovup_stop *st)
{
	u8 cur[OVUP_SITE_BYTES];
	u32 i;
	int ret;

	for (i = 0; i < st->nsites; i++) {
		const struct ovup_k_site *s = &st->sites[i];
		const u8 *want = st->revert ? s->write : s->expect;

		st->failed = i;
		if (!st->revert) {
			ret = ovup_check_entry(s->func);
			if (ret)
				return ret;
		}
		if (copy_from_kernel_nofault(cur, (void *)s->addr, s->len))
			return -EFAULT;
		if (memcmp(cur, want, s->len))
			return -ESTALE;
	}
	st->failed = U32_MAX;

	ret = st->nocheck ? 0 : ovup_scan_stop(&st->scan);
	if (ret)
		return ret;
	/* apply: the patch's entries, before any site can lead into it;
	 * revert: the rows of its code dropped, if it is freed at once
	 */
	if (st->publish && !(st->revert && st->scan.soft_hit))
		ovup_tables_publish();

	for (i = 0; i < st->nsites; i++) {
		const struct ovup_k_site *s = &st->sites[i];

		memcpy(st->alias[i], st->revert ? s->expect : s->write, s->len);
	}
	return 0;
}

/*
 * stop_machine() callback, run on every online CPU at once.  The first
 * CPU to arrive does the work; the others wait for it, and every CPU then
 * serializes itself, so none can run stale instructions of a rewritten
 * site once stop_machine lets it go (no IPI is possible in here).
 */
static int ovup_stop_fn(void *data)
{
	struct ovup_stop *st = data;

	if (atomic_inc_return(&st->cpus) == 1) {
		u64 t0 = ktime_get_ns();

		st->ret = ovup_stop_main(st);
		st->stop_ns = ktime_get_ns() - t0;
		/* release: the writes above are seen by whoever sees done */
		smp_store_release(&st->done, 1);
	} else {
		/* acquire: pairs with the release above */
		while (!smp_load_acquire(&st->done))
			cpu_relax();
	}
	sync_core();
	return 0;
}

/* Walk every stack once (pass one), map the aliases (vmap may sleep, so
 * before), stop the machine, unmap.  The caller frees st->scan.
 */
static int ovup_stop_and_write(struct ovup_stop *st)
{
	u32 i;
	int ret = 0;

	st->stop_ns = 0;
	ret = st->nocheck ? 0 : ovup_scan_prepare(&st->scan);
	if (ret)
		return ret;
	st->alias = kcalloc(st->nsites, sizeof(*st->alias), GFP_KERNEL);
	if (!st->alias)
		return -ENOMEM;
	for (i = 0; i < st->nsites; i++) {
		st->alias[i] = ovup_alias_map(st->sites[i].addr, st->sites[i].len);
		if (IS_ERR(st->alias[i])) {
			ret = PTR_ERR(st->alias[i]);
			goto unmap_aliases;
		}
	}
	atomic_set(&st->cpus, 0);
	st->done = 0;
	st->failed = U32_MAX;
	ret = stop_machine(ovup_stop_fn, st, cpu_online_mask);
	if (!ret)
		ret = st->ret;

unmap_aliases:
	for (i = 0; i < st->nsites; i++)
		ovup_alias_unmap(st->alias[i]);
	kfree(st->alias);
	st->alias = NULL;
	return ret;
}

/* ---- records ----------------------------------------------------------- */

static void ovup_record_free(struct ovup_record *r)
{
	u32 i;

	ovup_deps_put(r);
	if (r->mods)
		for (i = 0; i < r->nsites; i++)
			if (r->mods[i])
				module_put(r->mods[i]);
	kfree(r->mods);
	kfree(r->sites);
	kfree(r->blocks);
	kvfree(r->blob);
	kfree(r);
}

u64 ovup_record_newest_seq(void)
{
	return list_empty(&ovup_records) ? 0 :
		list_last_entry(&ovup_records, struct ovup_record, node)->seq;
}

u32 ovup_record_count(void)
{
	struct ovup_record *r;
	u32 n = 0;

	list_for_each_entry(r, &ovup_records, node)
		n++;
	return n;
}

/* Copy count elements from user memory; *dst stays NULL for none. */
static int ovup_dup_user(void *dst, u64 uptr, u32 count, size_t size)
{
	void *p;

	*(void **)dst = NULL;
	if (!count)
		return 0;
	p = vmemdup_user(u64_to_user_ptr(uptr), (size_t)count * size);
	if (IS_ERR(p))
		return PTR_ERR(p);
	*(void **)dst = p;
	return 0;
}

/* The caller's ranges, with room for `extra` more. */
static int ovup_ranges_in(u64 uptr, u32 n, u32 extra, struct ovup_k_range **out)
{
	struct ovup_k_range *r;
	u32 i;

	*out = NULL;
	r = kvcalloc(n + extra ?: 1, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	if (n && copy_from_user(r, u64_to_user_ptr(uptr), (size_t)n * sizeof(*r))) {
		kvfree(r);
		return -EFAULT;
	}
	for (i = 0; i < n; i++)
		if (r[i].start >= r[i].end) {
			kvfree(r);
			return -EINVAL;
		}
	*out = r;
	return 0;
}

/* Whatever the caller passed, no task may be inside the bytes a site
 * write replaces (one at the site's first byte will run the new ones).
 */
static u32 ovup_ranges_add_sites(struct ovup_k_range *r, u32 n,
				 const struct ovup_k_site *sites, u32 nsites)
{
	u32 i;

	for (i = 0; i < nsites; i++)
		if (sites[i].len > 1) {
			r[n].start = sites[i].addr + 1;
			r[n++].end = sites[i].addr + sites[i].len;
		}
	return n;
}

static void ovup_stats_out(struct ovup_k_stats *out, const struct ovup_stop *st)
{
	out->stop_ns = st->stop_ns;
	out->tasks = st->scan.tasks;
	out->rechecked = st->scan.rechecked;
}

/* The argument's own fields, before anything is copied or allocated. */
static int ovup_pawrite_check(struct ovup_k_pawrite *pw)
{
	int ret;

	pw->failed = U32_MAX;
	memset(&pw->busy, 0, sizeof(pw->busy));
	pw->seq = 0;
	memset(&pw->stats, 0, sizeof(pw->stats));
	/* code an idle CPU may be parked in cannot be judged without them */
	if (!ovup_idle_known())
		return -ENOKEY;
	if (!pw->ndeps && pw->deps)
		return -EINVAL;
	ret = ovup_check_name(pw->name);
	if (ret)
		return ret;
	if (!pw->nsites)
		return -EINVAL;
	if (pw->nsites > OVUP_SITES_MAX || pw->nranges > OVUP_RANGES_MAX ||
	    pw->nblocks > OVUP_BLOCKS_MAX || pw->bloblen > OVUP_BLOB_MAX ||
	    pw->ndeps > OVUP_SITES_MAX)
		return -E2BIG;
	return 0;
}

/* The caller's arrays, copied in before ovup_lock is taken. */
struct ovup_pawrite_in {
	struct ovup_k_site *sites;
	struct ovup_k_range *ranges;	/* room for one more per site */
	u64 *blocks;
	u64 *deps;
};

static void ovup_pawrite_in_free(struct ovup_pawrite_in *in)
{
	kvfree(in->sites);
	kvfree(in->ranges);
	kvfree(in->blocks);
	kvfree(in->deps);
}

/* A new record named by pw, holding the blob, with room for its sites and
 * blocks, and the caller's arrays in *in (freed by the caller either way).
 */
static struct ovup_record *ovup_pawrite_copy_in(const struct ovup_k_pawrite *pw,
						struct ovup_pawrite_in *in, int *err)
{
	struct ovup_record *rec;
	int ret;

	rec = kzalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec) {
		*err = -ENOMEM;
		return NULL;
	}
	strscpy(rec->name, pw->name, sizeof(rec->name));
	rec->nsites = pw->nsites;
	rec->nblocks = pw->nblocks;
	rec->bloblen = pw->bloblen;

	ret = ovup_dup_user(&in->sites, pw->sites, pw->nsites, sizeof(*in->sites));
	if (!ret)
		ret = ovup_ranges_in(pw->ranges, pw->nranges, pw->nsites, &in->ranges);
	if (!ret)
		ret = ovup_dup_user(&in->blocks, pw->blocks, pw->nblocks, sizeof(*in->blocks));
	if (!ret)
		ret = ovup_dup_user(&rec->blob, pw->blob, pw->bloblen, 1);
	if (!ret)
		ret = ovup_dup_user(&in->deps, pw->deps, pw->ndeps, sizeof(*in->deps));
	if (!ret) {
		/* the record keeps its own copy: bytes past len are not ours */
		rec->sites = kcalloc(pw->nsites, sizeof(*rec->sites), GFP_KERNEL);
		rec->mods = kcalloc(pw->nsites, sizeof(*rec->mods), GFP_KERNEL);
		rec->blocks = kcalloc(pw->nblocks ?: 1, sizeof(*rec->blocks), GFP_KERNEL);
		if (!rec->sites || !rec->mods || !rec->blocks)
			ret = -ENOMEM;
	}
	if (ret) {
		ovup_record_free(rec);
		*err = ret;
		return NULL;
	}
	return rec;
}

/* The blocks the record will own: each an unowned block of this fd, each
 * once.  With ovup_lock.
 */
static int ovup_record_take_blocks(struct ovup_record *rec, const u64 *addrs,
				   struct file *file)
{
	u32 i, j;

	for (i = 0; i < rec->nblocks; i++) {
		struct ovup_block *b = ovup_block_at(addrs[i]);

		if (!b)
			return -EINVAL;
		if (b->record)
			return -EBUSY;
		/* another fd's block is another operation's code */
		if (b->file != file)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (rec->blocks[j] == b)
				return -EINVAL;
		rec->blocks[i] = b;
	}
	return 0;
}

/* The record's sites: each checked (pinning the module it lies in), none
 * overlapping another.  *failed names the site that failed.  With ovup_lock.
 */
static int ovup_record_take_sites(struct ovup_record *rec, const struct ovup_k_site *sites,
				  u32 *failed)
{
	u32 i, j;
	int ret;

	for (i = 0; i < rec->nsites; i++) {
		struct ovup_k_site *s = &rec->sites[i];

		*failed = i;
		ret = ovup_check_site(&sites[i], rec, &rec->mods[i]);
		if (ret)
			return ret;
		s->addr = sites[i].addr;
		s->func = sites[i].func;
		s->len = sites[i].len;
		memcpy(s->expect, sites[i].expect, s->len);
		memcpy(s->write, sites[i].write, s->len);
		for (j = 0; j < i; j++)
			if (ovup_sites_overlap(s, &rec->sites[j]))
				return -EINVAL;
	}
	*failed = U32_MAX;
	return 0;
}

/* The stack check and every site's write, in one stop.  With ovup_lock. */
static int ovup_pawrite_switch(struct ovup_record *rec, struct ovup_k_range *ranges,
			       struct ovup_k_pawrite *pw)
{
	struct ovup_stop st = { .revert = false, .publish = true };
	int ret;

	st.sites = rec->sites;
	st.nsites = rec->nsites;
	st.scan.wr.hard = ranges;
	st.scan.wr.nhard = ovup_ranges_add_sites(ranges, pw->nranges, rec->sites, rec->nsites);
	ret = ovup_stop_and_write(&st);
	ovup_stats_out(&pw->stats, &st);
	ovup_scan_free(&st.scan);
	if (ret) {
		pw->failed = st.failed;
		pw->busy = st.scan.busy;
	}
	return ret;
}

/* The patch is live: the record takes its blocks and a reference on ovup.ko. */
static void ovup_record_add(struct ovup_record *rec, struct ovup_k_pawrite *pw)
{
	u32 i;

	rec->seq = ++ovup_seq;
	pw->seq = rec->seq;
	for (i = 0; i < rec->nblocks; i++) {
		rec->blocks[i]->record = rec;
		rec->blocks[i]->file = NULL;
	}
	list_add_tail(&rec->node, &ovup_records);
	__module_get(THIS_MODULE);
	pr_info("applied '%s': %u site(s), %u block(s)\n", rec->name,
		rec->nsites, rec->nblocks);
}

int ovup_pawrite(struct file *file, struct ovup_k_pawrite *pw)
{
	struct ovup_pawrite_in in = { };
	struct ovup_record *rec;
	int ret;

	ret = ovup_pawrite_check(pw);
	if (ret)
		return ret;
	rec = ovup_pawrite_copy_in(pw, &in, &ret);
	if (!rec)
		goto free_copies;

	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		goto free_copies;
	ovup_retired_check();
	ret = ovup_record_find(pw->name) ? -EEXIST : 0;
	if (!ret)
		ret = ovup_record_take_blocks(rec, in.blocks, file);
	if (!ret)
		ret = ovup_record_take_sites(rec, in.sites, &pw->failed);
	/* pinned before the switch: from then on the patch may call them */
	if (!ret)
		ret = ovup_deps_pin(rec, in.deps, pw->ndeps, &pw->failed);
	/* names and bug entries, published before the switch / in its stop */
	if (!ret)
		ret = ovup_tables_prepare(pw, rec->blocks, rec->nblocks);
	if (!ret)
		ret = ovup_pawrite_switch(rec, in.ranges, pw);
	if (!ret) {
		ovup_record_add(rec, pw);
		rec = NULL;
	} else {
		ovup_tables_cancel();
	}
	mutex_unlock(&ovup_lock);

free_copies:
	ovup_pawrite_in_free(&in);
	if (rec)
		ovup_record_free(rec);
	return ret;
}

/* -ENOTEMPTY if a newer record has a site over one of rec's: it must go
 * first.
 */
static int ovup_record_covered(struct ovup_record *rec)
{
	struct ovup_record *r = rec;
	u32 i, j;

	list_for_each_entry_continue(r, &ovup_records, node)
		for (i = 0; i < rec->nsites; i++)
			for (j = 0; j < r->nsites; j++)
				if (ovup_sites_overlap(&rec->sites[i], &r->sites[j]))
					return -ENOTEMPTY;
	return 0;
}

/* The argument's own fields, before anything is copied. */
static int ovup_revert_check(struct ovup_k_revert *rv)
{
	int ret;

	rv->failed = U32_MAX;
	memset(&rv->busy, 0, sizeof(rv->busy));
	memset(&rv->stats, 0, sizeof(rv->stats));
	rv->retired = 0;
	if (!ovup_idle_known())
		return -ENOKEY;
	ret = ovup_check_name(rv->name);
	if (ret)
		return ret;
	return rv->nranges > OVUP_RANGES_MAX ? -E2BIG : 0;
}

/* The record's own code is soft: a task in it (an idle CPU parked there, a
 * sleeper that will return into it) does not stop the revert, it only
 * keeps the code allocated, retired.  Returns how many of soft it filled.
 */
static u32 ovup_record_soft_ranges(const struct ovup_record *rec,
				   struct ovup_k_range soft[OVUP_BLOCKS_MAX])
{
	u32 i, nsoft = 0;

	for (i = 0; i < rec->nblocks; i++) {
		const struct ovup_block *b = rec->blocks[i];

		if (b->area->kind != OVUP_K_TEXT)
			continue;
		soft[nsoft].start = b->addr;
		soft[nsoft++].end = b->addr + (b->npages << PAGE_SHIFT);
	}
	return nsoft;
}

/* The sites are restored: forget the record, freeing its blocks, or
 * retiring them if the stop found a task in them.
 */
static void ovup_record_remove(struct ovup_record *rec, const struct ovup_scan *scan,
			       struct ovup_k_revert *rv)
{
	u32 i;

	list_del(&rec->node);
	if (scan->soft_hit) {
		rv->retired = ovup_blocks_retire_pending(rec, scan);
	} else {
		for (i = 0; i < rec->nblocks; i++)
			ovup_block_free(rec->blocks[i]);
		pr_info("reverted '%s'\n", rec->name);
	}
	ovup_record_free(rec);
	module_put(THIS_MODULE);
}

/* The stack check and every site's restore, in one stop; on success the
 * record goes.  With ovup_lock.
 */
static int ovup_revert_switch(struct ovup_record *rec, struct ovup_k_range *ranges,
			      struct ovup_k_revert *rv)
{
	struct ovup_stop st = { .revert = true };
	struct ovup_k_range soft[OVUP_BLOCKS_MAX];
	int ret;

	/* without memory for it, the rows go when the blocks are freed */
	st.publish = !ovup_tables_prepare_revert(rec);
	st.sites = rec->sites;
	st.nsites = rec->nsites;
	st.scan.wr.hard = ranges;
	st.scan.wr.nhard = ovup_ranges_add_sites(ranges, rv->nranges, rec->sites, rec->nsites);
	st.scan.wr.soft = soft;
	st.scan.wr.nsoft = ovup_record_soft_ranges(rec, soft);
	ret = ovup_stop_and_write(&st);
	ovup_stats_out(&rv->stats, &st);
	ovup_tables_cancel();
	if (ret) {
		rv->failed = st.failed;
		rv->busy = st.scan.busy;
	} else {
		ovup_record_remove(rec, &st.scan, rv);
	}
	ovup_scan_free(&st.scan);
	return ret;
}

int ovup_revert(struct ovup_k_revert *rv)
{
	struct ovup_k_range *ranges = NULL;
	struct ovup_record *rec;
	int ret;

	ret = ovup_revert_check(rv);
	if (ret)
		return ret;
	ret = ovup_ranges_in(rv->ranges, rv->nranges, OVUP_SITES_MAX, &ranges);
	if (ret)
		return ret;

	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		goto free_ranges;
	ovup_retired_check();
	rec = ovup_record_find(rv->name);
	ret = rec ? ovup_record_covered(rec) : -ENOENT;
	if (!ret)
		ret = ovup_revert_switch(rec, ranges, rv);
	mutex_unlock(&ovup_lock);
free_ranges:
	kvfree(ranges);
	return ret;
}

/* ---- forced paths (ovup_deps.c: rmmod -f) ------------------------------ */

/*
 * Put back the original bytes of rec's sites, except those in module skip
 * (about to be freed), in one stop_machine, compare-and-swap, and with no
 * stack check: no task can be inside the bytes a site restores (they were
 * our jump since the pawrite that checked it), and a task in the patch's
 * code returns through its blocks, which are retired, not freed.
 */
int ovup_sites_restore(const struct ovup_record *rec, const struct module *skip)
{
	struct ovup_stop st = { .revert = true, .nocheck = true };
	struct ovup_k_site *sites;
	u32 i, n = 0;
	int ret;

	sites = kcalloc(rec->nsites, sizeof(*sites), GFP_KERNEL);
	if (!sites)
		return -ENOMEM;
	for (i = 0; i < rec->nsites; i++)
		if (!skip || !rec->mods || rec->mods[i] != skip)
			sites[n++] = rec->sites[i];
	st.sites = sites;
	st.nsites = n;
	ret = n ? ovup_stop_and_write(&st) : 0;
	kfree(sites);
	return ret;
}

/* The stack check alone: 0 when no task has a frame in ranges (or
 * anywhere ovup_check_task doubts), else -EBUSY with *busy filled in.
 */
int ovup_stacks_check(const struct ovup_k_range *ranges, u32 nranges,
		      struct ovup_k_busy *busy)
{
	struct ovup_stop st = { .revert = true };
	int ret;

	st.scan.wr.hard = ranges;
	st.scan.wr.nhard = nranges;
	ret = ovup_stop_and_write(&st);
	if (ret == -EBUSY)
		*busy = st.scan.busy;
	ovup_scan_free(&st.scan);
	return ret;
}

/* Forget a record whose sites are restored; its blocks are retired, as a
 * task may still run in them.
 */
void ovup_record_drop(struct ovup_record *rec)
{
	list_del(&rec->node);
	ovup_blocks_retire(rec);
	ovup_record_free(rec);
	module_put(THIS_MODULE);
}

static int ovup_copy_out(u64 uptr, u32 room, const void *src, u32 count, size_t size)
{
	if (!uptr)
		return 0;
	if (room < count)
		return -ENOSPC;
	if (count && copy_to_user(u64_to_user_ptr(uptr), src, (size_t)count * size))
		return -EFAULT;
	return 0;
}

int ovup_record_get(struct ovup_k_record *out)
{
	struct ovup_record *r;
	u64 *addrs = NULL;
	u32 i = 0, room_sites = out->nsites, room_blocks = out->nblocks,
	    room_blob = out->bloblen;
	int ret;

	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		return ret;
	ret = -ENOENT;
	list_for_each_entry(r, &ovup_records, node)
		if (i++ == out->index) {
			ret = 0;
			break;
		}
	if (ret)
		goto unlock;

	out->nsites = r->nsites;
	out->nblocks = r->nblocks;
	out->bloblen = r->bloblen;
	memset(out->name, 0, sizeof(out->name));
	strscpy(out->name, r->name, sizeof(out->name));
	out->seq = r->seq;

	addrs = kcalloc(r->nblocks ?: 1, sizeof(*addrs), GFP_KERNEL);
	if (!addrs) {
		ret = -ENOMEM;
		goto unlock;
	}
	for (i = 0; i < r->nblocks; i++)
		addrs[i] = r->blocks[i]->addr;

	ret = ovup_copy_out(out->sites, room_sites, r->sites, r->nsites, sizeof(*r->sites));
	if (!ret)
		ret = ovup_copy_out(out->blocks, room_blocks, addrs, r->nblocks, sizeof(*addrs));
	if (!ret)
		ret = ovup_copy_out(out->blob, room_blob, r->blob, r->bloblen, 1);
	kfree(addrs);
unlock:
	mutex_unlock(&ovup_lock);
	return ret;
}
