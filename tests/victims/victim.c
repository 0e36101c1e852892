// SPDX-License-Identifier: MIT
/*
 * The test victim: a real process whose functions ovup replaces.  It reads
 * commands on stdin and answers on stdout, so a test can ask "what does
 * compute(5) return now?" at a moment of its choosing:
 *   call NAME ARG   -> the result of NAME(ARG)
 *   strlen WORD     -> libc's strlen(WORD);  strlen-null -> strlen(NULL)
 *   reset / stats   -> worker threads count compute(21)'s results from now on
 *   mdwe            -> forbid gaining exec permission (PR_SET_MDWE)
 *   block           -> a thread asleep inside block_entry's first bytes
 *   nap             -> a thread calling napper(1) in a loop
 *   quit
 * `victim -t N` starts N threads calling compute(21) in a tight loop;
 * `victim -s N` starts N threads that sleep (as a server's idle threads do).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone, used))

#ifdef VICTIM_ALT
int offset = 2;       /* another build of the same program */
#else
int offset = 1;       /* a variable patches read */
#endif
int calls;            /* a variable patches write */

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

extern int lib_compute(int x);  /* libvictim.so */
extern int dup_a(int x);        /* dup_a.c: static helper */
extern int dup_b(int x);        /* dup_b.c: another static helper */
extern int tiny(int x);         /* tiny.S: 3 bytes */
extern void block_forever(void); /* spin.S: never returns */
extern int loopy(int x);        /* loopy.S: branches back into its first bytes */
extern int scale(int x);        /* ipa.c: callers rely on its registers */
extern int scale_sum(int n);    /* ipa.c: such a caller */
extern int lib_sum(int n);      /* ipa.c: calls lib_compute through the PLT */

static void *blocker(void *arg)
{
	(void)arg;
	block_forever();
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
	{ "compute", compute }, { "secret", secret },   { "lib_compute", lib_compute },
	{ "dup_a", dup_a },     { "dup_b", dup_b },     { "tiny", tiny },
	{ "strlen", call_strlen }, { "inl_scale", inl_scale }, { "uses_inline", uses_inline },
	{ "loopy", loopy },     { "scale", scale },     { "scale_sum", scale_sum },
	{ "lib_sum", lib_sum },
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

static void *worker(void *arg)
{
	struct table *t = arg;
	int (*volatile fn)(int) = compute;

	for (;;) {
		int g = atomic_load(&gen), v = fn(21), i;

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

int main(int argc, char **argv)
{
	char line[256], name[64];
	int i, n = 0, arg;

	if (argc == 3 && !strcmp(argv[1], "-s")) {
		for (i = 0; i < atoi(argv[2]); i++) {
			pthread_t th;

			pthread_create(&th, NULL, sleeper, NULL);
		}
	}
	if (argc == 3 && !strcmp(argv[1], "-t"))
		n = atoi(argv[2]);
	if (n > MAXT)
		n = MAXT;
	for (i = 0; i < n; i++) {
		pthread_t th;

		atomic_store(&tables[i].gen, -1);
		pthread_create(&th, NULL, worker, &tables[i]);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
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
		} else if (!strncmp(line, "reset", 5)) {
			atomic_fetch_add(&gen, 1);
			printf("ok\n");
		} else if (!strncmp(line, "stats", 5)) {
			stats(n);
		} else if (!strncmp(line, "mdwe", 4)) {
			/* PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1 */
			printf("%s\n", prctl(65, 1, 0, 0, 0) ? "mdwe-unsupported" : "ok");
		} else if (!strncmp(line, "strlen-null", 11)) {
			const char *volatile none = NULL;

			printf("%zu\n", strlen(none)); /* crashes unless patched */
		} else if (sscanf(line, "strlen %63s", name) == 1) {
			/* libc's strlen, an IFUNC, through the PLT */
			printf("%zu\n", strlen(name));
		} else if (!strncmp(line, "nap", 3)) {
			pthread_t th;

			pthread_create(&th, NULL, napping, NULL);
			pthread_setname_np(th, "napper");
			printf("ok\n");
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
	return 0;
}
