// SPDX-License-Identifier: GPL-2.0
/* A wrapper of schedule_idle(): every CPU's idle task is switched out
 * inside it (under the original, reached through OVUP_ORIG), so an idle
 * CPU is parked in patch code whenever something else runs there. */
#include <linux/compiler.h>
#include <ovup.h>

void schedule_idle(void);

static unsigned long ovup_idle_calls;

void schedule_idle(void)
{
	OVUP_ORIG(schedule_idle)();
	/* after the call: it must return here, not be a tail call */
	WRITE_ONCE(ovup_idle_calls, ovup_idle_calls + 1);
}
