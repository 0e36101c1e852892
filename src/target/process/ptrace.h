/* SPDX-License-Identifier: MIT */
/*
 * Stopping and resuming every thread of a process, and making a syscall in
 * one stopped thread.  The only file that calls ptrace().
 */
#ifndef OVUP_PTRACE_H
#define OVUP_PTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <linux/filter.h>

/* How a thread is stopped.  Only event stops and syscall stops may be left
 * behind if ovup dies: the kernel then resumes the thread as it was.  A
 * thread in a signal-delivery stop gets its signal when released. */
enum ovup_stop {
	OVUP_STOP_NONE = 0,
	OVUP_STOP_EVENT,  /* PTRACE_INTERRUPT, clone event */
	OVUP_STOP_GROUP,  /* job control (SIGSTOP and the like) */
	OVUP_STOP_SIGNAL, /* signal-delivery stop: sig is held */
	OVUP_STOP_SYSCALL,
};

struct ovup_thread {
	pid_t tid;
	int interrupted; /* asked to stop, stop not yet seen */
	enum ovup_stop stop;
	int sig;                      /* OVUP_STOP_SIGNAL: the signal it carries */
	int resend_stop;              /* a SIGSTOP arrived while it was injected */
	uint64_t t_stop;              /* the live switch's (trap.c): when ovup stopped it */
	struct user_regs_struct regs; /* as found when stopped */
	/* it stopped for a signal, delivered at once: its registers then, to
	 * which the handler returns (ovup_ptrace_take_signal) */
	int has_sig_regs;
	struct user_regs_struct sig_regs;
};

struct ovup_threads {
	pid_t pid;
	struct ovup_thread *t;
	size_t n, cap;
	uint64_t t_first_stop; /* monotonic ns of the first interrupt */
	uint64_t max_hold;     /* the longest span from an interrupt to the resume */
	pid_t last_released;   /* the thread last let go alone (system calls) */
};

/* Seizes and interrupts every task of pid, catching threads created
 * meanwhile, until all are stopped.  -ESRCH if the process is gone,
 * -EPERM if it may not be traced. */
int ovup_ptrace_stop_all(struct ovup_threads *ts);
/* Seizes and interrupts one task (the leader or else any), for syscalls. */
int ovup_ptrace_stop_one(struct ovup_threads *ts);
/* Detaches from every task; each held signal is delivered as it came. */
int ovup_ptrace_resume_all(struct ovup_threads *ts);
void ovup_ptrace_release(struct ovup_threads *ts);

/* Brings stopped thread i into a trap stop (an interrupt, or job control's)
 * carrying no signal: a held signal is delivered first (its handler is
 * entered and the thread stops there).  -EAGAIN if it keeps receiving
 * signals. */
int ovup_ptrace_quiet(struct ovup_threads *ts, size_t i);
/* A thread in a signal-delivery stop loses its signal if ovup dies there
 * (a 6.18 kernel drops the signal of a tracee its dead tracer left in one;
 * 6.1 delivers it): so it is delivered at once, and thread i stops again
 * at its handler's entry (ovup_ptrace_quiet), its registers of before in
 * sig_regs.  Flooded with signals, it stays as it is.  0, or -errno. */
int ovup_ptrace_take_signal(struct ovup_threads *ts, size_t i);
/* Does stopped thread i use a user shadow stack (1, 0)?  A kernel that
 * does not know the request has none; -errno if it cannot tell. */
int ovup_ptrace_shadow_stack(const struct ovup_threads *ts, size_t i);
/* The blocked-signal mask and the FPU state (ovup_arch_fpregset, *xlen
 * bytes into xstate of OVUP_ARCH_XSTATE_MAX) of stopped thread i. */
int ovup_ptrace_thread_state(struct ovup_threads *ts, size_t i, uint64_t *sigmask, void *xstate,
			     size_t *xlen);
/* Runs one syscall in quiet thread i from the registers inj (which must
 * be able to finish on their own: see ovup_arch_frame), with every signal
 * blocked, then gives the thread back its registers and mask (as read
 * when it stopped and by ovup_ptrace_thread_state).  *res is the raw
 * return value.  *restored tells whether the thread has its own registers
 * again; if not (an error), it must only be released, and it will finish
 * the injected sequence by itself. */
int ovup_ptrace_syscall(struct ovup_threads *ts, size_t i, const struct user_regs_struct *inj,
			uint64_t sigmask, int64_t *res, int *restored);

/* Starts one syscall in quiet thread i from the registers inj, which run
 * it and then a breakpoint at pc end (the live switch's handler holds
 * that sequence), with every signal but SIGTRAP blocked: the kernel gives
 * a trap it must force on a thread that blocks it the default action, for
 * the whole process.  ovup_ptrace_call_wait waits for that breakpoint:
 * the call is done, *res its raw return value, and the thread stays
 * there with the injected registers, its trap cancelled.  Released from
 * there, it returns through the frame under its stack (ovup_arch_frame),
 * as it would if ovup died at any point in between.  *restored as for
 * ovup_ptrace_syscall. */
int ovup_ptrace_call_start(struct ovup_threads *ts, size_t i, const struct user_regs_struct *inj,
			   uint64_t sigmask, int *restored);
int ovup_ptrace_call_wait(struct ovup_threads *ts, pid_t tid, uint64_t end, int64_t *res);
/* Lets quiet thread i go (and drops it from ts) with the registers inj
 * and every signal blocked: it makes the call on its own and puts itself
 * back through its frame, as it would were ovup to die.  *restored as
 * for ovup_ptrace_syscall. */
int ovup_ptrace_release_into(struct ovup_threads *ts, size_t i, const struct user_regs_struct *inj,
			     int *restored);

/* ---- the live switch (trap.c): only some threads stopped ---- */

/* Seizes thread tid (PTRACE_SEIZE: it goes on running) unless it is
 * already; -ESRCH if it is gone. */
int ovup_ptrace_seize(struct ovup_threads *ts, pid_t tid);
/* Asks thread i to stop (PTRACE_INTERRUPT); ovup_ptrace_wait waits for a
 * stop of tid (-ESRCH: it died, and is dropped). */
int ovup_ptrace_interrupt(struct ovup_threads *ts, size_t i);
int ovup_ptrace_wait(struct ovup_threads *ts, pid_t tid);
/* Resumes stopped thread i, with signal sig delivered (0: none). */
int ovup_ptrace_cont(struct ovup_threads *ts, size_t i, int sig);
/* Lets stopped thread i go (PTRACE_DETACH, with the signal it stopped
 * for) and drops it from ts. */
int ovup_ptrace_detach_one(struct ovup_threads *ts, size_t i);
/* Sets stopped thread i's pc. */
int ovup_ptrace_set_pc(struct ovup_threads *ts, size_t i, uint64_t pc);
/* The state letter of /proc/PID/task/TID/stat (t: a tracing stop), 0 if
 * the thread is gone. */
char ovup_ptrace_task_state(pid_t pid, pid_t tid);
/* The index of tid in ts, or -1. */
long ovup_ptrace_index(const struct ovup_threads *ts, pid_t tid);

/* Copies seccomp filter number index (0 = the most recently installed) of
 * stopped thread tid into buf, which must hold BPF_MAXINSNS instructions.
 * Returns its length, or -ENOENT past the oldest, -EINVAL if the thread has
 * no filter or the kernel lacks CONFIG_CHECKPOINT_RESTORE, -EACCES without
 * CAP_SYS_ADMIN or when ovup is itself under seccomp, -EMEDIUMTYPE if it is
 * no classic BPF program. */
int ovup_ptrace_seccomp_filter(pid_t tid, unsigned long index, struct sock_filter *buf);

#endif
