// SPDX-License-Identifier: MIT
/*
 * The process target: a running Linux process reached through ptrace and
 * /proc/PID/mem.  This file holds its ops table, open and close; a process
 * is its thread-group leader, locked with flock() on its /proc/PID/mem.
 * labels.c reads its symbols, remote.c makes system calls in it, blocks.c
 * and scan.c map and free ovup's blocks, threads.c stops the threads and
 * writes the branches, memory.c reads and writes its memory, original.c
 * reads its code as the files hold it, journal.c keeps the record in it,
 * access.c says why it cannot be reached, linkmap.c reads the loader's
 * list of objects (search order, TLS blocks).
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"
#include "../compile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int proc_site(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep)
{
	(void)t;
	*keep = (uint32_t)ovup_arch_entry_keep(entry, n);
	return 0;
}

static void proc_close(struct ovup_target *t)
{
	struct proc_target *p = ovup_to_proc(t);

	ovup_ptrace_release(&p->threads);
	ovup_seccomp_release(&p->seccomp);
	if (p->memfd >= 0)
		close(p->memfd); /* and with it the lock */
	free(p);
}

static const struct ovup_target_ops process_ops = {
	.kind = "process",
	.labels = ovup_proc_labels,
	.compile = ovup_cc_compile,
	.site = proc_site,
	.classify = ovup_classify_user,
	.resolve_ifunc = ovup_proc_resolve_ifunc,
	.tls_offset = ovup_proc_tls_offset,
	.inlined = ovup_proc_inlined,
	.alloc = ovup_proc_alloc,
	.free = ovup_proc_free,
	.blocks = ovup_proc_blocks,
	.copyin = ovup_proc_copyin,
	.chgprot = ovup_proc_chgprot,
	.read = ovup_proc_read,
	.stop = ovup_proc_stop,
	.pawrite = ovup_proc_pawrite,
	.resume = ovup_proc_resume,
	.switch_live = ovup_proc_switch_live,
	.repair = ovup_proc_trap_repair,
	.text_extra = ovup_proc_trap_extra,
	.fixup = ovup_proc_trap_fixup,
	.records_load = ovup_proc_records_load,
	.records_store = ovup_proc_records_store,
	.pristine = ovup_proc_pristine,
	.original = ovup_proc_original,
	.code_at = ovup_proc_code_at,
	.close = proc_close,
	.links_got = 1,
	.own_link = 1,
	.callers_assume_clobbers = 1,
};

/* The thread-group leader of tid: a process is patched as a whole. */
static int leader_of(int tid)
{
	char path[64], *s, *tg;
	int tgid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	s = ovup_read_file(path, NULL);
	if (s && (tg = strstr(s, "\nTgid:")))
		tgid = (int)strtol(tg + 6, NULL, 10);
	free(s);
	return tgid;
}

int ovup_target_process_open(int pid, enum ovup_open_mode offline, struct ovup_target **out)
{
	struct proc_target *p;
	char path[64];
	int ret, tgid;

	if (pid <= 0)
		return ovup_err(-EINVAL, "invalid pid %d", pid);
	tgid = leader_of(pid);
	if (tgid <= 0)
		return ovup_err(-ESRCH, "pid %d: no such process; check the pid (ps -p %d)", pid,
				pid);
	if (tgid != pid)
		ovup_note("pid %d is a thread of process %d: working on the process", pid, tgid);
	p = ovup_xcalloc(1, sizeof(*p));
	p->base.ops = &process_ops;
	snprintf(p->base.desc, sizeof(p->base.desc), "pid %d", tgid);
	p->pid = tgid;
	p->base.offline = offline;
	p->memfd = -1;
	p->threads.pid = tgid;
	snprintf(path, sizeof(path), "/proc/%d/mem", tgid);
	p->memfd = open(path, (offline ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (p->memfd < 0) {
		ret = errno == ENOENT        ? ovup_err(-ESRCH, "pid %d: no such process", tgid)
		      : ovup_proc_dead(tgid) ? ovup_err(-ESRCH,
							"pid %d: the process has exited (a "
							"zombie); nothing to patch",
							tgid)
					     : ovup_proc_denied(p, "open its memory");
		goto out_free;
	}
	/* One ovup at a time per process, whoever runs it and wherever: the
	 * lock is on the process's own /proc entry, and dies with ovup. */
	if (!offline && flock(p->memfd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK
			      ? ovup_err(-EBUSY,
					 "pid %d: another ovup is working on this process; "
					 "try again",
					 tgid)
			      : ovup_err(-errno, "pid %d: cannot lock it: %m", tgid);
		goto out_free;
	}
	*out = &p->base;
	return 0;
out_free:
	proc_close(&p->base);
	return ret;
}
