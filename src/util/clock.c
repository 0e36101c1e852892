// SPDX-License-Identifier: MIT
/*
 * Monotonic time and sleeping through signals.
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <time.h>

uint64_t ovup_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ovup_sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
