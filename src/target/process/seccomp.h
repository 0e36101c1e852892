/* SPDX-License-Identifier: MIT */
/*
 * Would the target's seccomp filters let through the syscalls ovup injects?
 * A classic-BPF interpreter for seccomp programs and the kernel's rule for
 * combining several filters (bpf.c), and reading a stopped thread's filters
 * (seccomp.c), so a sandboxed process is refused before anything is done
 * instead of being killed with SIGSYS in the middle of an apply.
 */
#ifndef OVUP_SECCOMP_H
#define OVUP_SECCOMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* One program as the kernel keeps it: the instructions it was given. */
struct ovup_seccomp_prog {
	struct sock_filter *insns;
	size_t len;
};

/* Checks a program the way seccomp_check_filter() and bpf_check_classic()
 * do when it is installed: only the instructions seccomp accepts, loads
 * inside struct seccomp_data, jumps inside the program, no read of a
 * scratch word before it is written, a return at the end.  0 or -EINVAL
 * with the instruction's index in *bad. */
int ovup_seccomp_validate(const struct sock_filter *insns, size_t len, size_t *bad);

/* Runs one program on d.  0 with its return value in *ret, or -EINVAL
 * if the program is not one the kernel would have installed. */
int ovup_seccomp_run(const struct sock_filter *insns, size_t len, const struct seccomp_data *d,
		     uint32_t *ret);

/* Runs every program (progs[0] the most recently installed) as
 * seccomp_run_filters() does: all of them, and the action of highest
 * precedence wins (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF
 * > TRACE > LOG > ALLOW; an unknown action ranks by its value and kills);
 * at equal precedence the most recent filter's value, with its data, wins.
 * No program gives SECCOMP_RET_ALLOW.  -EINVAL with the program's index in
 * *bad if one cannot be run. */
int ovup_seccomp_eval(const struct ovup_seccomp_prog *progs, size_t n, const struct seccomp_data *d,
		      uint32_t *action, size_t *bad);

/* 1 if the syscall runs plainly: SECCOMP_RET_ALLOW or SECCOMP_RET_LOG. */
int ovup_seccomp_allowed(uint32_t action);

/* What the kernel does with action, as the end of "its seccomp filter
 * would ..." (e.g. "kill the process on mmap(PROT_READ|PROT_EXEC)
 * (SECCOMP_RET_KILL_PROCESS)"). */
void ovup_seccomp_describe(uint32_t action, long nr, const uint64_t args[6], char *buf, size_t len);

/* A syscall ovup is about to inject: number, arguments, and the address
 * the kernel reports as instruction_pointer (after the syscall
 * instruction). */
struct ovup_seccomp_call {
	long nr;
	uint64_t args[6];
	uint64_t ip;
};

/* Everything an apply or revert injects, with representative arguments,
 * at ip: checked before the first injection so that nothing is half done
 * when a later call would be refused.  Returns how many (<= max). */
size_t ovup_seccomp_injected(uint64_t ip, struct ovup_seccomp_call *out, size_t max);

/* The filters read from each thread, so each is read once per run. */
struct ovup_seccomp_thread {
	pid_t tid;
	struct ovup_seccomp_prog *progs;
	size_t nprogs;
};
struct ovup_seccomp {
	struct ovup_seccomp_thread *t;
	size_t n;
};

/* Thread tid of pid must be stopped under ptrace.  0 if its seccomp
 * filters plainly allow every call; -EPERM if one would not be allowed,
 * or its filters cannot be read or evaluated; another -errno if the thread
 * went away.  The reason is in why ("its seccomp filter would kill ...",
 * without the pid). */
int ovup_seccomp_check(struct ovup_seccomp *c, pid_t pid, pid_t tid,
		       const struct ovup_seccomp_call *calls, size_t n, char *why, size_t whylen);
void ovup_seccomp_release(struct ovup_seccomp *c);

#endif
