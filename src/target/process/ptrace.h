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

struct ovup_thread {
	pid_t tid;
	int interrupted;
	int stopped;
	int sig;                      /* signal to deliver when resuming */
	struct user_regs_struct regs; /* as found when stopped */
};

struct ovup_threads {
	pid_t pid;
	struct ovup_thread *t;
	size_t n, cap;
	uint64_t t_first_stop;        /* monotonic ns of the first interrupt */
};

/* Seizes and interrupts every task of pid, catching threads created
 * meanwhile, until all are stopped.  -ESRCH if the process is gone,
 * -EPERM if it may not be traced. */
int ovup_ptrace_stop_all(struct ovup_threads *ts);
/* Seizes and interrupts one task (the first live one, for syscalls). */
int ovup_ptrace_stop_one(struct ovup_threads *ts);
/* Detaches from every task, delivering any signal that arrived. */
int ovup_ptrace_resume_all(struct ovup_threads *ts);
void ovup_ptrace_release(struct ovup_threads *ts);

/* Executes syscall nr(args) in stopped thread i, at the syscall instruction
 * at insn, and restores its registers.  *ret is the raw return value. */
int ovup_ptrace_syscall(struct ovup_threads *ts, size_t i, uint64_t insn, long nr,
			const uint64_t args[6], int64_t *ret);

#endif
