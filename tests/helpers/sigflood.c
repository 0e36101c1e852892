// SPDX-License-Identifier: MIT
/*
 * sigflood PID TID FROM N: queues N real-time signals SIGRTMIN+1 to thread
 * TID of process PID, numbered FROM.. in si_value (rt_tgsigqueueinfo), waiting
 * whenever the target's queue is full, so that every one is sent; prints
 * how many were sent.  The victim's "rtsig" handler counts them and checks
 * their order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long pid, tid, from, n, i, sent = 0;

	if (argc != 5)
		return 2;
	pid = atol(argv[1]);
	tid = atol(argv[2]);
	from = atol(argv[3]);
	n = atol(argv[4]);
	for (i = from; i < from + n; i++) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = SIGRTMIN + 1;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = (int)i;
		while (syscall(SYS_rt_tgsigqueueinfo, pid, tid, SIGRTMIN + 1, &si) < 0) {
			struct timespec ts = { 0, 200000 };

			if (errno != EAGAIN) {
				fprintf(stderr, "sigflood: %s\n", strerror(errno));
				printf("%ld\n", sent);
				return 1;
			}
			nanosleep(&ts, NULL); /* the queue is full: let it drain */
		}
		sent++;
	}
	printf("%ld\n", sent);
	return 0;
}
