// SPDX-License-Identifier: MIT
/* A shared library of the victim: ovup must find it at its load bias. */
int lib_scale = 3;
__thread int lib_tls = 20; /* thread-local, in static TLS (loaded at start) */

__attribute__((noinline)) int lib_compute(int x)
{
	return x * lib_scale + 7;
}
