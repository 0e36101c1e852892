// SPDX-License-Identifier: MIT
/*
 * The peer method of the pause benchmark: every thread of a process
 * stopped one after the other the way gdb and libcare do it
 * (PTRACE_ATTACH, then waitpid until that thread reports its SIGSTOP),
 * its registers read, then every thread detached.  Prints the pause in
 * microseconds: from the first attach to the last detach, the time the
 * first thread stopped is held, as ovup's own figure counts it.
 *   seqattach PID
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* waits for tid's SIGSTOP; any other signal is passed on at once */
static int wait_sigstop(pid_t tid)
{
	int st;

	for (;;) {
		if (waitpid(tid, &st, __WALL) < 0)
			return -1;
		if (!WIFSTOPPED(st))
			return -1;
		if (WSTOPSIG(st) == SIGSTOP)
			return 0;
		ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(st));
	}
}

int main(int argc, char **argv)
{
	static pid_t tids[65536];
	struct user_regs_struct regs;
	char path[64];
	struct dirent *de;
	size_t n = 0, i;
	double t0;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: seqattach PID\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/task", argv[1]);
	d = opendir(path);
	if (!d) {
		perror(path);
		return 1;
	}
	while ((de = readdir(d)) && n < sizeof(tids) / sizeof(tids[0]))
		if (atoi(de->d_name) > 0)
			tids[n++] = atoi(de->d_name);
	closedir(d);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		if (ptrace(PTRACE_ATTACH, tids[i], 0, 0) < 0 || wait_sigstop(tids[i]) ||
		    ptrace(PTRACE_GETREGS, tids[i], 0, &regs) < 0) {
			fprintf(stderr, "seqattach: thread %d: %s\n", tids[i], strerror(errno));
			n = i;
			break;
		}
	}
	for (i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, tids[i], 0, 0);
	printf("%.1f\n", now_us() - t0);
	return 0;
}
