// SPDX-License-Identifier: MIT
/*
 * The process's threads while the branches are written: stop them all,
 * refuse while one sits in the bytes being replaced, compare and write
 * every site (undone in reverse if one write fails), resume them and
 * return the pause in the transaction.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ovup_proc_thread_comm(int pid, int tid, char *buf, size_t len)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	s = ovup_read_file(path, NULL);
	snprintf(buf, len, "%s", s ? s : "?");
	buf[strcspn(buf, "\n")] = 0;
	free(s);
}

int ovup_proc_stop(struct ovup_target *t)
{
	struct proc_target *p = ovup_to_proc(t);
	int ret;

	/* nothing of the target's may run ahead of ovup while it holds them:
	 * real-time if one of them is running (ovup_ptrace_stop_all) */
	ret = ovup_ptrace_stop_all(&p->threads);
	if (ret) {
		ovup_ptrace_resume_all(&p->threads);
		ovup_sched_hold_end();
		return ovup_proc_ptrace_err(p, ret, "stop its threads with ptrace");
	}
	return 0;
}

int ovup_proc_resume(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = ovup_to_proc(t);
	uint64_t t0 = p->threads.t_first_stop;
	int ret = ovup_ptrace_resume_all(&p->threads);

	if (t0)
		txn->pause_ns = ovup_now_ns() - t0;
	txn->hold_ns = p->threads.max_hold;
	ovup_sched_hold_end();
	return ret ? ovup_proc_ptrace_err(p, ret, "resume its threads") : 0;
}

/* A thread may sit at a site (it then takes the jump), never inside the
 * bytes being replaced; a thread stopped in a syscall may also go back to
 * the syscall instruction, which the kernel re-executes on a restart. */
static int busy_thread(struct proc_target *p, const struct ovup_range *r, size_t nr,
		       struct ovup_busy *busy)
{
	size_t i, k, j;

	for (i = 0; i < p->threads.n; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t pcs[4];
		size_t npc = ovup_arch_regs_resume_pcs(&th->regs, pcs);

		/* and where its signal handler returns to */
		if (th->has_sig_regs)
			npc += ovup_arch_regs_resume_pcs(&th->sig_regs, pcs + npc);

		for (j = 0; j < npc; j++) {
			for (k = 0; k < nr; k++) {
				if (pcs[j] >= r[k].start && pcs[j] < r[k].end) {
					busy->tid = th->tid;
					busy->addr = pcs[j];
					ovup_proc_thread_comm(p->pid, th->tid, busy->comm,
							      sizeof(busy->comm));
					return -EBUSY;
				}
			}
		}
	}
	return 0;
}

/* Compares every site before writing any, so a changed site costs nothing
 * to undo: -ESTALE with its index in txn->failed_site. */
static int sites_unchanged(struct ovup_target *t, struct ovup_txn *txn)
{
	size_t i;
	int ret;

	for (i = 0; i < txn->nsites; i++) {
		uint8_t cur[OVUP_SITE_MAX];
		struct ovup_site *s = &txn->sites[i];

		ret = ovup_proc_read(t, s->addr, cur, s->len);
		if (ret)
			return ret;
		if (memcmp(cur, s->expect, s->len)) {
			txn->failed_site = (long)i;
			return -ESTALE;
		}
	}
	return 0;
}

/* Writes the sites in order; how many were written is in *done. */
static int write_sites(struct proc_target *p, struct ovup_txn *txn, size_t *done)
{
	int ret = 0;

	for (*done = 0; *done < txn->nsites; (*done)++) {
		struct ovup_site *s = &txn->sites[*done];

		if (ovup_fault_n("pawrite", *done + 1))
			ret = ovup_err(-EIO,
				       "pid %d: write of site %zu failed (fault injected by "
				       "OVUP_FAULT)",
				       p->pid, *done + 1);
		else if (pwrite(p->memfd, s->write, s->len, (off_t)s->addr) != (ssize_t)s->len)
			ret = ovup_err(-errno ? -errno : -EIO,
				       "pid %d: cannot write the branch at 0x%" PRIx64 ": %m",
				       p->pid, s->addr);
		if (ret)
			break;
	}
	return ret;
}

/* Puts back the first done sites in reverse: the target must look
 * untouched. */
static void undo_sites(struct proc_target *p, struct ovup_txn *txn, size_t done)
{
	while (done-- > 0) {
		struct ovup_site *s = &txn->sites[done];

		if (ovup_fault("pawrite-undo") ||
		    pwrite(p->memfd, s->expect, s->len, (off_t)s->addr) != (ssize_t)s->len) {
			ovup_err_set_inconsistent();
			ovup_err_prefix("pid %d: could not restore 0x%" PRIx64
					" after a failed write; ",
					p->pid, s->addr);
		}
	}
}

int ovup_proc_pawrite(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = ovup_to_proc(t);
	size_t done;
	int ret;

	txn->failed_site = -1;
	ret = busy_thread(p, txn->ranges, txn->nranges, &txn->busy);
	if (ret)
		return ret;
	ret = sites_unchanged(t, txn);
	if (ret)
		return ret;
	ret = write_sites(p, txn, &done);
	if (!ret)
		return 0;
	txn->failed_site = (long)done;
	undo_sites(p, txn, done);
	return ret;
}
