// SPDX-License-Identifier: MIT
/*
 * sleepers N: starts N threads that sleep for ever (pause()), says
 * "ready" on stdout, and sleeps too until killed.  Threads with small
 * stacks, so that 5,000 sleeping tasks fit in a small guest.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 0;
	pthread_attr_t a;
	pthread_t t;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&t, &a, sleeper, NULL)) {
			fprintf(stderr, "sleepers: thread %ld: cannot create\n", i);
			return 1;
		}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
