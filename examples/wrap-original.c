// SPDX-License-Identifier: MIT
/*
 * A fix that validates an argument and then runs the old code for the
 * rest: OVUP_ORIG(compute) is the function as it was before this patch.
 *   ovup apply -p PID examples/wrap-original.c
 */
#include <ovup.h>

int compute(int x)
{
	if (x < 0)
		return 0; /* the fix: negative input is refused */
	return OVUP_ORIG(compute)(x);
}
