// SPDX-License-Identifier: MIT
/*
 * ovup's entry point: parse the command line, open the target as the
 * verb's table entry says, run the verb, and turn the result into one of
 * the documented exit codes.  The only place that prints the error and
 * the only place that exits.
 */
#define _GNU_SOURCE
#include "all.h"
#include "installed.h"
#include "cmdline.h"
#include "render.h"
#include "run.h"
#include "../core/core.h"
#include "../target/target.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* The error: one line on stderr, and with --json an object on stdout. */
static int report(const struct ovup_cmdline *c, const char *msg, int code)
{
	fprintf(stderr, "ovup: %s\n", msg);
	if (c->json)
		ovup_render_json_error(msg, code);
	return code;
}

static int open_target(const struct ovup_cmdline *c, struct ovup_target **t)
{
	enum ovup_open_mode mode = ovup_cmdline_open_mode(c);

	if (c->kernel)
		return ovup_target_kernel_open(mode, t);
	if (c->object || !c->pid)
		return ovup_target_file_open(c->object, t);
	return ovup_target_process_open(c->pid, mode, t);
}

int main(int argc, char **argv)
{
	struct ovup_cmdline c;
	struct ovup_target *t = NULL;
	const char *msg;
	int ret;

	if (ovup_cmdline_parse(argc, argv, &c))
		return report(&c, c.err, OVUP_EXIT_USAGE);
	if (c.version)
		return ovup_run_version(NULL, &c);
	if (c.help || !c.verb) {
		ovup_usage(c.verb, stdout);
		return OVUP_EXIT_OK;
	}
	ovup_verbose = c.verbose;
	ovup_quiet = c.quiet;
	if (c.installed) {
		ovup_signals_init();
		return ovup_run_installed(&c);
	}
	if (c.all) {
		ovup_signals_init();
		return ovup_run_all(&c);
	}
	if (!c.verb->needs_target) {
		ret = c.verb->run(NULL, &c);
	} else {
		ovup_signals_init();
		ovup_sched_init();
		ret = open_target(&c, &t);
		if (!ret)
			ret = c.verb->run(t, &c);
		if (t)
			t->ops->close(t);
	}
	if (!ret)
		return OVUP_EXIT_OK;
	msg = ovup_err_msg();
	return report(&c, msg ? msg : strerror(-ret), exit_code(ret));
}
