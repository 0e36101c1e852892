// SPDX-License-Identifier: MIT
/* A shared library of the victim: ovup must find it at its load bias. */
int lib_scale = 3;
__thread int lib_tls = 20; /* thread-local, in static TLS (loaded at start) */

__attribute__((noinline)) int lib_compute(int x)
{
	return x * lib_scale + 7;
}

/* The executable defines overridden() too and interposes it: this
 * library's own call goes through its PLT, to the executable's. */
__attribute__((noinline)) int overridden(int x)
{
	return x + 1000;
}

int lib_overridden(int x)
{
	return overridden(x);
}

/* Protected: this library's own calls stay here, while the executable's
 * go to the executable's twin().  Two definitions both in use. */
__attribute__((noinline, visibility("protected"))) int twin(int x)
{
	return x + 2000;
}

int lib_twin(int x)
{
	return twin(x);
}
