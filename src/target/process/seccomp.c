// SPDX-License-Identifier: MIT
/*
 * The target's seccomp filters against the system calls ovup injects: the
 * filters are read with PTRACE_SECCOMP_GET_FILTER, every call ovup will
 * inject is evaluated (bpf.c) before the first one runs, and a refusal is
 * described as the kernel would act on it.
 */
#define _GNU_SOURCE
#include "seccomp.h"
#include "ptrace.h"
#include "../../arch/arch.h"
#include "../../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1u
#endif

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_mmap:
		return "mmap";
	case SYS_mprotect:
		return "mprotect";
	case SYS_pkey_mprotect:
		return "pkey_mprotect";
	case SYS_munmap:
		return "munmap";
	case SYS_memfd_create:
		return "memfd_create";
	case SYS_ftruncate:
		return "ftruncate";
	case SYS_close:
		return "close";
	case SYS_rt_sigreturn:
		return "rt_sigreturn";
	default:
		return NULL;
	}
}

/* "mmap(PROT_READ|PROT_EXEC)": the name, and the protection where a
 * filter is likely to look at it (systemd's MemoryDenyWriteExecute) */
static void call_text(long nr, const uint64_t args[6], char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} prots[] = { { PROT_READ, "PROT_READ" },
		      { PROT_WRITE, "PROT_WRITE" },
		      { PROT_EXEC, "PROT_EXEC" } };
	const char *name = syscall_name(nr);
	char prot[48] = "PROT_NONE";
	size_t i, o = 0;

	if (!name) {
		snprintf(buf, len, "syscall %ld", nr);
		return;
	}
	if (nr != SYS_mmap && nr != SYS_mprotect && nr != SYS_pkey_mprotect) {
		snprintf(buf, len, "%s", name);
		return;
	}
	for (i = 0; i < OVUP_ARRAY_SIZE(prots); i++)
		if (args[2] & prots[i].bit)
			o += (size_t)snprintf(prot + o, sizeof(prot) - o, "%s%s", o ? "|" : "",
					      prots[i].name);
	snprintf(buf, len, "%s(%s)", name, prot);
}

void ovup_seccomp_describe(uint32_t action, long nr, const uint64_t args[6], char *buf, size_t len)
{
	unsigned data = action & SECCOMP_RET_DATA;
	const char *ename;
	char call[64];

	call_text(nr, args, call, sizeof(call));
	switch (action & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
		snprintf(buf, len, "kill the process on %s (SECCOMP_RET_KILL_PROCESS)", call);
		break;
	case SECCOMP_RET_KILL_THREAD:
		snprintf(buf, len, "kill the thread on %s (SECCOMP_RET_KILL_THREAD)", call);
		break;
	case SECCOMP_RET_TRAP:
		snprintf(buf, len, "send SIGSYS on %s (SECCOMP_RET_TRAP)", call);
		break;
	case SECCOMP_RET_ERRNO:
		/* the kernel caps the errno at MAX_ERRNO; 0 skips the call
		 * and pretends success */
		data = OVUP_MIN(data, 4095u);
		ename = data ? strerrorname_np((int)data) : NULL;
		if (!data)
			snprintf(buf, len, "skip %s and return 0 (SECCOMP_RET_ERRNO)", call);
		else if (ename)
			snprintf(buf, len, "fail %s with %s (SECCOMP_RET_ERRNO)", call, ename);
		else
			snprintf(buf, len, "fail %s with errno %u (SECCOMP_RET_ERRNO)", call, data);
		break;
	case SECCOMP_RET_USER_NOTIF:
		snprintf(buf, len, "hand %s to a supervising process (SECCOMP_RET_USER_NOTIF)",
			 call);
		break;
	case SECCOMP_RET_TRACE:
		snprintf(buf, len, "hand %s to a tracer (SECCOMP_RET_TRACE)", call);
		break;
	case SECCOMP_RET_LOG:
		snprintf(buf, len, "log %s and run it (SECCOMP_RET_LOG)", call);
		break;
	case SECCOMP_RET_ALLOW:
		snprintf(buf, len, "run %s (SECCOMP_RET_ALLOW)", call);
		break;
	default:
		/* __seccomp_filter() treats an unknown action as a kill */
		snprintf(buf, len, "kill the process on %s (unknown action 0x%08x)", call,
			 action & SECCOMP_RET_ACTION_FULL);
		break;
	}
}

size_t ovup_seccomp_injected(uint64_t ip, struct ovup_seccomp_call *out, size_t max)
{
	/* addresses, lengths and descriptors are not known before alloc;
	 * these stand for them.  A filter that decides on the protection
	 * (MemoryDenyWriteExecute) sees the real values. */
	const uint64_t anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	const struct ovup_seccomp_call calls[] = {
		{ SYS_mmap, { 0, 4096, PROT_READ | PROT_EXEC, anon, (uint64_t)-1, 0 }, 0 },
		{ SYS_mmap, { 0, 4096, PROT_READ, anon, (uint64_t)-1, 0 }, 0 },
		{ SYS_mprotect, { 0, 4096, PROT_READ | PROT_WRITE, 0, 0, 0 }, 0 },
		{ SYS_mprotect, { 0, 4096, PROT_READ, 0, 0, 0 }, 0 },
		{ SYS_munmap, { 0, 4096, 0, 0, 0, 0 }, 0 },
		/* the injection being rewritten: a memfd holds the code */
		{ SYS_memfd_create, { 0, MFD_CLOEXEC, 0, 0, 0, 0 }, 0 },
		{ SYS_ftruncate, { 3, 4096, 0, 0, 0, 0 }, 0 },
		{ SYS_close, { 3, 0, 0, 0, 0, 0 }, 0 },
		{ SYS_rt_sigreturn, { 0, 0, 0, 0, 0, 0 }, 0 },
	};
	size_t i, n = OVUP_MIN(max, OVUP_ARRAY_SIZE(calls));

	for (i = 0; i < n; i++) {
		out[i] = calls[i];
		out[i].ip = ip;
	}
	return n;
}

/* ---- reading a thread's filters ------------------------------------------ */

static void progs_free(struct ovup_seccomp_prog *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].insns);
	free(p);
}

/* "Seccomp:" of a status file: 0 none, 1 strict, 2 filter; a kernel
 * without CONFIG_SECCOMP has no such line, and no filter either */
static int status_mode(const char *status)
{
	const char *s = status ? strstr(status, "\nSeccomp:") : NULL;

	return s ? atoi(s + 9) : 0;
}

static int self_filtered(void)
{
	char *s = ovup_read_file("/proc/self/status", NULL);
	int mode = status_mode(s);

	free(s);
	return mode != 0;
}

/* The thread's seccomp mode: 1 if it has filters to read, 0 if none, or
 * -errno with the reason in why. */
static int filter_mode(pid_t pid, pid_t tid, char *why, size_t whylen)
{
	char path[64], *status;
	int mode;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	status = ovup_read_file(path, NULL);
	if (!status) {
		int err = errno;

		snprintf(why, whylen, "thread %d: cannot read %s: %s", tid, path, strerror(err));
		return err == ENOENT || err == ESRCH ? -ESRCH : -err;
	}
	mode = status_mode(status);
	free(status);
	if (mode == SECCOMP_MODE_DISABLED)
		return 0;
	if (mode == SECCOMP_MODE_STRICT) {
		snprintf(why, whylen,
			 "thread %d is in seccomp strict mode, which allows only read, write, "
			 "_exit and sigreturn; ovup cannot inject the system calls it needs there",
			 tid);
		return -EPERM;
	}
	if (mode != SECCOMP_MODE_FILTER) {
		/* SECCOMP_MODE_DEAD: a filter is killing it right now */
		snprintf(why, whylen, "thread %d is being killed by its seccomp filter", tid);
		return -ESRCH;
	}
	return 1;
}

/* Reads the thread's programs, newest first, into th; returns what ended
 * the reading (-ENOENT past the oldest, or why it failed). */
static int fetch_progs(pid_t tid, struct ovup_seccomp_thread *th)
{
	struct sock_filter *buf;
	int n;

	/* the kernel copies a whole program without asking for the size of
	 * the buffer, and a program may be replaced at this index meanwhile
	 * (another thread's SECCOMP_FILTER_FLAG_TSYNC): room for the largest */
	buf = ovup_xmalloc(BPF_MAXINSNS * sizeof(*buf));
	for (;;) {
		struct ovup_seccomp_prog *p;

		n = ovup_ptrace_seccomp_filter(tid, th->nprogs, buf);
		if (n < 0)
			break;
		th->progs = ovup_xrealloc(th->progs, (th->nprogs + 1) * sizeof(*th->progs));
		p = &th->progs[th->nprogs++];
		p->len = (size_t)n;
		p->insns = ovup_xmalloc(p->len * sizeof(*buf));
		memcpy(p->insns, buf, p->len * sizeof(*buf));
	}
	free(buf);
	return n;
}

/* Why PTRACE_SECCOMP_GET_FILTER failed with n, in why. */
static int unreadable(int n, pid_t tid, char *why, size_t whylen)
{
	const char *reason;

	switch (n) {
	case -EACCES:
		reason = self_filtered()
				 ? "ovup itself runs under a seccomp filter, and the kernel "
				   "lets only an unconfined tracer read them"
				 : "needs CAP_SYS_ADMIN";
		break;
	case -EINVAL:
		/* Seccomp: 2 said there is a filter: it is the kernel that
		 * cannot give it (PTRACE_SECCOMP_GET_FILTER needs
		 * CONFIG_CHECKPOINT_RESTORE) */
		reason = "this kernel was built without CONFIG_CHECKPOINT_RESTORE";
		break;
	case -EMEDIUMTYPE:
		reason = "it is not a classic BPF program";
		break;
	case -ESRCH:
		snprintf(why, whylen, "thread %d went away while ovup read its seccomp filter",
			 tid);
		return -ESRCH;
	default:
		reason = strerror(-n);
		break;
	}
	snprintf(why, whylen,
		 "thread %d has a seccomp filter that ovup cannot read (%s); ovup cannot prove "
		 "the system calls it injects are allowed",
		 tid, reason);
	return -EPERM;
}

static int read_filters(pid_t pid, pid_t tid, struct ovup_seccomp_thread *th, char *why,
			size_t whylen)
{
	int n = filter_mode(pid, tid, why, whylen);

	if (n <= 0)
		return n;
	n = fetch_progs(tid, th);
	if (n == -ENOENT && th->nprogs)
		return 0; /* past the oldest filter */
	return unreadable(n, tid, why, whylen);
}

static struct ovup_seccomp_thread *cached(struct ovup_seccomp *c, pid_t tid)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->t[i].tid == tid)
			return &c->t[i];
	return NULL;
}

int ovup_seccomp_check(struct ovup_seccomp *c, pid_t pid, pid_t tid,
		       const struct ovup_seccomp_call *calls, size_t n, char *why, size_t whylen)
{
	struct ovup_seccomp_thread *th = cached(c, tid);
	char whose[64], what[160];
	size_t i, bad;

	if (!th) {
		struct ovup_seccomp_thread t = { .tid = tid };
		int ret = read_filters(pid, tid, &t, why, whylen);

		if (ret) {
			progs_free(t.progs, t.nprogs);
			return ret;
		}
		c->t = ovup_xrealloc(c->t, (c->n + 1) * sizeof(*c->t));
		c->t[c->n] = t;
		th = &c->t[c->n++];
	}
	if (tid == pid)
		snprintf(whose, sizeof(whose), "its seccomp filter");
	else
		snprintf(whose, sizeof(whose), "the seccomp filter of its thread %d", tid);
	for (i = 0; i < n; i++) {
		struct seccomp_data d = {
			.nr = (int)calls[i].nr,
			.arch = ovup_arch_audit,
			.instruction_pointer = calls[i].ip,
		};
		uint32_t action;

		memcpy(d.args, calls[i].args, sizeof(d.args));
		if (ovup_seccomp_eval(th->progs, th->nprogs, &d, &action, &bad)) {
			snprintf(
				why, whylen,
				"%s (number %zu of %zu, newest first) is not a program the kernel "
				"accepts; ovup cannot prove the system calls it injects are allowed",
				whose, bad + 1, th->nprogs);
			return -EPERM;
		}
		if (ovup_seccomp_allowed(action))
			continue;
		ovup_seccomp_describe(action, calls[i].nr, calls[i].args, what, sizeof(what));
		snprintf(why, whylen,
			 "%s would %s; ovup injects mmap, mprotect, munmap, memfd_create, "
			 "ftruncate, close and rt_sigreturn, which the filter must allow (for a "
			 "systemd service: SystemCallFilter=, MemoryDenyWriteExecute=)",
			 whose, what);
		return -EPERM;
	}
	return 0;
}

void ovup_seccomp_release(struct ovup_seccomp *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		progs_free(c->t[i].progs, c->t[i].nprogs);
	free(c->t);
	c->t = NULL;
	c->n = 0;
}
