// SPDX-License-Identifier: MIT
/* Unit tests of command-line parsing, including what must be refused. */
#include "cli/cmdline.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

/* argv must outlive the call: the result points into it */
static char *store[32];

static int parse(struct ovup_cmdline *c, char **argv, size_t n)
{
	memcpy(store, argv, n * sizeof(*argv));
	store[n] = NULL;
	return ovup_cmdline_parse((int)n, store, c);
}

#define ARGV(...) ((char *[]){ "ovup", __VA_ARGS__ })
#define PARSE(c, ...) parse(c, ARGV(__VA_ARGS__), sizeof(ARGV(__VA_ARGS__)) / sizeof(char *))

int main(void)
{
	struct ovup_cmdline c;

	is_int(PARSE(&c, "apply", "-p", "42", "fix.c"), 0, "apply -p 42 fix.c");
	ok(c.pid == 42 && c.nargs == 1 && !c.kernel, "... pid 42, one argument");
	is_str(c.args[0], "fix.c", "... the patch");
	is_int(c.retries, 50, "... default retries");
	is_int(PARSE(&c, "apply", "--pid=7", "--dry-run", "--name", "n1", "x.c", "--", "-I/inc", "-DX"),
	       0, "long options, --opt=value, and compiler flags after --");
	ok(c.pid == 7 && c.dry_run && c.ncflags == 2, "... pid, dry run, two flags");
	is_str(c.name, "n1", "... the name");
	is_str(c.cflags[1], "-DX", "... flags in order");
	is_int(PARSE(&c, "apply", "-p99", "-n", "--json", "--retries", "3", "x.c"), 0, "-p99 -n --json");
	ok(c.pid == 99 && c.dry_run && c.json && c.retries == 3, "... all taken");
	is_int(PARSE(&c, "revert", "-p", "1"), 0, "revert without a name");
	is_int(c.nargs, 0, "... no name");
	is_int(PARSE(&c, "revert", "-k", "fix"), 0, "revert -k NAME");
	ok(c.kernel && c.nargs == 1, "... kernel target, one name");
	is_int(PARSE(&c, "list", "-p", "5", "--json"), 0, "list --json");
	is_int(PARSE(&c, "symbols", "-p", "5", "comp*"), 0, "symbols with a glob");
	is_int(PARSE(&c, "build", "-p", "5", "x.c", "-o", "x.o"), 0, "build -o");
	is_str(c.output, "x.o", "... output");
	is_int(PARSE(&c, "apply", "--help"), 0, "--help needs no target");
	ok(c.help, "... help is set");
	is_int(PARSE(&c, "--help"), 0, "ovup --help");
	is_int(PARSE(&c, "help", "apply"), 0, "ovup help apply");

	/* what must be refused, each with a reason */
	is_int(PARSE(&c, "apply", "x.c"), -EINVAL, "apply without a target");
	has_str(c.err, "-p PID", "... says how to give one");
	is_int(PARSE(&c, "apply", "-p", "1", "-k", "x.c"), -EINVAL, "both targets");
	is_int(PARSE(&c, "apply", "-p", "abc", "x.c"), -EINVAL, "a pid that is no number");
	has_str(c.err, "invalid pid 'abc'", "... names it");
	is_int(PARSE(&c, "apply", "-p", "-3", "x.c"), -EINVAL, "a negative pid");
	is_int(PARSE(&c, "apply", "-p", "0", "x.c"), -EINVAL, "pid 0");
	is_int(PARSE(&c, "apply", "-p", "99999999999", "x.c"), -EINVAL, "a pid beyond int");
	is_int(PARSE(&c, "apply", "-p", "1"), -EINVAL, "apply without a patch");
	is_int(PARSE(&c, "apply", "-p", "1", "a.c", "b.c"), -EINVAL, "two patches");
	has_str(c.err, "unexpected argument 'b.c'", "... names the extra one");
	is_int(PARSE(&c, "apply", "-p", "1", "--frobnicate", "a.c"), -EINVAL, "an unknown option");
	has_str(c.err, "--frobnicate", "... names it");
	is_int(PARSE(&c, "list", "-p", "1", "--dry-run"), -EINVAL, "an option of another verb");
	is_int(PARSE(&c, "frob"), -EINVAL, "an unknown verb");
	has_str(c.err, "unknown verb 'frob'", "... names it");
	is_int(PARSE(&c, "apply", "-p"), -EINVAL, "-p without a value");
	is_int(PARSE(&c, "build", "-p", "1", "x.c"), -EINVAL, "build without -o");
	is_int(PARSE(&c, "apply", "-p", "1", "--retries", "x", "a.c"), -EINVAL, "--retries x");
	is_int(PARSE(&c, "list", "-p", "1", "--", "-O0"), -EINVAL, "compiler flags for list");
	is_int(ovup_cmdline_parse(1, (char *[]){ "ovup", NULL }, &c), -EINVAL, "no verb at all");
	return tap_done();
}
