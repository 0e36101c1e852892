// SPDX-License-Identifier: MIT
/*
 * Step 8 for the kernel, the switch: one pawrite (or revert) request to
 * ovup.ko, inside which the module stops the machine, checks every stack,
 * compares and writes every site (all or none) and resumes.  Here the
 * transaction is put in the module's terms, and its answer (the stop's
 * measures, the busy task, the site or module that changed) back in the
 * transaction's.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "kfiles.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The module stops the machine inside the pawrite ioctl: nothing to do
 * before it. */
int ovup_kern_stop(struct ovup_target *t)
{
	(void)t;
	return 0;
}

/* the machine resumes inside the pawrite ioctl, which measured the pause */
int ovup_kern_resume(struct ovup_target *t, struct ovup_txn *txn)
{
	(void)t;
	(void)txn;
	return 0;
}

void ovup_kern_copy_busy(struct ovup_busy *b, const struct ovup_k_busy *kb)
{
	b->tid = kb->pid;
	snprintf(b->comm, sizeof(b->comm), "%.16s", kb->comm);
	b->addr = kb->addr;
	b->unwind_failed = kb->reason == OVUP_BUSY_UNWIND;
	/* OVUP_BUSY_EXEC: interrupted at the bytes; FRAME: a return address */
	b->returns = kb->reason == OVUP_BUSY_FRAME;
}

/* The transaction's arrays as the module reads them. */
struct kern_arrays {
	struct ovup_k_site *sites;
	struct ovup_k_range *ranges;
	uint64_t *blocks;
	uint64_t *deps;
};

static void arrays_fill(struct kern_arrays *a, const struct ovup_txn *txn)
{
	size_t i;

	a->sites = ovup_xcalloc(txn->nsites, sizeof(*a->sites));
	a->ranges = ovup_xcalloc(txn->nranges + 1, sizeof(*a->ranges));
	a->blocks = ovup_xcalloc(txn->nblocks + 1, sizeof(*a->blocks));
	a->deps = ovup_xcalloc(txn->ndeps + 1, sizeof(*a->deps));
	for (i = 0; i < txn->nsites; i++) {
		a->sites[i].addr = txn->sites[i].addr;
		a->sites[i].func = txn->sites[i].func;
		a->sites[i].len = txn->sites[i].len;
		memcpy(a->sites[i].expect, txn->sites[i].expect, txn->sites[i].len);
		memcpy(a->sites[i].write, txn->sites[i].write, txn->sites[i].len);
	}
	for (i = 0; i < txn->nranges; i++) {
		a->ranges[i].start = txn->ranges[i].start;
		a->ranges[i].end = txn->ranges[i].end;
	}
	for (i = 0; i < txn->nblocks; i++)
		a->blocks[i] = txn->blocks[i].addr;
	for (i = 0; i < txn->ndeps; i++)
		a->deps[i] = txn->deps[i].addr;
}

static void arrays_free(struct kern_arrays *a)
{
	free(a->sites);
	free(a->ranges);
	free(a->blocks);
	free(a->deps);
}

/* "func.ovup_patch": the function, and the patch it came from (its name
 * reduced to what a symbol may hold), as kallsyms will show it. */
static void sym_name(char *out, size_t len, const char *func, const char *patch)
{
	char p[OVUP_NAME_MAX];
	size_t i;

	snprintf(p, sizeof(p), "%s", patch);
	for (i = 0; p[i]; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_')
			p[i] = '_';
	snprintf(out, len, "%.*s.ovup_%s", (int)(len - sizeof(p) - 8), func, p);
}

static int switch_apply(struct kern_target *k, struct ovup_txn *txn, const struct kern_arrays *a,
			uint64_t *stop_ns)
{
	struct ovup_k_pawrite p = { 0 };
	struct ovup_k_sym *named = k->nsyms ? ovup_xcalloc(k->nsyms, sizeof(*named)) : NULL;
	size_t i;
	int ret;

	for (i = 0; i < k->nsyms; i++) {
		named[i] = k->syms[i];
		sym_name(named[i].name, sizeof(named[i].name), k->syms[i].name, txn->name);
	}
	p.bugs = k->bugs;
	p.bugs_len = k->bugs_len;
	p.extable = k->extable;
	p.extable_len = k->extable_len;
	p.orc_ip = k->orc_ip;
	p.orc = k->orc;
	p.norc = k->norc;
	p.syms = (uint64_t)(uintptr_t)named;
	p.nsyms = (uint32_t)k->nsyms;
	snprintf(p.name, sizeof(p.name), "%s", txn->name);
	p.sites = (uint64_t)(uintptr_t)a->sites;
	p.ranges = (uint64_t)(uintptr_t)a->ranges;
	p.blocks = (uint64_t)(uintptr_t)a->blocks;
	p.blob = (uint64_t)(uintptr_t)txn->blob;
	p.nsites = (uint32_t)txn->nsites;
	p.nranges = (uint32_t)txn->nranges;
	p.nblocks = (uint32_t)txn->nblocks;
	p.bloblen = txn->blob ? (uint32_t)strlen(txn->blob) + 1 : 0;
	/* the module pins each of these modules while the patch is applied */
	p.deps = txn->ndeps ? (uint64_t)(uintptr_t)a->deps : 0;
	p.ndeps = (uint32_t)txn->ndeps;
	ret = ovup_kern_ioctl(k, OVUP_IOC_PAWRITE, &p, "pawrite");
	free(named);
	*stop_ns = p.stats.stop_ns;
	txn->stop_tasks = p.stats.tasks;
	txn->stop_rechecked = p.stats.rechecked;
	if (ret == -EBUSY)
		ovup_kern_copy_busy(&txn->busy, &p.busy);
	if (ret == -ESTALE)
		txn->failed_site = p.failed;
	if (ret == -ENOEXEC && p.failed == UINT32_MAX)
		ret = ovup_err(ret, "kernel: ovup.ko refused the names of the patch's functions "
				    "(outside its code, or not symbol names)");
	else if (ret == -ENOEXEC && (p.failed & OVUP_FAILED_ORC))
		ret = ovup_err(ret,
			       "kernel: ovup.ko refused row %u of the patch's .orc_unwind_ip (not "
			       "in its code)",
			       p.failed & ~OVUP_FAILED_ORC);
	else if (ret == -ENOEXEC && (p.failed & OVUP_FAILED_EXTABLE))
		ret = ovup_err(ret,
			       "kernel: ovup.ko refused entry %u of the patch's __ex_table (its "
			       "instruction or fixup outside its code, or a fixup type it does not "
			       "take)",
			       p.failed & ~OVUP_FAILED_EXTABLE);
	else if (ret == -ENOEXEC)
		ret = ovup_err(ret,
			       "kernel: ovup.ko refused entry %u of the patch's __bug_table (not a "
			       "ud2 in its code, or its file not a string in its blocks)",
			       p.failed);
	if (ret == -ENXIO && p.failed < txn->ndeps) {
		/* transient: busy (exit 3), retried like a busy stack */
		txn->failed_dep = p.failed;
		ret = ovup_err(-EBUSY,
			       "kernel: module '%s', which the patch '%s' refers "
			       "to, is being loaded or unloaded; nothing was "
			       "switched: try again once it is loaded",
			       txn->deps[p.failed].object, txn->name);
	}
	return ret;
}

/* A kprobe placed on the patch's code (by its kallsyms name, or by
 * address: kprobes/list names it the same) would keep its int3 and saved
 * bytes in memory the revert frees and a later apply reuses.  When the
 * list cannot be read, the revert goes ahead: backing out must work. */
static int kprobe_on_patch(struct kern_target *k, const char *patch)
{
	struct ovup_kprobe kp[8];
	char name[OVUP_SYM_NAME_MAX];
	int i, n;

	n = ovup_kprobes_in(k->v.text_base, k->v.text_base + k->v.text_size, kp, 8);
	if (n < 0) {
		ovup_err_clear();
		return 0;
	}
	sym_name(name, sizeof(name), "", patch);
	strcat(name, "+");
	for (i = 0; i < n && i < 8; i++)
		if (strstr(kp[i].where, name))
			return ovup_err(-EADDRINUSE,
					"kernel: a kprobe at 0x%" PRIx64
					" (%s) lies in the code of "
					"patch '%s'; remove it first (its breakpoint would stay in "
					"freed memory)",
					kp[i].addr, kp[i].where, patch);
	return 0;
}

static int switch_revert(struct kern_target *k, struct ovup_txn *txn, const struct kern_arrays *a,
			 uint64_t *stop_ns)
{
	struct ovup_k_revert r = { 0 };
	int ret;

	ret = kprobe_on_patch(k, txn->name);
	if (ret)
		return ret;

	snprintf(r.name, sizeof(r.name), "%s", txn->name);
	r.ranges = (uint64_t)(uintptr_t)a->ranges;
	r.nranges = (uint32_t)txn->nranges;
	ret = ovup_kern_ioctl(k, OVUP_IOC_REVERT, &r, "revert");
	*stop_ns = r.stats.stop_ns;
	txn->stop_tasks = r.stats.tasks;
	txn->stop_rechecked = r.stats.rechecked;
	txn->retired = ret ? 0 : r.retired;
	if (ret == -EBUSY)
		ovup_kern_copy_busy(&txn->busy, &r.busy);
	if (ret == -ESTALE)
		txn->failed_site = r.failed;
	return ret;
}

int ovup_kern_pawrite(struct ovup_target *t, struct ovup_txn *txn)
{
	struct kern_target *k = ovup_to_kern(t);
	struct kern_arrays a;
	uint64_t t0, stop_ns = 0;
	int ret;

	arrays_fill(&a, txn);
	t0 = ovup_now_ns();
	if (txn->revert)
		ret = switch_revert(k, txn, &a, &stop_ns);
	else
		ret = switch_apply(k, txn, &a, &stop_ns);
	/* the module measures the stop itself (first CPU in to the work
	 * done); a module that did not get that far leaves 0, and the whole
	 * ioctl bounds it */
	txn->pause_ns = stop_ns ? stop_ns : ovup_now_ns() - t0;
	if (ret && ret != -EBUSY && ret != -ESTALE && !ovup_err_msg())
		ovup_err(ret, "kernel: the module refused the %s of '%s': %s",
			 txn->revert ? "revert" : "switch", txn->name, strerror(-ret));
	arrays_free(&a);
	return ret;
}
