// SPDX-License-Identifier: GPL-2.0
/* A non-tail-call wrapper of schedule(): every task asleep in schedule()
 * has a return address in it, some for ever. */
#include <linux/compiler.h>
#include <linux/sched.h>
#include <ovup.h>

static unsigned long ovup_sched_calls;

asmlinkage __visible void schedule(void)
{
	OVUP_ORIG(schedule)();
	WRITE_ONCE(ovup_sched_calls, ovup_sched_calls + 1);
}
