// SPDX-License-Identifier: MIT
/* The second 'helper', which tests pick with OVUP_FILE. */
static __attribute__((noinline, noclone, used)) int helper(int x)
{
	return x + 200;
}

int dup_b(int x)
{
	return helper(x);
}
