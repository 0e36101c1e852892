// SPDX-License-Identifier: MIT
/*
 * System calls made inside the target.  Each call runs in one stopped
 * thread from sequences of the target's own code over a signal frame (see
 * ovup_arch_frame), so a thread left behind by a killed ovup completes the
 * call and returns to where it was.  What ovup maps with them is in
 * blocks.c.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the sequences injected calls run ----------------------------------- */

static int gadget_at(struct proc_target *p, uint64_t addr, const uint8_t *want, size_t len)
{
	uint8_t cur[16];

	return addr && pread(p->memfd, cur, len, (off_t)addr) == (ssize_t)len &&
	       !memcmp(cur, want, len);
}

/* The length of the restorer at addr, or 0. */
static size_t restorer_at(struct proc_target *p, uint64_t addr)
{
	size_t k;

	for (k = 0; ovup_arch_gadget_restorer[k]; k++)
		if (gadget_at(p, addr, ovup_arch_gadget_restorer[k],
			      ovup_arch_gadget_restorer_len[k]))
			return ovup_arch_gadget_restorer_len[k];
	return 0;
}

static int by_size(const void *a, const void *b)
{
	const struct ovup_map *x = a, *y = b;
	uint64_t lx = x->end - x->start, ly = y->end - y->start;

	return lx < ly ? -1 : lx > ly;
}

/* Finds both sequences in the target's executable file mappings (the
 * dynamic loader and libc have them); checked again before every use,
 * because a patch may since have changed those bytes. */
static int find_gadgets(struct proc_target *p)
{
	struct ovup_map *m;
	size_t n, i, k;
	int ret;

	if (gadget_at(p, p->gadget_syscall, ovup_arch_gadget_syscall,
		      ovup_arch_gadget_syscall_len) &&
	    restorer_at(p, p->gadget_restorer))
		return 0;
	p->gadget_syscall = p->gadget_restorer = 0;
	ret = ovup_proc_read_maps(p, &m, &n);
	if (ret)
		return ret;
	/* smallest first: the dynamic loader has both and is a tenth of libc */
	qsort(m, n, sizeof(*m), by_size);
	for (i = 0; i < n && !(p->gadget_syscall && p->gadget_restorer); i++) {
		uint64_t len = m[i].end - m[i].start;
		uint8_t *buf, *hit;

		/* a file's code, never a memfd's: ovup's own blocks hold such
		 * bytes too (the live switch's handler), and a call that
		 * unmaps one must not return into it */
		if (m[i].perms[2] != 'x' || m[i].path[0] != '/' ||
		    !strncmp(m[i].path, "/memfd:", 7) || len > (64ull << 20))
			continue;
		buf = ovup_xmalloc(len);
		if (pread(p->memfd, buf, len, (off_t)m[i].start) != (ssize_t)len) {
			free(buf);
			continue;
		}
		if (!p->gadget_syscall && (hit = memmem(buf, len, ovup_arch_gadget_syscall,
							ovup_arch_gadget_syscall_len)))
			p->gadget_syscall = m[i].start + (uint64_t)(hit - buf);
		for (k = 0; !p->gadget_restorer && ovup_arch_gadget_restorer[k]; k++)
			if ((hit = memmem(buf, len, ovup_arch_gadget_restorer[k],
					  ovup_arch_gadget_restorer_len[k])))
				p->gadget_restorer = m[i].start + (uint64_t)(hit - buf);
		free(buf);
	}
	ovup_maps_free(m, n);
	if (!p->gadget_syscall || !p->gadget_restorer)
		return ovup_err(-ENOTSUP,
				"pid %d: its code has no %s sequence, which ovup needs to "
				"make system calls in it that survive ovup's own death "
				"(a static binary without libc?); refusing to touch it",
				p->pid, p->gadget_syscall ? "signal-return" : "'syscall; ret'");
	return 0;
}

/* ---- one call in one thread --------------------------------------------- */

/* A user shadow stack would refuse the borrowed `ret`.  Asked of the
 * stopped thread through ptrace (a microsecond, where its status file
 * takes tens while the thread is held); else its status file. */
static int uses_shadow_stack(struct proc_target *p, size_t i)
{
	int pid = p->pid, tid = p->threads.t[i].tid, on = ovup_ptrace_shadow_stack(&p->threads, i);
	char path[64], *s, *line;

	if (on >= 0)
		return on;
	on = 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	s = ovup_read_file(path, NULL);
	if (s && (line = strstr(s, "x86_Thread_features:"))) {
		char *eol = strchr(line, '\n');

		if (eol)
			*eol = 0;
		on = strstr(line, "shstk") != NULL;
	}
	free(s);
	return on;
}

int ovup_proc_gadgets(struct proc_target *p)
{
	return find_gadgets(p);
}

/* A sandbox's seccomp filter would kill the process, or fail the call, on
 * a syscall ovup injects: refuse before the call instead.  Each call is
 * checked with its real arguments, and with it everything an apply or
 * revert injects (and the rt_sigreturn that ends every injection), so the
 * first injection already fails when a later one would, with nothing done
 * yet.  Never suspended (PTRACE_O_SUSPEND_SECCOMP): a thread left running
 * the injected sequence by a killed ovup would meet the filter again. */
static int seccomp_allows(struct proc_target *p, size_t i, long nr, const uint64_t args[6],
			  uint64_t pc)
{
	struct ovup_seccomp_call calls[16];
	uint64_t ip = pc + 2; /* after the syscall, as the kernel reports it */
	char why[512];
	size_t n;
	int ret;

	calls[0].nr = nr;
	memcpy(calls[0].args, args, sizeof(calls[0].args));
	calls[0].ip = ip;
	calls[1] = (struct ovup_seccomp_call){ .nr = SYS_rt_sigreturn,
					       .ip = p->gadget_restorer +
						     restorer_at(p, p->gadget_restorer) };
	n = 2 + ovup_seccomp_injected(ip, calls + 2, OVUP_ARRAY_SIZE(calls) - 2);
	ret = ovup_seccomp_check(&p->seccomp, p->pid, p->threads.t[i].tid, calls, n, why,
				 sizeof(why));
	if (ret == -ESRCH || (ret && ovup_proc_dead(p->pid)))
		return ovup_proc_gone(p);
	if (ret)
		return ovup_err(ret, "pid %d: %s", p->pid, why);
	return 0;
}

/* Can thread i take the call?  -EAGAIN if not (the caller tries another),
 * with the reason in why. */
static int thread_can_inject(struct proc_target *p, size_t i, long nr, const uint64_t args[6],
			     uint64_t pc, const char **why)
{
	int ret;

	if (!p->threads.t[i].stop)
		return -EAGAIN;
	if (uses_shadow_stack(p, i)) {
		*why = "its threads use a shadow stack";
		return -EAGAIN;
	}
	ret = ovup_ptrace_quiet(&p->threads, i);
	if (ret == -EAGAIN)
		*why = "its threads are flooded with signals";
	if (ret)
		return ret;
	return seccomp_allows(p, i, nr, args, pc);
}

/* How inject runs a call: from the target's own "syscall; ret", ovup
 * putting the thread back after it (all zero); from the live switch's
 * handler's "syscall; int3; ret" at call, the thread left at its
 * breakpoint; or, with released_at, let go at once to make the call and
 * put itself back, its data at *released_at. */
struct how {
	uint64_t call;
	uint64_t *released_at;
};

/* Runs the call in thread i; -EAGAIN if this thread cannot take it (the
 * caller tries another), with the reason in why. */
static int inject(struct proc_target *p, size_t i, long nr, uint64_t args[6], const void *data,
		  size_t ndata, unsigned data_args, void *back, int64_t *res, const struct how *how,
		  const char **why)
{
	uint64_t call = how->call, pc = call ? call : p->gadget_syscall;
	static uint8_t xstate[OVUP_ARCH_XSTATE_MAX];
	struct ovup_arch_frame f = { 0 };
	struct user_regs_struct inj;
	uint64_t mask;
	uint8_t *saved = NULL;
	int ret, restored;
	size_t k;

	ret = thread_can_inject(p, i, nr, args, pc, why);
	if (ret)
		return ret;
	ret = ovup_ptrace_thread_state(&p->threads, i, &mask, xstate, &f.xlen);
	if (ret)
		return ret;
	f.regs = &p->threads.t[i].regs;
	f.sigmask = mask;
	f.xstate = xstate;
	f.restorer = p->gadget_restorer;
	f.data = data;
	f.ndata = ndata;
	ret = ovup_arch_frame(&f);
	if (ret) {
		*why = "a thread's FPU state does not fit a signal frame";
		return ret == -ENOMEM ? ret : -EAGAIN;
	}
	/* The frame takes the room a signal frame would: memory below the
	 * stack pointer that the thread must already keep free.  What was
	 * there is put back once the thread is itself again. */
	saved = ovup_xmalloc(f.len);
	if (pread(p->memfd, saved, f.len, (off_t)f.lo) != (ssize_t)f.len ||
	    pwrite(p->memfd, f.bytes, f.len, (off_t)f.lo) != (ssize_t)f.len) {
		*why = "a thread's stack has no room for a signal frame";
		ret = -EAGAIN;
		goto out;
	}
	for (k = 0; data && k < 6; k++)
		if (data_args & (1u << k))
			args[k] = f.data_addr;
	inj = p->threads.t[i].regs;
	ovup_arch_regs_syscall(&inj, pc, f.sp, nr, args);
	if (call) {
		pid_t tid = p->threads.t[i].tid;

		ret = ovup_ptrace_call_start(&p->threads, i, &inj, ~(1ull << (SIGTRAP - 1)),
					     &restored);
		ovup_proc_trap_die_at("trap-call", 0);
		if (!ret)
			ret = ovup_ptrace_call_wait(&p->threads, tid,
						    call + (OVUP_ARCH_TRAP_CALL_END -
							    OVUP_ARCH_TRAP_CALL),
						    res);
		ovup_proc_trap_die_at("trap-called", 0);
	} else if (how->released_at) {
		ret = ovup_ptrace_release_into(&p->threads, i, &inj, &restored);
		*how->released_at = f.data_addr;
	} else {
		ret = ovup_ptrace_syscall(&p->threads, i, &inj, mask, res, &restored);
	}
	/* what the call wrote there, read before the stack is put back */
	if (!ret && back && !how->released_at &&
	    pread(p->memfd, back, ndata, (off_t)f.data_addr) != (ssize_t)ndata)
		ret = -EIO;
	if (restored && pwrite(p->memfd, saved, f.len, (off_t)f.lo) != (ssize_t)f.len && !ret)
		ret = -EIO;
out:
	free(saved);
	free(f.bytes);
	return ret;
}

int ovup_proc_syscall(struct proc_target *p, long nr, uint64_t args[6], const void *data,
		      size_t ndata, int data_arg, int64_t *res)
{
	return ovup_proc_syscall_rw(p, nr, args, data, ndata, 1u << data_arg, NULL, res);
}

int ovup_proc_syscall_rw(struct proc_target *p, long nr, uint64_t args[6], const void *data,
			 size_t ndata, unsigned data_args, void *back, int64_t *res)
{
	const char *why = "no thread of it is stopped";
	int held = p->threads.n > 0, ret;
	size_t i;

	ret = find_gadgets(p);
	if (ret)
		return ret;
	if (!held) {
		ret = ovup_ptrace_stop_one(&p->threads);
		if (ret) {
			ovup_ptrace_resume_all(&p->threads);
			return ovup_proc_ptrace_err(p, ret, "attach with ptrace");
		}
	}
	ret = -EAGAIN;
	for (i = 0; i < p->threads.n && ret == -EAGAIN; i++)
		ret = inject(p, i, nr, args, data, ndata, data_args, back, res, &(struct how){ 0 },
			     &why);
	if (!held)
		ovup_ptrace_resume_all(&p->threads);
	if (ret == -EAGAIN)
		return ovup_err(-EAGAIN,
				"pid %d: no thread can make a system call for ovup: %s; "
				"try again",
				p->pid, why);
	if (ret)
		return ovup_proc_ptrace_err(p, ret, "run a system call in it");
	return 0;
}

/* A call in held thread tid, the live switch's way (how): -EAGAIN, and -v
 * says why, if that thread cannot make it so. */
static int borrowed_call(struct proc_target *p, pid_t tid, long nr, uint64_t args[6],
			 const void *data, size_t ndata, unsigned data_args, void *back,
			 int64_t *res, const struct how *how)
{
	const char *why = "it is not held";
	long i = ovup_ptrace_index(&p->threads, tid);
	int ret;

	if (!p->trap_code)
		return -EAGAIN;
	ret = find_gadgets(p);
	if (ret)
		return ret;
	ret = -EAGAIN;
	if (i >= 0 && ovup_arch_regs_restart_lost(&p->threads.t[i].regs))
		why = "the call it was interrupted in would not restart from a frame";
	else if (i >= 0)
		ret = inject(p, (size_t)i, nr, args, data, ndata, data_args, back, res, how, &why);
	if (ret == -EAGAIN) {
		ovup_info("pid %d: thread %d makes the call the long way: %s", p->pid, tid, why);
		return -EAGAIN;
	}
	return ret ? ovup_proc_ptrace_err(p, ret, "run a system call in it") : 0;
}

int ovup_proc_syscall_trap(struct proc_target *p, pid_t tid, long nr, uint64_t args[6],
			   const void *data, size_t ndata, unsigned data_args, void *back,
			   int64_t *res)
{
	struct how how = { .call = p->trap_code + OVUP_ARCH_TRAP_CALL };

	return borrowed_call(p, tid, nr, args, data, ndata, data_args, back, res, &how);
}

int ovup_proc_syscall_released(struct proc_target *p, pid_t tid, long nr, uint64_t args[6],
			       const void *data, size_t ndata, unsigned data_args, uint64_t *at)
{
	struct how how = { .released_at = at };
	int64_t unused;

	return borrowed_call(p, tid, nr, args, data, ndata, data_args, NULL, &unused, &how);
}

/* ---- mapping and unmapping ---------------------------------------------- */

int ovup_proc_call(struct proc_target *p, const char *what, long nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *res)
{
	uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };
	int ret = ovup_proc_syscall(p, nr, args, NULL, 0, 0, res);

	if (!ret && *res < 0 && *res > -4096)
		return ovup_err((int)*res, "pid %d: %s failed in the target: %s", p->pid, what,
				strerror((int)-*res));
	return ret;
}
