// SPDX-License-Identifier: MIT
/* Two translation units with a static function of the same name. */
static __attribute__((noinline, noclone, used)) int helper(int x)
{
	return x + 100;
}

int dup_a(int x)
{
	return helper(x);
}
