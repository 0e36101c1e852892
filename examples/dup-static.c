// SPDX-License-Identifier: MIT
/*
 * A static function whose name two source files of the program use: the
 * patch says which one it fixes.  (tests/victims: dup_a.c and dup_b.c each
 * have a static helper().)
 *   ovup apply -p PID examples/dup-static.c
 */
#include <ovup.h>

OVUP_FILE(helper, "dup_b.c"); /* not the helper of dup_a.c */

int helper(int x)
{
	return x + 250; /* was x + 200 */
}
