// SPDX-License-Identifier: MIT
/* Unit tests of "may this function receive arguments on the stack?", read
 * from the DWARF of a patch object compiled here as ovup compiles patches
 * (-O2 -g -fPIC), with the SysV classification; a wrapper would move such
 * arguments, so ovup refuses to wrap those functions. */
#include "elf/elf.h"
#include "util/util.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char src[] =
	"#include <stdarg.h>\n"
	"struct two { long a, b; };\n"
	"struct big { long a, b, c; };\n"
	"struct dd { double x, y; };\n"
	"struct ld { long double x; };\n"
	"struct __attribute__((packed)) pk { char c; int i; };\n"
	"typedef const struct two ctwo;\n"
	"int six(int a, int b, int c, int d, int e, int f) { return a + b + c + d + e + f; }\n"
	"int seven(int a, int b, int c, int d, int e, int f, int g) { return a + b + c + d + e + f + g; }\n"
	"double eight(double a, double b, double c, double d, double e, double f, double g, double h)\n"
	"{ return a + b + c + d + e + f + g + h; }\n"
	"double nine(double a, double b, double c, double d, double e, double f, double g, double h,\n"
	"            double i) { return a + b + c + d + e + f + g + h + i; }\n"
	"long small(struct two t, long a, long b, long c, long d) { return t.a + t.b + a + b + c + d; }\n"
	"long split(struct two t, long a, long b, long c, long d, long e) { return t.a + a + b + c + d + e; }\n"
	"long big(struct big b) { return b.a + b.c; }\n"
	"struct big ret_big(long a, long b, long c, long d, long e) { struct big r = { a + b, c + d, e }; return r; }\n"
	"struct big ret_big6(long a, long b, long c, long d, long e, long f) { struct big r = { a + b, c + d, e + f }; return r; }\n"
	"double sse_pair(struct dd v, int a, int b, int c, int d, int e, int f) { return v.x + a + b + c + d + e + f; }\n"
	"long double ldret(long double x) { return x * 2; }\n"
	"long ldstruct(struct ld v) { return (long)v.x; }\n"
	"int packed(struct pk p) { return p.i; }\n"
	"int vararg(int n, ...) { va_list ap; va_start(ap, n); n += va_arg(ap, int); va_end(ap); return n; }\n"
	"long typedefed(ctwo t, const long a, volatile long b, long c, long d) { return t.a + a + b + c + d; }\n"
	"__int128 wide(__int128 a, __int128 b, __int128 c) { return a + b + c; }\n"
	"__int128 wider(__int128 a, __int128 b, __int128 c, long d) { return a + b + c + d; }\n"
	"void nothing(void) { }\n";

int main(void)
{
	char *dir = ovup_tmpdir(), *c, *o, *cmd, why[256];
	static const struct {
		const char *fn;
		int want;
		const char *why;
	} cases[] = {
		{ "six", 0, NULL },
		{ "seven", 1, "7 integer or pointer arguments" },
		{ "eight", 0, NULL },
		{ "nine", 1, "9 floating-point" },
		{ "small", 0, NULL },
		{ "split", 1, "7 integer" }, /* a struct never splits: all of it to memory */
		{ "big", 1, "argument 1 ('b') is passed in memory" },
		{ "ret_big", 0, NULL },      /* the hidden return pointer takes rdi: 6 */
		{ "ret_big6", 1, "7 integer" },
		{ "sse_pair", 0, NULL },     /* two SSE eightbytes, six integers */
		{ "ldret", 1, "passed in memory" },
		{ "ldstruct", 1, "passed in memory" },
		{ "packed", 1, "passed in memory" },
		{ "vararg", 1, "variable arguments" },
		{ "typedefed", 0, NULL },
		{ "wide", 0, NULL },
		{ "wider", 1, "7 integer" },
		{ "nothing", 0, NULL },
	};
	size_t i;
	int ret;

	c = ovup_xasprintf("%s/p.c", dir);
	o = ovup_xasprintf("%s/p.o", dir);
	ovup_write_file_atomic(c, src, strlen(src));
	cmd = ovup_xasprintf("cc -c -O2 -g -fPIC -o %s %s", o, c);
	ok(system(cmd) == 0, "the test object compiles");
	for (i = 0; i < OVUP_ARRAY_SIZE(cases); i++) {
		ret = ovup_dwarf_stack_args(o, cases[i].fn, why, sizeof(why));
		is_int(ret, cases[i].want, "%s: %s", cases[i].fn,
		       cases[i].want ? "may take arguments on the stack" : "all in registers");
		if (cases[i].why)
			has_str(why, cases[i].why, "%s: ... with the reason", cases[i].fn);
	}
	is_int(ovup_dwarf_stack_args(o, "absent", why, sizeof(why)), -ENOENT,
	       "a function the object does not define: -ENOENT");
	free(cmd);
	cmd = ovup_xasprintf("cc -c -O2 -g0 -fPIC -o %s %s", o, c);
	ok(system(cmd) == 0, "the object compiles without debug information");
	is_int(ovup_dwarf_stack_args(o, "six", why, sizeof(why)), -ENOENT,
	       "without DWARF nothing can be said: -ENOENT");
	ovup_tmpdir_remove(dir);
	free(cmd);
	free(c);
	free(o);
	free(dir);
	return tap_done();
}
