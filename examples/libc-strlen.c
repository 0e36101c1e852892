// SPDX-License-Identifier: MIT
/*
 * A fix in a libc function of a running program: strlen(NULL) returns 0
 * instead of crashing.  strlen is an IFUNC: ovup replaces the
 * implementation this process selected (__strlen_avx2, __strlen_evex, ...),
 * which libc's debug symbols (libc6-dbg) name.  ld.so has a private strlen
 * of its own, hence OVUP_OBJECT.
 *   ovup apply -p PID examples/libc-strlen.c
 */
#include <stddef.h>
#include <ovup.h>

OVUP_OBJECT(strlen, "libc.so.6");

size_t strlen(const char *s)
{
	const char *p = s;

	if (!s)
		return 0; /* the fix */
	while (*p)
		p++;
	return (size_t)(p - s);
}
