// SPDX-License-Identifier: MIT
/*
 * Register contracts (GCC -fipa-ra, on at -O2): scale() writes only eax,
 * and GCC, compiling scale_sum() in the same unit, knows it - so the loop
 * keeps its counter, sum and bound in call-clobbered registers across the
 * call instead of saving callee-saved ones.  A replacement of scale() that
 * writes one of those registers breaks scale_sum() unless ovup wraps it.
 * lib_sum() calls libvictim.so's lib_compute() through the PLT: GCC knows
 * nothing of it and keeps nothing in call-clobbered registers.
 * tests/proc/85-registers.t checks the disassembly says so.
 */
#define NOINLINE __attribute__((noinline, noclone, used))

extern int lib_compute(int x); /* libvictim.so */

NOINLINE int scale(int x)
{
	return x * 3 + 7;
}

NOINLINE int scale_sum(int n)
{
	int acc = 0, i;

	for (i = 0; i < n; i++)
		acc += scale(i) ^ i;
	return acc;
}

NOINLINE int lib_sum(int n)
{
	int acc = 0, i;

	for (i = 0; i < n; i++)
		acc += lib_compute(i) ^ i;
	return acc;
}
