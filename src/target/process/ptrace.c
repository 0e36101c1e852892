// SPDX-License-Identifier: MIT
/*
 * All-thread stop with PTRACE_SEIZE + PTRACE_INTERRUPT (no SIGSTOP is ever
 * sent, so the target sees no job-control noise), catching new threads via
 * PTRACE_O_TRACECLONE and by rescanning /proc/PID/task until it is stable.
 * A signal that arrives while a thread is held stays with it and is
 * delivered, with its own siginfo, when the thread is released.  Threads
 * are only ever left in stops the kernel resumes cleanly if ovup dies:
 * interrupt and syscall stops, and signal-delivery stops, whose signal the
 * kernel then delivers.  Never a single-step: its SIGTRAP would be
 * delivered to a thread whose tracer died, and kill it.
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
#include <sys/uio.h>
#include <sys/wait.h>

#define SYSCALL_TRAP (SIGTRAP | 0x80) /* PTRACE_O_TRACESYSGOOD */
#define OPTIONS (PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD)
#define QUIET_TRIES 1000

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

/* The thread's state letter (R, S, Z, X...), or 0 if it is gone. */
static char thread_state(pid_t pid, pid_t tid)
{
	char path[64], *s, *r, c = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	s = ovup_read_file(path, NULL);
	if (s && (r = strrchr(s, ')')) && r[1] == ' ')
		c = r[2];
	free(s);
	return c;
}

static int exiting(pid_t pid, pid_t tid)
{
	char c = thread_state(pid, tid);

	return !c || c == 'Z' || c == 'X';
}

/* Is tid already traced by us?  A thread cloned by one we hold is
 * attached at birth, maybe before its clone event has been read. */
static int ours(pid_t pid, pid_t tid)
{
	char path[64], *s, *t;
	long tracer = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	s = ovup_read_file(path, NULL);
	if (s && (t = strstr(s, "TracerPid:")))
		tracer = strtol(t + 10, NULL, 10);
	free(s);
	return tracer == getpid();
}

static int seize(struct ovup_threads *ts, pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)OPTIONS) < 0) {
		/* exited between listing and seizing; an exiting thread
		 * answers EPERM rather than ESRCH */
		if (errno == ESRCH || (errno == EPERM && exiting(ts->pid, tid)))
			return 0;
		if (errno == EPERM && ours(ts->pid, tid)) {
			add(ts, tid)->interrupted = 1; /* it starts with a stop */
			return 0;
		}
		return -errno;
	}
	add(ts, tid);
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

		if (th->interrupted || th->stop)
			continue;
		if (!ts->t_first_stop)
			ts->t_first_stop = ovup_now_ns();
		if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0 && errno != ESRCH)
			return -errno;
		th->interrupted = 1;
	}
	return 0;
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Notes in tid's entry the stop or end that waitpid reported as st.  0,
 * or -ESRCH if the thread died.  A clone adds a thread, so entries may
 * move: callers find theirs again by tid. */
static int note_stop(struct ovup_threads *ts, pid_t tid, int st)
{
	struct ovup_thread *th;
	int event;

	if (WIFEXITED(st) || WIFSIGNALED(st))
		return -ESRCH;
	event = st >> 16;
	if (event == PTRACE_EVENT_CLONE) {
		unsigned long child;

		/* the new thread starts traced and stopped; it is
		 * collected by the caller's rescan */
		if (!ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) && !find(ts, (pid_t)child))
			add(ts, (pid_t)child)->interrupted = 1; /* it starts with a stop */
	}
	th = find(ts, tid);
	th->interrupted = 0;
	if (event == PTRACE_EVENT_STOP)
		th->stop = is_stop_signal(WSTOPSIG(st)) ? OVUP_STOP_GROUP : OVUP_STOP_EVENT;
	else if (event)
		th->stop = OVUP_STOP_EVENT;
	else if (WSTOPSIG(st) == SYSCALL_TRAP)
		th->stop = OVUP_STOP_SYSCALL;
	else {
		/* a signal-delivery stop: the signal is ours to deliver now.
		 * Only the live switch (trap.c) traps, and it tells its own
		 * SIGTRAP by where the thread stopped. */
		th->stop = OVUP_STOP_SIGNAL;
		th->sig = WSTOPSIG(st);
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, &th->regs) < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	return 0;
}

/* Waits for th's next stop and says what kind it is: see note_stop. */
static int wait_stop(struct ovup_threads *ts, pid_t tid)
{
	int st;

	for (;;) {
		pid_t r = waitpid(tid, &st, __WALL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (WIFSTOPPED(st))
			break;
	}
	return note_stop(ts, tid, st);
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
		size_t before = ts->n;

		if (tid <= 0 || find(ts, tid))
			continue;
		ret = seize(ts, tid);
		if (ret)
			break;
		*added += ts->n > before;
	}
	closedir(d);
	return ret;
}

static int wait_all(struct ovup_threads *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++) {
		int ret;

		if (ts->t[i].stop)
			continue;
		ret = wait_stop(ts, ts->t[i].tid);
		if (!ret)
			ret = ovup_ptrace_take_signal(ts, i);
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

/* Is one of the seized threads running (on a CPU or ready for one)? */
static int any_running(const struct ovup_threads *ts)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (thread_state(ts->pid, ts->t[i].tid) == 'R')
			return 1;
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
	/* real-time only against running threads: with every thread asleep
	 * it would only make each stop a wake-up of another CPU */
	if (!ret && any_running(ts))
		ovup_sched_hold_begin();
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
		if (ts->t[i].stop)
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
		pid_t tid = th->tid;
		int sig, resend;

		if (!th->stop) {
			/* seized but never seen stopped: must stop before it
			 * can be detached */
			if (!th->interrupted && ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
				continue;
			th->interrupted = 1;
			if (wait_stop(ts, tid))
				continue;
			th = find(ts, tid);
		}
		/* only a signal-delivery stop passes a signal on detach, and
		 * then with the siginfo it came with */
		sig = th->stop == OVUP_STOP_SIGNAL ? th->sig : 0;
		resend = th->resend_stop;
		if (ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig) < 0 && errno != ESRCH && !ret)
			ret = -errno;
		if (resend)
			tgkill(ts->pid, tid, SIGSTOP);
	}
	if (ts->t_first_stop)
		ts->max_hold = OVUP_MAX(ts->max_hold, ovup_now_ns() - ts->t_first_stop);
	ts->last_released = ts->n == 1 ? ts->t[0].tid : 0;
	ts->t_first_stop = 0;
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

/* Resumes th from its stop, delivering the signal it holds (if any), and
 * waits for the interrupt stop that follows before any user instruction
 * of the thread runs (or, with a signal, at its handler's entry). */
static int restop(struct ovup_threads *ts, pid_t tid)
{
	struct ovup_thread *th = find(ts, tid);
	int sig = th->stop == OVUP_STOP_SIGNAL ? th->sig : 0;

	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -errno;
	if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig) < 0)
		return -errno;
	th->stop = OVUP_STOP_NONE;
	th->sig = 0;
	th->interrupted = 1;
	return wait_stop(ts, tid);
}

int ovup_ptrace_quiet(struct ovup_threads *ts, size_t i)
{
	pid_t tid = ts->t[i].tid;
	int n, ret;

	for (n = 0; n < QUIET_TRIES; n++) {
		struct ovup_thread *th = find(ts, tid);

		/* a job-control stop is a trap stop too: a stopped process
		 * can be patched, and stays stopped */
		if ((th->stop == OVUP_STOP_EVENT || th->stop == OVUP_STOP_GROUP) && !th->sig)
			return 0;
		ret = restop(ts, tid);
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

int ovup_ptrace_take_signal(struct ovup_threads *ts, size_t i)
{
	struct ovup_thread *th = &ts->t[i];
	int ret;

	if (th->stop != OVUP_STOP_SIGNAL)
		return 0;
	if (!th->has_sig_regs) {
		th->sig_regs = th->regs;
		th->has_sig_regs = 1;
	}
	ret = ovup_ptrace_quiet(ts, i);
	return ret == -EAGAIN ? 0 : ret;
}

#ifndef PTRACE_ARCH_PRCTL
#define PTRACE_ARCH_PRCTL 30
#endif
#define ARCH_SHSTK_STATUS 0x5005
#define ARCH_SHSTK_SHSTK 1ul

int ovup_ptrace_shadow_stack(const struct ovup_threads *ts, size_t i)
{
	unsigned long features = 0;

	if (!ptrace(PTRACE_ARCH_PRCTL, ts->t[i].tid, &features, ARCH_SHSTK_STATUS))
		return (features & ARCH_SHSTK_SHSTK) != 0;
	return errno == EINVAL ? 0 : -errno;
}

int ovup_ptrace_thread_state(struct ovup_threads *ts, size_t i, uint64_t *sigmask, void *xstate,
			     size_t *xlen)
{
	struct ovup_thread *th = &ts->t[i];
	struct iovec io = { xstate, OVUP_ARCH_XSTATE_MAX };

	if (ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs) < 0)
		return -errno;
	/* the mask the thread returns to: for one in sigsuspend() the
	 * kernel reports the saved mask, not the temporary one */
	if (ptrace(PTRACE_GETSIGMASK, th->tid, (void *)sizeof(*sigmask), sigmask) < 0)
		return -errno;
	if (ptrace(PTRACE_GETREGSET, th->tid, (void *)(long)ovup_arch_fpregset, &io) < 0)
		return -errno;
	*xlen = io.iov_len;
	return 0;
}

/* Gives stopped thread tid the injected registers inj and the mask
 * sigmask.  *restored: whether it still has its own registers; once it
 * has not, a dead ovup leaves it to run the injected sequence, which ends
 * by restoring it (ovup_arch_frame). */
static int give_call(pid_t tid, const struct user_regs_struct *inj, uint64_t sigmask, int *restored)
{
	*restored = 1;
	if (ptrace(PTRACE_SETREGS, tid, 0, inj) < 0)
		return -errno;
	*restored = 0;
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(sigmask), &sigmask) < 0)
		return -errno;
	return 0;
}

/* A signal-delivery stop of a thread running an injected call: SIGSTOP
 * (the one signal a full mask cannot hold off) is noted and sent again on
 * release; any other, -EPROTO, and it stays to be delivered then. */
static int pass_signal(struct ovup_thread *th)
{
	if (th->sig != SIGSTOP)
		return -EPROTO;
	th->resend_stop = 1;
	th->sig = 0;
	return 0;
}

/* Resumes the injected thread and waits for its next stop of kind want;
 * signals as pass_signal, group-stop notifications are passed over. */
static int step_to(struct ovup_threads *ts, pid_t tid, int request, enum ovup_stop want)
{
	int n, ret;

	for (n = 0; n < QUIET_TRIES; n++) {
		struct ovup_thread *th = find(ts, tid);

		if (ptrace(request, tid, 0, 0) < 0)
			return -errno;
		th->stop = OVUP_STOP_NONE;
		ret = wait_stop(ts, tid);
		if (ret)
			return ret;
		th = find(ts, tid);
		if (th->stop == want || (want == OVUP_STOP_EVENT && th->stop == OVUP_STOP_GROUP))
			return 0;
		if (th->stop == OVUP_STOP_SIGNAL && (ret = pass_signal(th)))
			return ret;
		request = want == OVUP_STOP_SYSCALL ? PTRACE_SYSCALL : PTRACE_CONT;
	}
	return -ETIMEDOUT;
}

int ovup_ptrace_syscall(struct ovup_threads *ts, size_t i, const struct user_regs_struct *inj,
			uint64_t sigmask, int64_t *res, int *restored)
{
	struct user_regs_struct saved = ts->t[i].regs, r;
	pid_t tid = ts->t[i].tid;
	int ret;

	/* no handler may run on borrowed registers */
	ret = give_call(tid, inj, ~0ull, restored);
	if (ret)
		return ret;
	ret = step_to(ts, tid, PTRACE_SYSCALL, OVUP_STOP_SYSCALL); /* entry */
	if (ret)
		return ret;
	r = find(ts, tid)->regs;
	/* An interrupt asked for now is taken once the call is done, in the
	 * signal handling before the thread returns to user space: no stop
	 * at the call's exit.  From that stop the kernel restarts the
	 * syscall the thread was interrupted in, once its own registers are
	 * back.  (The call cannot block: none ovup makes does.) */
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -errno;
	ret = step_to(ts, tid, PTRACE_CONT, OVUP_STOP_EVENT);
	if (ret)
		return ret;
	if (ovup_arch_regs_pc(&find(ts, tid)->regs) != ovup_arch_regs_pc(&r))
		return -EPROTO; /* it ran on: let the frame bring it back */
	*res = (int64_t)ovup_arch_regs_ret(&find(ts, tid)->regs);
	/* the mask first: were ovup to die between the two, the thread
	 * would still run the sequence that restores everything */
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(sigmask), &sigmask) < 0)
		return -errno;
	if (ptrace(PTRACE_SETREGS, tid, 0, &saved) < 0)
		return -errno;
	find(ts, tid)->regs = saved;
	*restored = 1;
	return 0;
}

int ovup_ptrace_call_start(struct ovup_threads *ts, size_t i, const struct user_regs_struct *inj,
			   uint64_t sigmask, int *restored)
{
	struct ovup_thread *th = &ts->t[i];
	int ret = give_call(th->tid, inj, sigmask, restored);

	if (ret)
		return ret;
	if (ptrace(PTRACE_CONT, th->tid, 0, 0) < 0)
		return -errno;
	th->stop = OVUP_STOP_NONE;
	th->sig = 0;
	return 0;
}

int ovup_ptrace_call_wait(struct ovup_threads *ts, pid_t tid, uint64_t end, int64_t *res)
{
	int n, ret;

	for (n = 0; n < QUIET_TRIES; n++) {
		struct ovup_thread *th;

		ret = wait_stop(ts, tid);
		if (ret)
			return ret;
		th = find(ts, tid);
		if (th->stop == OVUP_STOP_SIGNAL && th->sig == SIGTRAP &&
		    ovup_arch_regs_pc(&th->regs) == end) {
			th->sig = 0; /* ovup's own: never delivered */
			*res = (int64_t)ovup_arch_regs_ret(&th->regs);
			return 0;
		}
		/* a SIGTRAP of the process's own is delivered when the
		 * thread is let go */
		if (th->stop == OVUP_STOP_SIGNAL && (ret = pass_signal(th)))
			return ret;
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			return -errno;
		th->stop = OVUP_STOP_NONE;
	}
	return -ETIMEDOUT;
}

int ovup_ptrace_release_into(struct ovup_threads *ts, size_t i, const struct user_regs_struct *inj,
			     int *restored)
{
	/* no handler may run on borrowed registers; should the mask fail,
	 * the thread must still go on, and finish the sequence */
	int ret = give_call(ts->t[i].tid, inj, ~0ull, restored), gone;

	if (*restored)
		return ret;
	if (ovup_fault("trap-regs"))
		raise(SIGKILL); /* test hook: the tracer dies before the release */
	gone = ovup_ptrace_detach_one(ts, i);
	return ret ? ret : gone;
}

/* ---- the live switch -------------------------------------------------- */

int ovup_ptrace_seize(struct ovup_threads *ts, pid_t tid)
{
	size_t n = ts->n;
	int ret = find(ts, tid) ? 0 : seize(ts, tid);

	if (ret)
		return ret;
	return ts->n > n || find(ts, tid) ? 0 : -ESRCH;
}

int ovup_ptrace_interrupt(struct ovup_threads *ts, size_t i)
{
	if (ptrace(PTRACE_INTERRUPT, ts->t[i].tid, 0, 0) < 0)
		return -errno;
	ts->t[i].interrupted = 1;
	return 0;
}

int ovup_ptrace_wait(struct ovup_threads *ts, pid_t tid)
{
	struct ovup_thread *th;
	int ret = wait_stop(ts, tid);

	if (ret == -ESRCH && (th = find(ts, tid)))
		drop(ts, th);
	return ret;
}

int ovup_ptrace_cont(struct ovup_threads *ts, size_t i, int sig)
{
	struct ovup_thread *th = &ts->t[i];

	if (ptrace(PTRACE_CONT, th->tid, 0, (void *)(long)sig) < 0)
		return -errno;
	th->stop = OVUP_STOP_NONE;
	th->sig = 0;
	return 0;
}

int ovup_ptrace_detach_one(struct ovup_threads *ts, size_t i)
{
	struct ovup_thread *th = &ts->t[i];
	int sig = th->stop == OVUP_STOP_SIGNAL ? th->sig : 0;

	if (ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)sig) < 0 && errno != ESRCH)
		return -errno;
	if (th->resend_stop)
		tgkill(ts->pid, th->tid, SIGSTOP);
	drop(ts, th);
	return 0;
}

int ovup_ptrace_set_pc(struct ovup_threads *ts, size_t i, uint64_t pc)
{
	struct user_regs_struct r = ts->t[i].regs;

	ovup_arch_regs_set_pc(&r, pc);
	if (ptrace(PTRACE_SETREGS, ts->t[i].tid, 0, &r) < 0)
		return -errno;
	ts->t[i].regs = r;
	return 0;
}

char ovup_ptrace_task_state(pid_t pid, pid_t tid)
{
	return thread_state(pid, tid);
}

long ovup_ptrace_index(const struct ovup_threads *ts, pid_t tid)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (ts->t[i].tid == tid)
			return (long)i;
	return -1;
}

int ovup_ptrace_seccomp_filter(pid_t tid, unsigned long index, struct sock_filter *buf)
{
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, buf);

	return n < 0 ? -errno : (int)n;
}
