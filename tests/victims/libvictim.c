// SPDX-License-Identifier: MIT
/* A shared library of the victim: ovup must find it at its load bias. */
int lib_scale = 3;

__attribute__((noinline)) int lib_compute(int x)
{
	return x * lib_scale + 7;
}
