// SPDX-License-Identifier: MIT
/*
 * The test victim: a real process whose functions ovup replaces.  It reads
 * commands on stdin and answers on stdout, so a test can ask "what does
 * compute(5) return now?" at a moment of its choosing:
 *   call NAME ARG   -> the result of NAME(ARG)
 *   reset / stats   -> worker threads count compute(21)'s results from now on
 *   mdwe            -> forbid gaining exec permission (PR_SET_MDWE)
 *   quit
 * `victim -t N` starts N threads calling compute(21) in a tight loop.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone, used))

int offset = 1;       /* a variable patches read */
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

extern int lib_compute(int x);  /* libvictim.so */
extern int dup_a(int x);        /* dup_a.c: static helper */
extern int dup_b(int x);        /* dup_b.c: another static helper */
extern int tiny(int x);         /* tiny.S: 3 bytes */

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
	{ "strlen", call_strlen },
};

#define MAXV 8
static atomic_int gen;
static struct {
	atomic_int value[MAXV];
	atomic_long count[MAXV];
} seen;

static void record(int v)
{
	int i;

	for (i = 0; i < MAXV; i++) {
		int cur = atomic_load(&seen.value[i]);

		if (cur == v) {
			atomic_fetch_add(&seen.count[i], 1);
			return;
		}
		if (cur == 0) {
			int zero = 0;

			if (atomic_compare_exchange_strong(&seen.value[i], &zero, v) || zero == v) {
				atomic_fetch_add(&seen.count[i], 1);
				return;
			}
			i--; /* someone else took the slot: look at it again */
		}
	}
}

static void *worker(void *arg)
{
	int (*volatile fn)(int) = compute;

	(void)arg;
	for (;;) {
		int g = atomic_load(&gen), v = fn(21);

		/* count only calls that began after the last reset */
		if (g == atomic_load(&gen))
			record(v);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char line[256], name[64];
	int i, n = 0, arg;

	if (argc == 3 && !strcmp(argv[1], "-t"))
		n = atoi(argv[2]);
	for (i = 0; i < n; i++) {
		pthread_t th;

		pthread_create(&th, NULL, worker, NULL);
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
			for (i = 0; i < MAXV; i++) {
				atomic_store(&seen.value[i], 0);
				atomic_store(&seen.count[i], 0);
			}
			atomic_fetch_add(&gen, 1);
			printf("ok\n");
		} else if (!strncmp(line, "stats", 5)) {
			for (i = 0; i < MAXV; i++)
				if (atomic_load(&seen.value[i]))
					printf("%d:%ld ", atomic_load(&seen.value[i]),
					       atomic_load(&seen.count[i]));
			printf("\n");
		} else if (!strncmp(line, "mdwe", 4)) {
			/* PR_SET_MDWE = 65, PR_MDWE_REFUSE_EXEC_GAIN = 1 */
			printf("%s\n", prctl(65, 1, 0, 0, 0) ? "mdwe-unsupported" : "ok");
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("error unknown command\n");
		}
	}
	return 0;
}
