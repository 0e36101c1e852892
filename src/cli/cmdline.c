// SPDX-License-Identifier: MIT
/*
 * Parsing `ovup VERB [options] [args] [-- compiler flags]` against the
 * verb table, and printing --help from the same table.
 */
#define _GNU_SOURCE
#include "cmdline.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_HELP                                                                    \
	"  -p, --pid PID     the target: a running process\n"                          \
	"  -k, --kernel      the target: the running kernel (needs ovup.ko)\n"

const struct ovup_verb ovup_verbs[] = {
	{ "apply", "PATCH.c|PATCH.o", 1, 1,
	  OPT_PID | OPT_KERNEL | OPT_JSON | OPT_NAME | OPT_DRY_RUN | OPT_RETRIES | OPT_CFLAGS, 1,
	  "replace functions of the target with those of a patch",
	  TARGET_HELP
	  "      --name NAME   name of the patch (default: the file name without extension)\n"
	  "  -n, --dry-run     print the plan (addresses, jump bytes) without touching the target\n"
	  "      --retries N   times to retry while a thread is in the way (default 50)\n"
	  "      --json        machine-readable output\n"
	  "  -- FLAGS...       extra compiler flags, e.g. -- -I/path/to/headers\n"
	  "\nEach non-static function of PATCH replaces the target's function of that name.\n" },
	{ "build", "PATCH.c", 1, 1, OPT_PID | OPT_KERNEL | OPT_JSON | OPT_OUTPUT | OPT_CFLAGS | OPT_NAME,
	  1, "compile a patch for the target into an object 'apply' accepts",
	  TARGET_HELP
	  "  -o, --output FILE the object to write (required)\n"
	  "      --json        machine-readable output\n"
	  "  -- FLAGS...       extra compiler flags\n"
	  "\nThe object records the build-ids it was resolved against; apply refuses it for "
	  "another build.\n" },
	{ "revert", "[NAME]", 0, 1, OPT_PID | OPT_KERNEL | OPT_JSON | OPT_RETRIES, 1,
	  "undo a patch (the latest one when no NAME is given)",
	  TARGET_HELP
	  "      --retries N   times to retry while a thread is in the way (default 50)\n"
	  "      --json        machine-readable output\n" },
	{ "list", "", 0, 0, OPT_PID | OPT_KERNEL | OPT_JSON, 1,
	  "show the patches applied to the target",
	  TARGET_HELP "      --json        machine-readable output\n" },
	{ "symbols", "[GLOB]", 0, 1, OPT_PID | OPT_KERNEL | OPT_JSON, 1,
	  "list the target's functions and variables (the labels a patch can use)",
	  TARGET_HELP "      --json        machine-readable output\n" },
	{ "help", "[VERB]", 0, 1, 0, 0, "show help for ovup or one verb", "" },
	{ "version", "", 0, 0, 0, 0, "show the version", "" },
};
const size_t ovup_nverbs = sizeof(ovup_verbs) / sizeof(ovup_verbs[0]);

const struct ovup_verb *ovup_verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < ovup_nverbs; i++)
		if (!strcmp(ovup_verbs[i].name, name))
			return &ovup_verbs[i];
	return NULL;
}

void ovup_usage(const struct ovup_verb *v, void *file)
{
	FILE *f = file;
	size_t i;

	if (!v) {
		fprintf(f, "usage: ovup VERB [options] [args]\n\n"
			   "Replaces functions of a running process or of the running kernel "
			   "without stopping it.\n\nverbs:\n");
		for (i = 0; i < ovup_nverbs; i++)
			fprintf(f, "  %-8s %s\n", ovup_verbs[i].name, ovup_verbs[i].summary);
		fprintf(f, "\ncommon options:\n  -h, --help        help for a verb\n"
			   "  -v, --verbose     report each step and its time\n"
			   "\nexit codes: 0 done; 1 failed, target untouched; 2 usage; "
			   "3 busy, try again;\n            4 the target may be inconsistent\n"
			   "\nRun 'ovup VERB --help' for a verb's options; docs/ has the details.\n");
		return;
	}
	fprintf(f, "usage: ovup %s%s%s%s %s\n\n%s.\n\n", v->name,
		(v->opts & (OPT_PID | OPT_KERNEL)) ? " (-p PID | -k)" : "",
		(v->opts & OPT_OUTPUT) ? " -o FILE" : "", v->opts ? " [options]" : "", v->args,
		v->summary);
	if (v->help && *v->help)
		fprintf(f, "options:\n%s", v->help);
}

static int fail(struct ovup_cmdline *c, const char *fmt, const char *a, const char *b)
{
	snprintf(c->err, sizeof(c->err), fmt, a, b);
	return -EINVAL;
}

/* Matches -s / --long / --long=VALUE; takes the value from the next
 * argument when the option wants one. */
static int opt_is(const char *arg, char s, const char *l, int has_value, const char **value,
		  int *i, int argc, char **argv, int *missing)
{
	size_t ll = strlen(l);

	*missing = 0;
	if (s && arg[0] == '-' && arg[1] == s && arg[2] == 0) {
		/* -p 42 */
	} else if (s && has_value && arg[0] == '-' && arg[1] == s && arg[2]) {
		*value = arg + 2; /* -p42 */
		return 1;
	} else if (!strncmp(arg, "--", 2) && !strncmp(arg + 2, l, ll) &&
		   (arg[2 + ll] == 0 || (has_value && arg[2 + ll] == '='))) {
		if (arg[2 + ll] == '=') {
			*value = arg + 3 + ll;
			return 1;
		}
	} else {
		return 0;
	}
	if (!has_value)
		return 1;
	if (*i + 1 >= argc) {
		*missing = 1;
		return 1;
	}
	*value = argv[++*i];
	return 1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int ovup_cmdline_parse(int argc, char **argv, struct ovup_cmdline *c)
{
	const char *pid_s = NULL, *retries_s = NULL;
	unsigned long v;
	int i, missing;

	memset(c, 0, sizeof(*c));
	c->retries = 50;
	if (argc < 2)
		return fail(c, "no verb given; try 'ovup --help'%s%s", "", "");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		c->help = 1;
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		c->version = 1;
		return 0;
	}
	c->verb = ovup_verb_find(argv[1]);
	if (!c->verb)
		return fail(c, "unknown verb '%s'; try 'ovup --help'%s", argv[1], "");
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		unsigned opts = c->verb->opts;

		if (!strcmp(a, "--")) {
			if (!(opts & OPT_CFLAGS))
				return fail(c, "'ovup %s' takes no compiler flags after '--'%s",
					    c->verb->name, "");
			c->cflags = argv + i + 1;
			c->ncflags = (size_t)(argc - i - 1);
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			c->help = 1;
			continue;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			c->verbose = 1;
			continue;
		}
#define OPT(bit, s, l, hv) ((opts & (bit)) && opt_is(a, s, l, hv, &val, &i, argc, argv, &missing))
		if (OPT(OPT_PID, 'p', "pid", 1)) {
			pid_s = val;
		} else if (OPT(OPT_KERNEL, 'k', "kernel", 0)) {
			c->kernel = 1;
		} else if (OPT(OPT_JSON, 0, "json", 0)) {
			c->json = 1;
		} else if (OPT(OPT_NAME, 0, "name", 1)) {
			c->name = val;
		} else if (OPT(OPT_DRY_RUN, 'n', "dry-run", 0)) {
			c->dry_run = 1;
		} else if (OPT(OPT_RETRIES, 0, "retries", 1)) {
			retries_s = val;
		} else if (OPT(OPT_OUTPUT, 'o', "output", 1)) {
			c->output = val;
		} else if (a[0] == '-' && a[1]) {
			snprintf(c->err, sizeof(c->err),
				 "'ovup %s' has no option '%s'; see 'ovup %s --help'", c->verb->name, a,
				 c->verb->name);
			return -EINVAL;
		} else {
			if (c->nargs >= c->verb->max_args)
				return fail(c, "'ovup %s': unexpected argument '%s'", c->verb->name, a);
			c->args[c->nargs++] = a;
			continue;
		}
#undef OPT
		if (missing)
			return fail(c, "option '%s' needs a value%s", a, "");
	}
	if (c->help)
		return 0;
	if (c->nargs < c->verb->min_args)
		return fail(c, "'ovup %s' needs %s; see --help", c->verb->name, c->verb->args);
	if (pid_s) {
		if (parse_uint(pid_s, INT_MAX, &v) || v == 0)
			return fail(c, "invalid pid '%s': give a process id (a positive number)%s",
				    pid_s, "");
		c->pid = (int)v;
	}
	if (retries_s) {
		if (parse_uint(retries_s, 100000, &v))
			return fail(c, "invalid --retries '%s': give a number from 0 to 100000%s",
				    retries_s, "");
		c->retries = (unsigned)v;
	}
	if (c->verb->needs_target) {
		if (c->pid && c->kernel)
			return fail(c, "give either -p PID or -k, not both%s%s", "", "");
		if (!c->pid && !c->kernel)
			return fail(c, "'ovup %s' needs a target: -p PID (a process) or -k (the "
				       "kernel)%s",
				    c->verb->name, "");
	}
	if ((c->verb->opts & OPT_OUTPUT) && !c->output)
		return fail(c, "'ovup %s' needs -o FILE for the object it writes%s", c->verb->name, "");
	return 0;
}
