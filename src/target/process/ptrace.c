// SPDX-License-Identifier: MIT
/*
 * All-thread stop with PTRACE_SEIZE + PTRACE_INTERRUPT (no SIGSTOP is ever
 * sent, so the target sees no job-control noise), catching new threads via
 * PTRACE_O_TRACECLONE and by rescanning /proc/PID/task until it is stable.
 * Signals that arrive while a thread is held are kept and delivered when it
 * is released.
 */
#define _GNU_SOURCE
#include "ptrace.h"
#include "../../arch/arch.h"
#include "../../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

static struct ovup_thread *find(struct ovup_threads *ts, pid_t tid)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (ts->t[i].tid == tid)
			return &ts->t[i];
	return NULL;
}

static struct ovup_thread *add(struct ovup_threads *ts, pid_t tid)
{
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 16;
		ts->t = ovup_xrealloc(ts->t, ts->cap * sizeof(*ts->t));
	}
	memset(&ts->t[ts->n], 0, sizeof(ts->t[0]));
	ts->t[ts->n].tid = tid;
	return &ts->t[ts->n++];
}

static void drop(struct ovup_threads *ts, struct ovup_thread *th)
{
	*th = ts->t[--ts->n];
}

static int seize(struct ovup_threads *ts, pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACECLONE) < 0) {
		if (errno == ESRCH)
			return 0; /* exited between listing and seizing */
		return -errno;
	}
	add(ts, tid)->interrupted = 0;
	return 0;
}

/* Interrupts every seized thread not yet asked to stop.  The pause is
 * counted from the first interrupt: an upper bound on the time any thread
 * is held. */
static int interrupt_all(struct ovup_threads *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		struct ovup_thread *th = &ts->t[i];

		if (th->interrupted || th->stopped)
			continue;
		if (!ts->t_first_stop)
			ts->t_first_stop = ovup_now_ns();
		if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0 && errno != ESRCH)
			return -errno;
		th->interrupted = 1;
	}
	return 0;
}

/* Waits until th is in a ptrace-stop.  Returns 0, or -ESRCH if it died. */
static int wait_stopped(struct ovup_threads *ts, struct ovup_thread *th)
{
	int st;

	while (!th->stopped) {
		pid_t r = waitpid(th->tid, &st, __WALL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 16 == PTRACE_EVENT_CLONE) {
			unsigned long child;

			/* the new thread starts traced and stopped; it is
			 * collected by the caller's rescan */
			if (!ptrace(PTRACE_GETEVENTMSG, th->tid, 0, &child) && !find(ts, (pid_t)child)) {
				struct ovup_thread *c = add(ts, (pid_t)child);

				c->interrupted = 1; /* it starts with a stop */
				th = find(ts, r); /* add() may have moved the array */
			}
		} else if (st >> 16 == 0 && WSTOPSIG(st) != SIGTRAP) {
			/* a signal arrived first: hold it for the release */
			th->sig = WSTOPSIG(st);
		}
		th->stopped = 1;
		if (ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs) < 0)
			return -errno;
	}
	return 0;
}

static int scan(struct ovup_threads *ts, int *added)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*added = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", ts->pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || find(ts, tid))
			continue;
		ret = seize(ts, tid);
		if (ret)
			break;
		(*added)++;
	}
	closedir(d);
	return ret;
}

static int wait_all(struct ovup_threads *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		int ret;

		if (ts->t[i].stopped)
			continue;
		ret = wait_stopped(ts, &ts->t[i]);
		if (ret == -ESRCH || ret == -ECHILD) {
			drop(ts, &ts->t[i]);
			i--;
			continue;
		}
		if (ret)
			return ret;
	}
	return 0;
}

int ovup_ptrace_stop_all(struct ovup_threads *ts)
{
	int added, ret;

	ts->t_first_stop = 0;
	/* seizing does not stop anyone: do it for every thread before the
	 * first interrupt, so the pause holds only interrupt, wait, write,
	 * detach */
	ret = scan(ts, &added);
	while (!ret) {
		ret = interrupt_all(ts);
		if (!ret)
			ret = wait_all(ts);
		if (!ret)
			ret = scan(ts, &added);
		if (!ret && !added)
			break;
	}
	if (ret)
		return ret;
	return ts->n ? 0 : -ESRCH;
}

int ovup_ptrace_stop_one(struct ovup_threads *ts)
{
	size_t i;
	int ret;

	for (i = 0; i < ts->n; i++)
		if (ts->t[i].stopped)
			return 0;
	ret = seize(ts, ts->pid);
	if (ret)
		return ret;
	if (!ts->n) {
		/* the main thread exited; any thread will do */
		int added;

		ret = scan(ts, &added);
		if (ret)
			return ret;
	}
	ret = interrupt_all(ts);
	if (!ret)
		ret = wait_all(ts);
	if (ret)
		return ret;
	return ts->n ? 0 : -ESRCH;
}

int ovup_ptrace_resume_all(struct ovup_threads *ts)
{
	int ret = 0;
	size_t i;

	for (i = 0; i < ts->n; i++) {
		struct ovup_thread *th = &ts->t[i];

		if (!th->stopped) {
			/* seized but never seen stopped: must stop before it
			 * can be detached */
			if (!th->interrupted && ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0)
				continue;
			th->interrupted = 1;
			if (wait_stopped(ts, th))
				continue;
		}
		if (ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)th->sig) < 0 &&
		    errno != ESRCH && !ret)
			ret = -errno;
	}
	ts->n = 0;
	return ret;
}

void ovup_ptrace_release(struct ovup_threads *ts)
{
	if (ts->n)
		ovup_ptrace_resume_all(ts);
	free(ts->t);
	ts->t = NULL;
	ts->cap = 0;
}

int ovup_ptrace_syscall(struct ovup_threads *ts, size_t i, uint64_t insn, long nr,
			const uint64_t args[6], int64_t *ret)
{
	struct ovup_thread *th = &ts->t[i];
	struct user_regs_struct saved, r;
	int err = 0, st, tries;

	if (ptrace(PTRACE_GETREGS, th->tid, 0, &saved) < 0)
		return -errno;
	r = saved;
	ovup_arch_regs_syscall(&r, insn, nr, args);
	if (ptrace(PTRACE_SETREGS, th->tid, 0, &r) < 0)
		return -errno;
	for (tries = 0; tries < 100; tries++) {
		if (ptrace(PTRACE_SINGLESTEP, th->tid, 0, 0) < 0) {
			err = -errno;
			break;
		}
		while (waitpid(th->tid, &st, __WALL) < 0) {
			if (errno != EINTR) {
				err = -errno;
				goto out;
			}
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH; /* nothing left to restore */
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 16 == 0 && WSTOPSIG(st) != SIGTRAP) {
			/* a signal raced the step: keep it, step again */
			th->sig = WSTOPSIG(st);
			continue;
		}
		if (ptrace(PTRACE_GETREGS, th->tid, 0, &r) < 0) {
			err = -errno;
			break;
		}
		if (ovup_arch_regs_pc(&r) == insn + ovup_arch_syscall_len)
			break; /* the syscall ran */
	}
	if (!err && tries == 100)
		err = -ETIMEDOUT;
	if (!err)
		*ret = (int64_t)ovup_arch_regs_ret(&r);
out:
	if (ptrace(PTRACE_SETREGS, th->tid, 0, &saved) < 0 && !err)
		err = -errno;
	return err;
}
