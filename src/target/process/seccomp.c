// SPDX-License-Identifier: MIT
/*
 * Seccomp filters as the kernel runs them (kernel/seccomp.c,
 * net/core/filter.c): the classic-BPF instructions seccomp accepts, over
 * struct seccomp_data, every filter of a thread run and the strictest
 * action kept.  The target's filters are read with PTRACE_SECCOMP_GET_FILTER
 * and every syscall ovup injects is evaluated before the first one runs.
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

/* The kernel's order of precedence: the action bits compared as a signed
 * number, lowest wins, so KILL_PROCESS (0x80000000) beats everything and
 * ALLOW (0x7fff0000) nothing (kernel/seccomp.c, ACTION_ONLY). */
static int32_t action_only(uint32_t ret)
{
	return (int32_t)(ret & SECCOMP_RET_ACTION_FULL);
}

/* Instructions seccomp accepts with any operand (seccomp_check_filter());
 * those whose operand is checked are in check_insn(). */
static const uint16_t plain_insns[] = {
	BPF_LD | BPF_W | BPF_LEN,	BPF_LDX | BPF_W | BPF_LEN,	BPF_RET | BPF_K,
	BPF_RET | BPF_A,		BPF_ALU | BPF_ADD | BPF_K,	BPF_ALU | BPF_ADD | BPF_X,
	BPF_ALU | BPF_SUB | BPF_K,	BPF_ALU | BPF_SUB | BPF_X,	BPF_ALU | BPF_MUL | BPF_K,
	BPF_ALU | BPF_MUL | BPF_X,	BPF_ALU | BPF_DIV | BPF_X,	BPF_ALU | BPF_AND | BPF_K,
	BPF_ALU | BPF_AND | BPF_X,	BPF_ALU | BPF_OR | BPF_K,	BPF_ALU | BPF_OR | BPF_X,
	BPF_ALU | BPF_XOR | BPF_K,	BPF_ALU | BPF_XOR | BPF_X,	BPF_ALU | BPF_LSH | BPF_X,
	BPF_ALU | BPF_RSH | BPF_X,	BPF_ALU | BPF_NEG,		BPF_LD | BPF_IMM,
	BPF_LDX | BPF_IMM,		BPF_MISC | BPF_TAX,		BPF_MISC | BPF_TXA,
};

/* Instruction pc of a program of len: 0 or -EINVAL. */
static int check_insn(const struct sock_filter *f, size_t pc, size_t len)
{
	size_t i;

	switch (f->code) {
	case BPF_LD | BPF_W | BPF_ABS:
		/* aligned and inside struct seccomp_data */
		return f->k >= sizeof(struct seccomp_data) || f->k & 3 ? -EINVAL : 0;
	case BPF_ALU | BPF_DIV | BPF_K:
		return !f->k ? -EINVAL : 0;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		return f->k >= 32 ? -EINVAL : 0;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
	case BPF_ST:
	case BPF_STX:
		return f->k >= BPF_MEMWORDS ? -EINVAL : 0;
	case BPF_JMP | BPF_JA:
		return f->k >= len - pc - 1 ? -EINVAL : 0;
	case BPF_JMP | BPF_JEQ | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K:
	case BPF_JMP | BPF_JSET | BPF_X:
		/* both targets, taken or not, as bpf_check_classic() */
		return pc + f->jt + 1 >= len || pc + f->jf + 1 >= len ? -EINVAL : 0;
	}
	for (i = 0; i < OVUP_ARRAY_SIZE(plain_insns); i++)
		if (f->code == plain_insns[i])
			return 0;
	/* BPF_MOD, byte and half-word loads, packet loads, ...: seccomp
	 * refuses them */
	return -EINVAL;
}

/* No scratch word is read before every path to it wrote it: one forward
 * pass, as check_load_and_stores() (jumps only go forward). */
static int check_scratch(const struct sock_filter *insns, size_t len, size_t *bad)
{
	uint16_t *masks, memvalid = 0;
	size_t pc;
	int ret = 0;

	masks = ovup_xmalloc(len * sizeof(*masks));
	memset(masks, 0xff, len * sizeof(*masks));
	for (pc = 0; pc < len && !ret; pc++) {
		const struct sock_filter *f = &insns[pc];

		memvalid &= masks[pc];
		switch (f->code) {
		case BPF_ST:
		case BPF_STX:
			memvalid |= (uint16_t)(1u << f->k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(memvalid & (1u << f->k))) {
				*bad = pc;
				ret = -EINVAL;
			}
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + f->k] &= memvalid;
			memvalid = 0xffff;
			break;
		default:
			if (BPF_CLASS(f->code) == BPF_JMP) {
				masks[pc + 1 + f->jt] &= memvalid;
				masks[pc + 1 + f->jf] &= memvalid;
				memvalid = 0xffff;
			}
			break;
		}
	}
	free(masks);
	return ret;
}

int ovup_seccomp_validate(const struct sock_filter *insns, size_t len, size_t *bad)
{
	size_t pc;

	*bad = 0;
	if (!len || len > BPF_MAXINSNS)
		return -EINVAL;
	for (pc = 0; pc < len; pc++) {
		*bad = pc;
		if (check_insn(&insns[pc], pc, len))
			return -EINVAL;
	}
	*bad = len - 1;
	if (insns[len - 1].code != (BPF_RET | BPF_K) && insns[len - 1].code != (BPF_RET | BPF_A))
		return -EINVAL;
	return check_scratch(insns, len, bad);
}

/* The interpreter is one switch over the opcodes seccomp accepts, one line
 * each, as the kernel's: read as a table, it is longer than 60 lines, and
 * cut in pieces it would be harder to compare with the kernel's. */
int ovup_seccomp_run(const struct sock_filter *insns, size_t len, const struct seccomp_data *d,
		     uint32_t *ret)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	unsigned char data[sizeof(*d)];
	size_t pc, bad;

	/* validated first, so the loop below cannot read or jump out of
	 * range, whatever the target's memory held */
	if (ovup_seccomp_validate(insns, len, &bad))
		return -EINVAL;
	memcpy(data, d, sizeof(data));
	for (pc = 0; pc < len; pc++) {
		const struct sock_filter *f = &insns[pc];
		uint32_t k = f->k;

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			memcpy(&a, data + k, sizeof(a)); /* native order, as the kernel */
			break;
		case BPF_LD | BPF_W | BPF_LEN:
			a = sizeof(struct seccomp_data);
			break;
		case BPF_LDX | BPF_W | BPF_LEN:
			x = sizeof(struct seccomp_data);
			break;
		case BPF_LD | BPF_IMM:
			a = k;
			break;
		case BPF_LDX | BPF_IMM:
			x = k;
			break;
		case BPF_LD | BPF_MEM:
			a = mem[k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[k];
			break;
		case BPF_ST:
			mem[k] = a;
			break;
		case BPF_STX:
			mem[k] = x;
			break;
		case BPF_ALU | BPF_ADD | BPF_K: a += k; break;
		case BPF_ALU | BPF_ADD | BPF_X: a += x; break;
		case BPF_ALU | BPF_SUB | BPF_K: a -= k; break;
		case BPF_ALU | BPF_SUB | BPF_X: a -= x; break;
		case BPF_ALU | BPF_MUL | BPF_K: a *= k; break;
		case BPF_ALU | BPF_MUL | BPF_X: a *= x; break;
		case BPF_ALU | BPF_DIV | BPF_K: a /= k; break;
		case BPF_ALU | BPF_DIV | BPF_X:
			if (!x) {
				/* the converted program returns 0 here: a
				 * division by zero kills the thread */
				*ret = 0;
				return 0;
			}
			a /= x;
			break;
		case BPF_ALU | BPF_AND | BPF_K: a &= k; break;
		case BPF_ALU | BPF_AND | BPF_X: a &= x; break;
		case BPF_ALU | BPF_OR | BPF_K: a |= k; break;
		case BPF_ALU | BPF_OR | BPF_X: a |= x; break;
		case BPF_ALU | BPF_XOR | BPF_K: a ^= k; break;
		case BPF_ALU | BPF_XOR | BPF_X: a ^= x; break;
		case BPF_ALU | BPF_LSH | BPF_K: a <<= k; break;
		case BPF_ALU | BPF_RSH | BPF_K: a >>= k; break;
		/* the eBPF interpreter and the x86 JIT use the low 5 bits */
		case BPF_ALU | BPF_LSH | BPF_X: a <<= x & 31; break;
		case BPF_ALU | BPF_RSH | BPF_X: a >>= x & 31; break;
		case BPF_ALU | BPF_NEG: a = -a; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_JMP | BPF_JA: pc += k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JEQ | BPF_X: pc += a == x ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGT | BPF_X: pc += a > x ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JGE | BPF_X: pc += a >= x ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += a & k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_X: pc += a & x ? f->jt : f->jf; break;
		case BPF_RET | BPF_K:
			*ret = k;
			return 0;
		case BPF_RET | BPF_A:
			*ret = a;
			return 0;
		default:
			return -EINVAL; /* not reached: validated */
		}
	}
	return -EINVAL; /* not reached: the last instruction returns */
}

int ovup_seccomp_eval(const struct ovup_seccomp_prog *progs, size_t n,
		      const struct seccomp_data *d, uint32_t *action, size_t *bad)
{
	uint32_t ret = SECCOMP_RET_ALLOW, cur;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ovup_seccomp_run(progs[i].insns, progs[i].len, d, &cur)) {
			*bad = i;
			return -EINVAL;
		}
		/* strictly lower: at equal precedence the newer filter,
		 * seen first, keeps its data (the errno) */
		if (action_only(cur) < action_only(ret))
			ret = cur;
	}
	*action = ret;
	return 0;
}

int ovup_seccomp_allowed(uint32_t action)
{
	uint32_t a = action & SECCOMP_RET_ACTION_FULL;

	return a == SECCOMP_RET_ALLOW || a == SECCOMP_RET_LOG;
}

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_mmap: return "mmap";
	case SYS_mprotect: return "mprotect";
	case SYS_pkey_mprotect: return "pkey_mprotect";
	case SYS_munmap: return "munmap";
	case SYS_memfd_create: return "memfd_create";
	case SYS_ftruncate: return "ftruncate";
	case SYS_close: return "close";
	case SYS_rt_sigreturn: return "rt_sigreturn";
	default: return NULL;
	}
}

/* "mmap(PROT_READ|PROT_EXEC)": the name, and the protection where a
 * filter is likely to look at it (systemd's MemoryDenyWriteExecute) */
static void call_text(long nr, const uint64_t args[6], char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} prots[] = { { PROT_READ, "PROT_READ" }, { PROT_WRITE, "PROT_WRITE" },
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

void ovup_seccomp_describe(uint32_t action, long nr, const uint64_t args[6], char *buf,
			   size_t len)
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
		reason = self_filtered() ? "ovup itself runs under a seccomp filter, and the kernel "
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
			snprintf(why, whylen,
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
