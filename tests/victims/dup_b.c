// SPDX-License-Identifier: MIT
/* The second 'helper', which tests pick with OVUP_FILE. */
static __attribute__((noinline, noclone, used)) int helper(int x)
{
	volatile int k = 200; /* big enough for a 5-byte jump */

	return x + k;
}

int dup_b(int x)
{
	return helper(x);
}
