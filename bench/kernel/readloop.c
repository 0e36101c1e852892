// SPDX-License-Identifier: MIT
/*
 * Guest-side timer for bench/kernel-run (static binary):
 *   readloop calls FILE N ROUNDS   ns per read of FILE from offset 0
 *                                  (each read calls its show function once),
 *                                  median over ROUNDS
 *   readloop time CMD [ARGS...]    wall time of CMD in ms (its stdout dropped)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "calls")) {
		int fd = open(argv[2], O_RDONLY), rounds = atoi(argv[4]), r;
		long n = atol(argv[3]), i;
		double *ns = calloc((size_t)rounds, sizeof(*ns));
		char buf[4096];

		if (fd < 0 || rounds < 1 || !ns) {
			perror("readloop");
			return 1;
		}
		for (r = 0; r < rounds; r++) {
			double t0 = now();

			for (i = 0; i < n; i++)
				if (pread(fd, buf, sizeof(buf), 0) <= 0)
					return 1;
			ns[r] = (now() - t0) / (double)n;
		}
		qsort(ns, (size_t)rounds, sizeof(*ns), cmp);
		printf("%.0f\n", ns[rounds / 2]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "time")) {
		double t0 = now();
		int st;
		pid_t pid = fork();

		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			dup2(null, 1); /* only the time goes to stdout */
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		printf("%.1f\n", (now() - t0) / 1e6);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	fprintf(stderr, "usage: readloop calls FILE N ROUNDS | readloop time CMD...\n");
	return 2;
}
