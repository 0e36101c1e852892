// SPDX-License-Identifier: MIT
/* Unit tests of command-line parsing, including what must be refused. */
#include "cli/cmdline.h"
#include "cli/json.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
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

/* getopt_long's rules, which the hand-made parser before it lacked */
static void getopt_rules(void)
{
	struct ovup_cmdline c;

	is_int(PARSE(&c, "apply", "-kn", "x.c"), 0, "combined short options -kn");
	ok(c.kernel && c.dry_run, "... kernel and dry run");
	is_int(PARSE(&c, "apply", "-nk", "x.c"), 0, "... and -nk");
	ok(c.kernel && c.dry_run, "... the same");
	is_int(PARSE(&c, "apply", "-np5", "x.c"), 0, "-np5: a value at the end of a cluster");
	ok(c.pid == 5 && c.dry_run, "... pid 5, dry run");
	is_int(PARSE(&c, "apply", "-nx", "x.c"), -EINVAL, "an unknown option inside a cluster");
	has_str(c.err, "no option '-x'", "... names that one letter");
	is_int(PARSE(&c, "list", "-q", "-p", "1"), 0, "-q");
	ok(c.quiet && !c.verbose, "... quiet");
	is_int(PARSE(&c, "list", "--quiet", "-k"), 0, "--quiet");
	ok(c.quiet, "... quiet");
	is_int(PARSE(&c, "list", "-qv", "-k"), -EINVAL, "-q with -v");
	has_str(c.err, "either -v", "... one or the other");
	is_int(PARSE(&c, "-V"), 0, "ovup -V");
	ok(c.version, "... version");
	is_int(PARSE(&c, "--version"), 0, "ovup --version");
	ok(c.version, "... version");
	is_int(PARSE(&c, "list", "-V"), 0, "ovup list -V: no target needed");
	ok(c.version, "... version");
	is_int(PARSE(&c, "apply", "-p", "1", "-p", "2", "x.c"), -EINVAL, "-p twice");
	has_str(c.err, "option '-p': the target is already pid 1",
		"... names the option and the first");
	is_int(PARSE(&c, "apply", "-p", "1", "-k", "x.c"), -EINVAL, "-p then -k");
	has_str(c.err, "option '-k'", "... names -k");
	has_str(c.err, "give one target, -p PID or -k", "... and says what to give");
	is_int(PARSE(&c, "apply", "-k", "--pid=3", "x.c"), -EINVAL, "-k then --pid");
	has_str(c.err, "option '--pid': the target is already the kernel", "... names --pid");
	is_int(PARSE(&c, "list", "-k", "-k"), -EINVAL, "-k twice");
	is_int(PARSE(&c, "list", "-p", "1", "--json", "--frob"), -EINVAL,
	       "a usage error under --json");
	ok(c.json, "... keeps json set, for the error object");
	is_int(PARSE(&c, "help", "nosuch"), -EINVAL, "help for an unknown verb");
	has_str(c.err, "unknown verb 'nosuch'", "... names it");
	is_int(PARSE(&c, "apply", "-p", "1", "x.c", "--"), 0, "'--' with no flags after it");
	ok(c.cflags && c.ncflags == 0, "... no flags");
	is_int(PARSE(&c, "apply", "-k", "--name", "--", "x.c"), 0, "'--' as the value of --name");
	ok(!c.cflags && !strcmp(c.name, "--") && c.nargs == 1, "... is the name, not the end");
}

/* each verb opens its target as its table entry says */
static void open_modes(void)
{
	struct ovup_cmdline c;

	PARSE(&c, "list", "-k");
	is_int(ovup_cmdline_open_mode(&c), OVUP_OPEN_READ, "list -k reads the module's record");
	PARSE(&c, "list", "-p", "1");
	is_int(ovup_cmdline_open_mode(&c), OVUP_OPEN_WRITE, "list -p settles, so it may write");
	PARSE(&c, "apply", "-k", "-n", "x.c");
	is_int(ovup_cmdline_open_mode(&c), OVUP_OPEN_READ, "a dry run only reads");
	PARSE(&c, "apply", "-p", "1", "x.c");
	is_int(ovup_cmdline_open_mode(&c), OVUP_OPEN_WRITE, "apply writes");
	PARSE(&c, "build", "-k", "x.c", "-o", "x.o");
	is_int(ovup_cmdline_open_mode(&c), OVUP_OPEN_HEADERS,
	       "build -k is for the installed headers");
	PARSE(&c, "symbols", "-p", "1");
	is_int(ovup_cmdline_open_mode(&c), OVUP_OPEN_READ, "symbols only reads");
}

/* the JSON writer: commas, nesting, escaping, addresses as strings */
static void json_writer(void)
{
	struct ovup_json j;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ovup_json_init(&j, f);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "s", "a\"b\\c\n\x01");
	ovup_json_addr(&j, "addr", 0xffffffff81234560ull);
	ovup_json_u64(&j, "n", 18446744073709551615ull);
	ovup_json_i64(&j, "i", -3);
	ovup_json_array(&j, "a");
	ovup_json_bool(&j, NULL, 1);
	ovup_json_bool(&j, NULL, 0);
	ovup_json_null(&j, NULL);
	ovup_json_object(&j, NULL);
	ovup_json_end(&j);
	ovup_json_array(&j, NULL);
	ovup_json_end(&j);
	ovup_json_end(&j);
	ovup_json_str(&j, "z", NULL);
	ovup_json_end(&j);
	fclose(f);
	is_str(out,
	       "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\",\"addr\":\"0xffffffff81234560\","
	       "\"n\":18446744073709551615,\"i\":-3,\"a\":[true,false,null,{},[]],\"z\":null}\n",
	       "JSON: commas, nesting, escapes, an address as a string, one line");
	free(out);
}

int main(void)
{
	struct ovup_cmdline c;

	is_int(PARSE(&c, "apply", "-p", "42", "fix.c"), 0, "apply -p 42 fix.c");
	ok(c.pid == 42 && c.nargs == 1 && !c.kernel, "... pid 42, one argument");
	is_str(c.args[0], "fix.c", "... the patch");
	is_int(c.retries, 50, "... default retries");
	is_int(PARSE(&c, "apply", "--pid=7", "--dry-run", "--name", "n1", "x.c", "--", "-I/inc",
		     "-DX"),
	       0, "long options, --opt=value, and compiler flags after --");
	ok(c.pid == 7 && c.dry_run && c.ncflags == 2, "... pid, dry run, two flags");
	is_str(c.name, "n1", "... the name");
	is_str(c.cflags[1], "-DX", "... flags in order");
	is_int(PARSE(&c, "apply", "-p99", "-n", "--json", "--retries", "3", "x.c"), 0,
	       "-p99 -n --json");
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
	getopt_rules();
	open_modes();
	json_writer();
	return tap_done();
}
