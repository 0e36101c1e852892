// SPDX-License-Identifier: MIT
/*
 * The test victim: a real process whose functions ovup replaces.  It reads
 * commands on stdin and answers on stdout, so a test can ask "what does
 * compute(5) return now?" at a moment of its choosing:
 *   call NAME ARG   -> the result of NAME(ARG)
 *   strlen WORD     -> libc's strlen(WORD);  strlen-null -> strlen(NULL)
 *   reset / stats   -> worker threads count compute(21)'s results from now on
 *   mdwe            -> forbid gaining exec permission (PR_SET_MDWE)
 *   seccomp MODE    -> a seccomp filter on every thread, as sandboxes have:
 *                      kill-mmap, kill-mprotect, kill-munmap, errno-memfd,
 *                      mdwe (systemd's MemoryDenyWriteExecute=), allow-log
 *                      (logs mmap, mprotect, munmap), unrelated (refuses
 *                      socket, kills on kexec_load), strict (strict mode)
 *   block           -> a thread asleep inside block_entry's first bytes
 *   block-late      -> a thread asleep in a syscall whose instruction lies
 *                      in late_entry's first bytes (its pc just past them)
 *   nap             -> a thread calling napper(1) in a loop
 *   regs            -> "ROUNDS ERRORS" of the register-checking main thread
 *   coro            -> resume a coroutine (ucontext, on a malloc'd stack)
 *                      that loops n = coro_step(n) and yields; prints n
 *   churn           -> a thread creating and joining threads without end
 *   rtsig           -> count SIGRTMIN+1 from now on: each carries a sequence
 *                      number; rtsig-count -> "RECEIVED OUT-OF-ORDER"
 *   fork            -> a child that writes compute(5) to the file named
 *                      by $VICTIM_CHILD_OUT every 10 ms; prints its pid
 *   exec            -> execs itself (same pid, stdin and stdout), which
 *                      then prints "ready PID" again
 *   tid             -> the id of a thread other than the main one
 *   tls K ARG       -> tls_get(ARG) run in thread K: 0 the thread serving
 *                      commands, 1 and 2 two threads that live on
 *   tpoff           -> "EXE LIB": where tls_exe and lib_tls lie in this
 *                      thread, as offsets from its thread pointer
 *   dlopen          -> loads libtlsdl.so (next to the victim) with dlopen
 *                      and reads its thread-local variable; prints it
 *   forge SITE CUR ADDR SIZE -> maps a forged ovup record into itself: a
 *                      patch whose jump at SITE is CUR (the bytes there now),
 *                      whose saved bytes are int3s, and whose block is
 *                      [ADDR, ADDR+SIZE) (not ovup's)
 *   trap            -> raise(SIGTRAP); prints how many its own handler saw
 *                      (with $VICTIM_TRAP_HANDLER set; otherwise it dies)
 *   quit
 * `victim -t N` starts N threads calling compute(21) in a tight loop;
 * `victim -w N` the same, each call after a 100 us sleep (mostly asleep,
 * they wake at any moment and call it; $VICTIM_BLOCK_TRAP: blocking SIGTRAP);
 * `victim -s N` starts N threads that sleep (as a server's idle threads do);
 * `victim -r` makes the main thread (where ovup injects its system calls)
 * spin checking its registers (regspin.S), and serves commands from
 * another thread; `victim -n` makes it sleep in nanosleep instead
 * (restarted after an interrupt through the kernel's restart block),
 * counting the sleeps cut short:
 *   naps-cut        -> how many of its nanosleeps failed with EINTR
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone, used))

#ifdef VICTIM_ALT
int offset = 2; /* another build of the same program */
#else
int offset = 1; /* a variable patches read */
#endif
int calls; /* a variable patches write */

/* thread-local variables patches read and write: each thread its own */
__thread int tls_exe = 10;
extern __thread int lib_tls; /* libvictim.so */

NOINLINE int tls_get(int x)
{
	return x + tls_exe + lib_tls;
}

NOINLINE int compute(int x)
{
	calls++;
	return x * 2 + offset;
}

/* static: only found through .symtab or debuginfo */
static NOINLINE int secret(int x)
{
	return x + 1000 + offset;
}

/* inl_scale exists twice: inlined into uses_inline, and out of line
 * (its address is taken below); replacing it misses the inlined copy */
static inline int inl_scale(int x)
{
	return x * 7 + offset;
}

NOINLINE int uses_inline(int x)
{
	return inl_scale(x) + 1;
}

/* a thread calls napper() in a loop ("nap"): a patch of it may sleep, so a
 * revert finds the thread inside the new code */
NOINLINE int napper(int ms)
{
	usleep((useconds_t)ms * 1000);
	return ms + offset;
}

static void *napping(void *arg)
{
	(void)arg;
	for (;;)
		napper(1);
	return NULL;
}

extern int lib_compute(int x);     /* libvictim.so */
extern int dup_a(int x);           /* dup_a.c: static helper */
extern int dup_b(int x);           /* dup_b.c: another static helper */
extern int tiny(int x);            /* tiny.S: 3 bytes */
extern void block_forever(void);   /* spin.S: never returns */
extern void block_late(void);      /* spin.S: never returns */
extern void regspin(long *counts); /* regspin.S: never returns */
extern int loopy(int x);           /* loopy.S: branches back into its first bytes */
extern int entered(int x);         /* spin.S: another function jumps into its first bytes */
extern int scale(int x);           /* ipa.c: callers rely on its registers */
extern int scale_sum(int n);       /* ipa.c: such a caller */
extern int lib_sum(int n);         /* ipa.c: calls lib_compute through the PLT */
extern int lib_overridden(int x);  /* libvictim.so: calls overridden() through its PLT */
extern int lib_twin(int x);        /* libvictim.so: calls its own protected twin() */

/* libvictim.so defines these two as well (see there) */
__attribute__((noinline)) int overridden(int x)
{
	return x + 100001;
}

__attribute__((noinline)) int twin(int x)
{
	return x + 100002;
}

static void *blocker(void *arg)
{
	(void)arg;
	block_forever();
	return NULL;
}

static void *late_blocker(void *arg)
{
	(void)arg;
	block_late();
	return NULL;
}

static int call_strlen(int x)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%*s", x > 0 && x < 60 ? x : 1, "");
	return (int)strlen(buf);
}

static const struct {
	const char *name;
	int (*fn)(int);
} table[] = {
	{ "compute", compute },
	{ "secret", secret },
	{ "lib_compute", lib_compute },
	{ "dup_a", dup_a },
	{ "dup_b", dup_b },
	{ "tiny", tiny },
	{ "strlen", call_strlen },
	{ "inl_scale", inl_scale },
	{ "uses_inline", uses_inline },
	{ "loopy", loopy },
	{ "entered", entered },
	{ "scale", scale },
	{ "scale_sum", scale_sum },
	{ "lib_sum", lib_sum },
	{ "overridden", overridden },
	{ "lib_overridden", lib_overridden },
	{ "twin", twin },
	{ "lib_twin", lib_twin },
};

#define MAXV 8
#define MAXT 1024
/* Each worker counts the results of its own calls in its own table, for
 * the generation its table belongs to.  A call is counted only if the
 * generation did not change while it ran, so after "reset" a table holds
 * nothing but results of calls that started after the reset. */
static atomic_int gen;
static struct table {
	atomic_int gen;
	atomic_int value[MAXV];
	atomic_long count[MAXV];
} tables[MAXT];

static int worker_nap; /* -w: each call after a 100 us sleep */

static void *worker(void *arg)
{
	struct table *t = arg;
	int (*volatile fn)(int) = compute;

	if (getenv("VICTIM_BLOCK_TRAP")) {
		sigset_t m;

		sigemptyset(&m);
		sigaddset(&m, SIGTRAP);
		pthread_sigmask(SIG_BLOCK, &m, NULL);
	}

	for (;;) {
		int g, v, i;

		if (worker_nap)
			usleep(100);
		g = atomic_load(&gen);
		v = fn(21);

		if (g != atomic_load(&t->gen)) {
			atomic_store(&t->gen, -1); /* invalid while clearing */
			for (i = 0; i < MAXV; i++) {
				atomic_store(&t->value[i], 0);
				atomic_store(&t->count[i], 0);
			}
			atomic_store(&t->gen, g);
		}
		if (g != atomic_load(&gen))
			continue;
		for (i = 0; i < MAXV; i++) {
			if (atomic_load(&t->value[i]) == 0)
				atomic_store(&t->value[i], v);
			if (atomic_load(&t->value[i]) == v) {
				atomic_fetch_add(&t->count[i], 1);
				break;
			}
		}
	}
	return NULL;
}

/* "value:count ..." over the tables of the current generation */
static void stats(int nthreads)
{
	int vals[MAXV * 4], nv = 0, g = atomic_load(&gen), i, k, j;
	long counts[MAXV * 4];

	for (k = 0; k < nthreads; k++) {
		struct table *t = &tables[k];

		if (atomic_load(&t->gen) != g)
			continue;
		for (i = 0; i < MAXV; i++) {
			int v = atomic_load(&t->value[i]);
			long c = atomic_load(&t->count[i]);

			if (!v || !c)
				continue;
			for (j = 0; j < nv && vals[j] != v; j++)
				;
			if (j == nv && nv < MAXV * 4) {
				vals[nv] = v;
				counts[nv++] = 0;
			}
			if (j < nv)
				counts[j] += c;
		}
	}
	for (j = 0; j < nv; j++)
		printf("%s%d:%ld", j ? " " : "", vals[j], counts[j]);
	printf("\n");
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

#define NR_IS(nr, ret) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, (ret))
#define ARCH_X86_64                                                              \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),    \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),             \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static const struct sock_filter kill_mmap[] = { ARCH_X86_64,
						NR_IS(SYS_mmap, SECCOMP_RET_KILL_PROCESS), ALLOW };
static const struct sock_filter kill_mprotect[] = { ARCH_X86_64,
						    NR_IS(SYS_mprotect, SECCOMP_RET_KILL_THREAD),
						    ALLOW };
static const struct sock_filter kill_munmap[] = { ARCH_X86_64,
						  NR_IS(SYS_munmap, SECCOMP_RET_KILL_PROCESS),
						  ALLOW };
static const struct sock_filter errno_memfd[] = {
	ARCH_X86_64, NR_IS(SYS_memfd_create, SECCOMP_RET_ERRNO | EPERM), ALLOW
};
static const struct sock_filter allow_log[] = { ARCH_X86_64, NR_IS(SYS_mmap, SECCOMP_RET_LOG),
						NR_IS(SYS_mprotect, SECCOMP_RET_LOG),
						NR_IS(SYS_munmap, SECCOMP_RET_LOG), ALLOW };
static const struct sock_filter unrelated[] = { ARCH_X86_64,
						NR_IS(SYS_socket, SECCOMP_RET_ERRNO | EPERM),
						NR_IS(SYS_kexec_load, SECCOMP_RET_KILL_PROCESS),
						ALLOW };
/* systemd's MemoryDenyWriteExecute= (seccomp_memory_deny_write_execute) */
static const struct sock_filter mdwe[] = {
	ARCH_X86_64,
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 4, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 6, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pkey_mprotect, 5, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_shmat, 6, 0),
	ALLOW,
	/* mmap: PROT_WRITE and PROT_EXEC together */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 4, 5),
	/* mprotect, pkey_mprotect: PROT_EXEC */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 2, 3),
	/* shmat: SHM_EXEC */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0100000, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	ALLOW,
};

static const struct {
	const char *name;
	const struct sock_filter *f;
	unsigned short len;
} filters[] = {
#define F(name, a)                                \
	{                                         \
		name, a, sizeof(a) / sizeof(a[0]) \
	}
	F("kill-mmap", kill_mmap),
	F("kill-mprotect", kill_mprotect),
	F("kill-munmap", kill_munmap),
	F("errno-memfd", errno_memfd),
	F("allow-log", allow_log),
	F("unrelated", unrelated),
	F("mdwe", mdwe),
#undef F
};

/* "ok" or why not: with TSYNC every thread gets the filter at once */
static const char *seccomp_install(const char *mode)
{
	size_t i;

	if (!strcmp(mode, "strict"))
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) ? strerror(errno) : "ok";
	for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		struct sock_fprog prog = { filters[i].len, (struct sock_filter *)filters[i].f };

		if (strcmp(mode, filters[i].name))
			continue;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog))
			return strerror(errno);
		return "ok";
	}
	return "no such filter";
}

/* a coroutine: ovup must not free patch code it is suspended in */
static ucontext_t coro_main, coro_ctx;
static int coro_value;

NOINLINE void coro_yield(void)
{
	swapcontext(&coro_ctx, &coro_main);
}

NOINLINE int coro_step(int x)
{
	return x + 1 + offset;
}

static void coro_body(void)
{
	int n = 0;

	for (;;) {
		n = coro_step(n);
		coro_value = n;
		coro_yield();
	}
}

static int coro_resume(void)
{
	static int started;

	if (!started) {
		getcontext(&coro_ctx);
		coro_ctx.uc_stack.ss_size = 256 << 10;
		coro_ctx.uc_stack.ss_sp = malloc(coro_ctx.uc_stack.ss_size);
		coro_ctx.uc_link = NULL;
		makecontext(&coro_ctx, coro_body, 0);
		started = 1;
	}
	swapcontext(&coro_main, &coro_ctx);
	return coro_value;
}

/* threads come and go hundreds of times a second */
static void *churn_one(void *arg)
{
	return arg;
}

static void *churner(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t th[4];
		int i;

		for (i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, churn_one, NULL);
		for (i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		usleep(1000);
	}
	return NULL;
}

/* real-time signals, each with a sequence number: none may be lost or
 * come out of order */
static atomic_long rt_received, rt_disorder;
static atomic_int rt_last;

static void on_rtsig(int sig, siginfo_t *si, void *uc)
{
	int seq = si->si_value.sival_int;

	(void)sig;
	(void)uc;
	if (seq != atomic_load(&rt_last) + 1)
		atomic_fetch_add(&rt_disorder, 1);
	atomic_store(&rt_last, seq);
	atomic_fetch_add(&rt_received, 1);
}

/* threads that run tls_get when asked, keeping their TLS between asks */
static struct tls_thread {
	atomic_int req; /* 1: run tls_get(arg), then 0 */
	int arg, res;
	pthread_t th;
} tls_threads[3];

static void *tls_worker(void *arg)
{
	struct tls_thread *w = arg;

	for (;;) {
		if (!atomic_load(&w->req)) {
			usleep(200);
			continue;
		}
		w->res = tls_get(w->arg);
		atomic_store(&w->req, 0);
	}
	return NULL;
}

static int tls_in(int k, int arg)
{
	struct tls_thread *w = &tls_threads[k];

	if (k == 0)
		return tls_get(arg);
	if (!w->th)
		pthread_create(&w->th, NULL, tls_worker, w);
	w->arg = arg;
	atomic_store(&w->req, 1);
	while (atomic_load(&w->req))
		usleep(200);
	return w->res;
}

static const char *load_tlsdl(int *val)
{
	char path[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	void *h;
	int (*get)(void);

	if (n <= 0)
		return "readlink";
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "libtlsdl.so");
	h = dlopen(path, RTLD_NOW);
	if (!h)
		return dlerror();
	get = (int (*)(void))dlsym(h, "dl_tls_get");
	if (!get)
		return dlerror();
	*val = get(); /* its block, allocated by this first access */
	return NULL;
}

static atomic_int other_tid;

static void *sleeper2(void *arg)
{
	(void)arg;
	atomic_store(&other_tid, (int)gettid());
	for (;;)
		pause();
	return NULL;
}

/* A record as ovup's journal keeps it in a target (src/target/process/
 * journal.c): a memfd "ovup-record", two slots of a 32-byte header and
 * the text.  This one lies. */
static const char *forge(const char *site, const char *cur, const char *addr, const char *size)
{
	static char text[1024];
	uint64_t h = 0xcbf29ce484222325ull ^ 1, hdr[4];
	size_t len, i;
	void *m;
	int fd;

	len = (size_t)snprintf(text, sizeof(text),
			       "patch forged 1 0 applied x\nblock %s 0x%llx 2\n"
			       "func compute victim %s 0x40 %s 0x1000 cccccccccc %s\nend\n",
			       addr, strtoull(size, NULL, 0), site, site, cur);
	for (i = 0; i < len; i++) {
		h ^= (uint8_t)text[i];
		h *= 0x100000001b3ull;
	}
	memcpy(hdr, "OVUPREC1", 8);
	hdr[1] = 1;
	hdr[2] = len;
	hdr[3] = h;
	fd = memfd_create("ovup-record", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 8192) || pwrite(fd, hdr, 32, 0) != 32 ||
	    pwrite(fd, text, len, 32) != (ssize_t)len)
		return strerror(errno);
	m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	return m == MAP_FAILED ? strerror(errno) : "ok";
}

static long regcounts[2];
static int nworkers;
static atomic_long naps_cut; /* -n: the leader's nanosleeps that failed */

/* -n: the leader sleeps in nanosleep, which an interrupt restarts through
 * the kernel's restart block; each EINTR is a restart lost */
static void nap_forever(void)
{
	for (;;) {
		struct timespec ts = { 3600, 0 };

		if (nanosleep(&ts, NULL) < 0 && errno == EINTR)
			atomic_fetch_add(&naps_cut, 1);
	}
}

static void serve(void);

static void *server(void *arg)
{
	(void)arg;
	serve();
	exit(0);
}

int main(int argc, char **argv)
{
	int i, n = 0, sleepers = 0, regs = 0, nap = 0, opt;

	while ((opt = getopt(argc, argv, "t:w:s:rn")) != -1) {
		if (opt == 't' || opt == 'w') {
			n = atoi(optarg);
			worker_nap = opt == 'w';
		} else if (opt == 's')
			sleepers = atoi(optarg);
		else if (opt == 'r')
			regs = 1;
		else if (opt == 'n')
			nap = 1;
		else
			return 2;
	}
	for (i = 0; i < sleepers; i++) {
		pthread_t th;

		pthread_create(&th, NULL, sleeper, NULL);
	}
	if (n > MAXT)
		n = MAXT;
	for (i = 0; i < n; i++) {
		pthread_t th;

		atomic_store(&tables[i].gen, -1);
		pthread_create(&th, NULL, worker, &tables[i]);
	}
	nworkers = n;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (regs) {
		pthread_t th;

		pthread_create(&th, NULL, server, NULL);
		regspin(regcounts);
	}
	if (nap) {
		pthread_t th;

		pthread_create(&th, NULL, server, NULL);
		nap_forever();
	}
	serve();
	return 0;
}

static atomic_int traps;

static void on_trap(int sig)
{
	(void)sig;
	atomic_fetch_add(&traps, 1);
}

static void serve(void)
{
	char line[256], name[64];
	int arg, k, n = nworkers;

	if (getenv("VICTIM_TRAP_HANDLER"))
		signal(SIGTRAP, on_trap);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "call %63s %d", name, &arg) == 2) {
			size_t k;

			for (k = 0; k < sizeof(table) / sizeof(table[0]); k++)
				if (!strcmp(table[k].name, name))
					break;
			if (k == sizeof(table) / sizeof(table[0]))
				printf("error no such function\n");
			else
				printf("%d\n", table[k].fn(arg));
		} else if (!strncmp(line, "trap", 4)) {
			raise(SIGTRAP);
			printf("%d\n", atomic_load(&traps));
		} else if (!strncmp(line, "reset", 5)) {
			atomic_fetch_add(&gen, 1);
			printf("ok\n");
		} else if (!strncmp(line, "stats", 5)) {
			stats(n);
		} else if (!strncmp(line, "naps-cut", 8)) {
			printf("%ld\n", atomic_load(&naps_cut));
		} else if (!strncmp(line, "mdwe", 4)) {
			/* PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1 */
			printf("%s\n", prctl(65, 1, 0, 0, 0) ? "mdwe-unsupported" : "ok");
		} else if (sscanf(line, "seccomp %63s", name) == 1) {
			printf("%s\n", seccomp_install(name));
		} else if (!strncmp(line, "strlen-null", 11)) {
			const char *volatile none = NULL;

			printf("%zu\n", strlen(none)); /* crashes unless patched */
		} else if (sscanf(line, "strlen %63s", name) == 1) {
			/* libc's strlen, an IFUNC, through the PLT */
			printf("%zu\n", strlen(name));
		} else if (!strncmp(line, "coro", 4)) {
			printf("%d\n", coro_resume());
		} else if (!strncmp(line, "churn", 5)) {
			pthread_t th;

			pthread_create(&th, NULL, churner, NULL);
			printf("ok\n");
		} else if (!strncmp(line, "rtsig-count", 11)) {
			printf("%ld %ld\n", atomic_load(&rt_received), atomic_load(&rt_disorder));
		} else if (!strncmp(line, "rtsig", 5)) {
			struct sigaction sa;

			memset(&sa, 0, sizeof(sa));
			sa.sa_sigaction = on_rtsig;
			sa.sa_flags = SA_SIGINFO | SA_RESTART;
			sigaction(SIGRTMIN + 1, &sa, NULL);
			printf("ok\n");
		} else if (!strncmp(line, "fork", 4)) {
			pid_t c = fork();

			if (c == 0) {
				const char *out = getenv("VICTIM_CHILD_OUT");
				char tmp[4096];

				snprintf(tmp, sizeof(tmp), "%s.tmp", out ? out : "/dev/null");
				for (;;) {
					FILE *f = out ? fopen(tmp, "w") : NULL;

					/* whole or not at all, for a reader at any time */
					if (f) {
						fprintf(f, "%d\n", compute(5));
						fclose(f);
						rename(tmp, out);
					}
					usleep(10000);
				}
			}
			printf("%d\n", (int)c);
		} else if (!strncmp(line, "exec", 4)) {
			char *args[] = { "victim", NULL };

			fflush(stdout);
			execv("/proc/self/exe", args);
			printf("error exec: %s\n", strerror(errno));
		} else if (!strncmp(line, "forge ", 6)) {
			char a[32], b[32], c[32], d[32];

			if (sscanf(line + 6, "%31s %31s %31s %31s", a, b, c, d) == 4)
				printf("%s\n", forge(a, b, c, d));
			else
				printf("error usage\n");
		} else if (!strncmp(line, "tid", 3)) {
			pthread_t th;

			if (!atomic_load(&other_tid))
				pthread_create(&th, NULL, sleeper2, NULL);
			while (!atomic_load(&other_tid))
				usleep(1000);
			printf("%d\n", atomic_load(&other_tid));
		} else if (sscanf(line, "tls %d %d", &k, &arg) == 2 && k >= 0 && k < 3) {
			printf("%d\n", tls_in(k, arg));
		} else if (!strncmp(line, "tpoff", 5)) {
			char *tp = __builtin_thread_pointer();

			printf("%td %td\n", (char *)&tls_exe - tp, (char *)&lib_tls - tp);
		} else if (!strncmp(line, "dlopen", 6)) {
			const char *why;
			int val = 0;

			why = load_tlsdl(&val);
			if (why)
				printf("error dlopen: %s\n", why);
			else
				printf("%d\n", val);
		} else if (!strncmp(line, "nap", 3)) {
			pthread_t th;

			pthread_create(&th, NULL, napping, NULL);
			pthread_setname_np(th, "napper");
			printf("ok\n");
		} else if (!strncmp(line, "block-late", 10)) {
			pthread_t th;

			pthread_create(&th, NULL, late_blocker, NULL);
			pthread_setname_np(th, "late");
			printf("ok\n");
		} else if (!strncmp(line, "regs", 4)) {
			printf("%ld %ld\n", __atomic_load_n(&regcounts[0], __ATOMIC_RELAXED),
			       __atomic_load_n(&regcounts[1], __ATOMIC_RELAXED));
		} else if (!strncmp(line, "block", 5)) {
			pthread_t th;

			pthread_create(&th, NULL, blocker, NULL);
			pthread_setname_np(th, "blocker");
			printf("ok\n");
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	exit(0);
}
