// SPDX-License-Identifier: MIT
/* Two translation units with a static function of the same name. */
static __attribute__((noinline, noclone, used)) int helper(int x)
{
	volatile int k = 100; /* big enough for a 5-byte jump */

	return x + k;
}

int dup_a(int x)
{
	return helper(x);
}
