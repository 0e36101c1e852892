// SPDX-License-Identifier: MIT
/*
 * ovup's entry point: parse the command line, open the target, run the
 * verb, and turn the result into one of the documented exit codes.  The
 * only place that prints the error and the only place that exits.
 */
#define _GNU_SOURCE
#include "cmdline.h"
#include "../core/core.h"
#include "../target/target.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef OVUP_VERSION
#define OVUP_VERSION "0.1"
#endif

static int exit_code(int ret)
{
	if (!ret)
		return OVUP_EXIT_OK;
	if (ovup_err_inconsistent())
		return OVUP_EXIT_INCONSISTENT;
	if (ret == -EBUSY)
		return OVUP_EXIT_BUSY;
	return OVUP_EXIT_FAIL;
}

static int open_target(const struct ovup_cmdline *c, int offline, struct ovup_target **t)
{
	if (c->kernel)
		return ovup_target_kernel_open(offline, t);
	return ovup_target_process_open(c->pid, offline, t);
}

int main(int argc, char **argv)
{
	struct ovup_cmdline c;
	struct ovup_target *t = NULL;
	struct ovup_apply_opts ao = { 0 };
	const char *verb;
	int ret, offline;

	if (ovup_cmdline_parse(argc, argv, &c)) {
		fprintf(stderr, "ovup: %s\n", c.err);
		return OVUP_EXIT_USAGE;
	}
	if (c.version) {
		printf("ovup %s\n", OVUP_VERSION);
		return OVUP_EXIT_OK;
	}
	if (c.help || !c.verb) {
		ovup_usage(c.verb, stdout);
		return OVUP_EXIT_OK;
	}
	verb = c.verb->name;
	if (!strcmp(verb, "help")) {
		const struct ovup_verb *v = c.nargs ? ovup_verb_find(c.args[0]) : NULL;

		if (c.nargs && !v) {
			fprintf(stderr, "ovup: unknown verb '%s'; try 'ovup --help'\n", c.args[0]);
			return OVUP_EXIT_USAGE;
		}
		ovup_usage(v, stdout);
		return OVUP_EXIT_OK;
	}
	if (!strcmp(verb, "version")) {
		printf("ovup %s\n", OVUP_VERSION);
		return OVUP_EXIT_OK;
	}
	ovup_verbose = c.verbose;
	ovup_signals_init();
	/* only verbs that change the target lock it and open it for writing */
	offline = !strcmp(verb, "symbols") || !strcmp(verb, "build") ||
		  (!strcmp(verb, "apply") && c.dry_run);
	/* the kernel's record is the module's: list only reads it, and takes
	 * no writer slot (it would queue behind a running apply) */
	if (c.kernel && !strcmp(verb, "list"))
		offline = 1;
	if (c.kernel && !strcmp(verb, "build"))
		offline = 2; /* for the installed headers, not the running kernel */
	ret = open_target(&c, offline, &t);
	if (ret)
		goto out;
	ao.patch = c.nargs ? c.args[0] : NULL;
	ao.name = c.name;
	ao.cflags = c.cflags;
	ao.ncflags = c.ncflags;
	ao.dry_run = c.dry_run;
	ao.json = c.json;
	ao.retries = c.retries;
	if (!strcmp(verb, "apply"))
		ret = ovup_apply(t, &ao);
	else if (!strcmp(verb, "build"))
		ret = ovup_build(t, &ao, c.output);
	else if (!strcmp(verb, "revert"))
		ret = ovup_revert(t, c.nargs ? c.args[0] : NULL, c.retries, c.json);
	else if (!strcmp(verb, "list"))
		ret = ovup_list(t, c.json);
	else if (!strcmp(verb, "symbols"))
		ret = ovup_symbols(t, c.nargs ? c.args[0] : NULL, c.json);
	else
		ret = ovup_err(-EINVAL, "verb '%s' is not implemented", verb);
out:
	if (t)
		t->ops->close(t);
	if (ret) {
		const char *msg = ovup_err_msg();

		fprintf(stderr, "ovup: %s\n", msg ? msg : strerror(-ret));
	}
	return exit_code(ret);
}
