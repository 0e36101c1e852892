// SPDX-License-Identifier: MIT
/*
 * ovup's own scheduling, so that a target that keeps every CPU busy
 * cannot starve the run that patches it.  Measured on two cores with 100
 * threads spinning in the patched function: the whole apply took 6.2 s
 * at nice 0 (ovup, cc and ld got 2 of 101 shares) and 0.4 s at -20; its
 * pause 43-195 ms, and 1.4-1.8 ms with ovup real-time while it holds the
 * threads.  The CPU time ovup spends is the same either way; only its
 * place in the queue changes.
 *   - the whole run at nice -20 (cc and ld inherit it);
 *   - SCHED_FIFO while the target's threads are held (from the first
 *     interrupt to the last release) if one of them was running, never
 *     inherited by a child.  Against sleeping threads it only costs: a
 *     real-time tracer is not woken on the CPU the stopping thread
 *     leaves, so every stop becomes a wake-up of another CPU (100 idle
 *     threads: a pause of 0.26 ms, 0.10 ms without);
 *   - OVUP_SCHED=keep leaves both as the caller set them.
 * Where ovup may not (no CAP_SYS_NICE), it runs as it was; -v says so.
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define OVUP_NICE (-20)

static int enabled = -1, in_rt, old_policy;
static struct sched_param old_param;

static int boost(void)
{
	if (enabled < 0) {
		const char *e = getenv("OVUP_SCHED");

		enabled = !(e && !strcmp(e, "keep"));
	}
	return enabled;
}

void ovup_sched_init(void)
{
	if (!boost())
		return;
	if (setpriority(PRIO_PROCESS, 0, OVUP_NICE) < 0)
		ovup_info("running at the caller's priority: cannot raise it to nice %d: %m",
			  OVUP_NICE);
}

void ovup_sched_hold_begin(void)
{
	struct sched_param rt = { .sched_priority = 1 };

	if (!boost() || in_rt)
		return;
	old_policy = sched_getscheduler(0);
	if (old_policy < 0 || sched_getparam(0, &old_param) < 0)
		return;
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) < 0) {
		ovup_info("holding the threads at the caller's priority: cannot use "
			  "SCHED_FIFO: %m");
		return;
	}
	in_rt = 1;
}

void ovup_sched_hold_end(void)
{
	if (!in_rt)
		return;
	in_rt = 0;
	if (sched_setscheduler(0, old_policy, &old_param) < 0)
		ovup_info("cannot return to scheduling policy %d: %m", old_policy);
}
