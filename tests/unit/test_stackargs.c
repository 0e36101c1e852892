// SPDX-License-Identifier: MIT
/* Unit tests of how a patch's function is called, read from the DWARF of
 * an object compiled here as ovup compiles patches (-O2 -g -fPIC), with
 * the SysV classification: may it receive arguments on the stack (which a
 * wrapper would move, so ovup refuses to wrap it), and which registers
 * carry its return value (which a wrapper must not restore). */
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
	"void nothing(void) { }\n"
	"struct dd retdd(double a) { struct dd r = { a, a * 2 }; return r; }\n"
	"struct mix { long a; double b; };\n"
	"struct mix retmix(long a) { struct mix r = { a, (double)a }; return r; }\n"
	"typedef double v4d __attribute__((vector_size(32)));\n"
	"v4d retv4d(double a) { v4d r = { a, a, a, a }; return r; }\n"
	"_Complex double retcd(double a) { return a; }\n";

int main(void)
{
	char *dir = ovup_tmpdir(), *c, *o, *cmd;
	static const struct {
		const char *fn;
		int want;
		const char *why;
		unsigned ret_int, ret_sse;
	} cases[] = {
		{ "six", 0, NULL, 1, 0 },
		{ "seven", 1, "7 integer or pointer arguments", 1, 0 },
		{ "eight", 0, NULL, 0, 1 },
		{ "nine", 1, "9 floating-point", 0, 1 },
		{ "small", 0, NULL, 1, 0 },
		{ "split", 1, "7 integer", 1, 0 }, /* a struct never splits: all of it to memory */
		{ "big", 1, "argument 1 ('b') is passed in memory", 1, 0 },
		{ "ret_big", 0, NULL, 1, 0 }, /* the hidden return pointer takes rdi: 6 */
		{ "ret_big6", 1, "7 integer", 1, 0 },
		{ "sse_pair", 0, NULL, 0, 1 },            /* two SSE eightbytes, six integers */
		{ "ldret", 1, "passed in memory", 0, 0 }, /* returned in st(0) */
		{ "ldstruct", 1, "passed in memory", 1, 0 },
		{ "packed", 1, "passed in memory", 1, 0 },
		{ "vararg", 1, "variable arguments", 1, 0 },
		{ "typedefed", 0, NULL, 1, 0 },
		{ "wide", 0, NULL, 2, 0 },
		{ "wider", 1, "7 integer", 2, 0 },
		{ "nothing", 0, NULL, 0, 0 },
		{ "retdd", 0, NULL, 0, 2 },
		{ "retmix", 0, NULL, 1, 1 },
		{ "retcd", 0, NULL, 0, 2 },
	};
	struct ovup_dwarf_call call;
	size_t i;
	int ret;

	c = ovup_xasprintf("%s/p.c", dir);
	o = ovup_xasprintf("%s/p.o", dir);
	ovup_write_file_atomic(c, src, strlen(src));
	cmd = ovup_xasprintf("cc -c -O2 -g -fPIC -Wno-psabi -o %s %s", o, c);
	ok(system(cmd) == 0, "the test object compiles");
	for (i = 0; i < OVUP_ARRAY_SIZE(cases); i++) {
		ret = ovup_dwarf_call(o, cases[i].fn, &call);
		ok(ret == 0 && call.stack_args == cases[i].want, "%s: %s", cases[i].fn,
		   cases[i].want ? "may take arguments on the stack" : "all in registers");
		if (cases[i].why)
			has_str(call.why, cases[i].why, "%s: ... with the reason", cases[i].fn);
		ok(!call.ret_unknown && call.ret_int == cases[i].ret_int &&
			   call.ret_sse == cases[i].ret_sse,
		   "%s: returns in %u integer and %u SSE registers", cases[i].fn, cases[i].ret_int,
		   cases[i].ret_sse);
	}
	ok(!ovup_dwarf_call(o, "retv4d", &call) && call.ret_unknown,
	   "a 32-byte vector returned: where depends on -mavx, so it is refused");
	has_str(call.why, "cannot tell which registers hold its return value",
		"... with the reason");
	is_int(ovup_dwarf_call(o, "absent", &call), -ENOENT,
	       "a function the object does not define: -ENOENT");
	free(cmd);
	cmd = ovup_xasprintf("cc -c -O2 -g0 -fPIC -Wno-psabi -o %s %s", o, c);
	ok(system(cmd) == 0, "the object compiles without debug information");
	is_int(ovup_dwarf_call(o, "six", &call), -ENOENT,
	       "without DWARF nothing can be said: -ENOENT");
	ovup_tmpdir_remove(dir);
	free(cmd);
	free(c);
	free(o);
	free(dir);
	return tap_done();
}
