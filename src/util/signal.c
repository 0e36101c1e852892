// SPDX-License-Identifier: MIT
/*
 * Signals: finish or roll back, never stop half-way.  SIGINT, SIGTERM and
 * SIGHUP only set a flag that the procedure checks where stopping is free.
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

volatile sig_atomic_t ovup_signalled;

static void on_signal(int sig)
{
	ovup_signalled = sig;
}

void ovup_signals_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < OVUP_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* a closed stdout must not kill ovup between two writes to a target */
	signal(SIGPIPE, SIG_IGN);
}

int ovup_check_signal(const char *what)
{
	int sig = ovup_signalled;

	if (!sig)
		return 0;
	return ovup_err(-EINTR, "interrupted by SIG%s; %s", sigabbrev_np(sig), what);
}
