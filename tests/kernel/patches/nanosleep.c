// SPDX-License-Identifier: GPL-2.0
/* A non-tail-call wrapper of do_nanosleep(): a task in nanosleep() sleeps
 * with a return address in it until its sleep ends. */
#include <linux/compiler.h>
#include <linux/hrtimer.h>
#include <ovup.h>

int do_nanosleep(struct hrtimer_sleeper *t, enum hrtimer_mode mode);

static unsigned long ovup_nanosleep_calls;

int do_nanosleep(struct hrtimer_sleeper *t, enum hrtimer_mode mode)
{
	int ret = OVUP_ORIG(do_nanosleep)(t, mode);

	WRITE_ONCE(ovup_nanosleep_calls, ovup_nanosleep_calls + 1);
	return ret;
}
