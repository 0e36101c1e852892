// SPDX-License-Identifier: MIT
/*
 * Parsing `ovup VERB [options] [args] [-- compiler flags]` against the
 * verb table, and printing --help from the same table.
 */
#define _GNU_SOURCE
#include "cmdline.h"
#include "installed.h"
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_HELP                                           \
	"  -p, --pid PID     the target: a running process\n" \
	"  -k, --kernel      the target: the running kernel (needs ovup.ko)\n"

#define APPLY_OPTS                                                                            \
	OPT_PID | OPT_KERNEL | OPT_JSON | OPT_NAME | OPT_DRY_RUN | OPT_RETRIES | OPT_CFLAGS | \
		OPT_DIFF | OPT_ALL | OPT_OBJECT | OPT_INSTALLED
#define ALL_HELP                                                                               \
	"      --all         every process that qualifies, each all-or-none in a run of its\n" \
	"                    own; one line per process and a summary; exit 5 if some were not\n"
#define BUILD_OPTS                                                                        \
	OPT_PID | OPT_KERNEL | OPT_JSON | OPT_OUTPUT | OPT_CFLAGS | OPT_NAME | OPT_DIFF | \
		OPT_OBJECT | OPT_DRY_RUN
#define DIFF_HELP                                                                   \
	"      --diff FILE   build the patch from a unified diff of one .c file:\n" \
	"                    the functions whose code it changes\n"                 \
	"      --source DIR  the source tree the diff is for (default: .)\n"

/* The open modes: a verb that changes the target takes its lock; the
 * kernel's record is the module's, so list -k only reads it (and takes
 * no writer slot, which would queue behind a running apply); build -k is
 * for the installed headers, not the running kernel. */
const struct ovup_verb ovup_verbs[] = {
	{ .name = "apply",
	  .args = "PATCH.c|PATCH.o|--diff FILE",
	  .max_args = 1,
	  .opts = APPLY_OPTS,
	  .needs_target = 1,
	  .open = OVUP_OPEN_WRITE,
	  .open_kernel = OVUP_OPEN_WRITE,
	  .run = ovup_run_apply,
	  .summary = "replace functions of the target with those of a patch",
	  .help = TARGET_HELP ALL_HELP
	  "      --installed   with -k: the kernel patches 'install' kept for this kernel (what\n"
	  "                    the boot service runs); with --all: the process patches\n"
	  "      --object PATH|BUILD-ID  with --all: the processes mapping that program or\n"
	  "                    library (a C patch is built once per build of it); an object\n"
	  "                    from 'build' goes to those running the builds it records\n"
	  "      --name NAME   name of the patch (default: the file name without extension)\n" DIFF_HELP
	  "  -n, --dry-run     print the plan (addresses, jump bytes) without touching the target\n"
	  "      --retries N   times to retry while a thread is in the way (default 50)\n"
	  "      --json        machine-readable output\n"
	  "  -- FLAGS...       extra compiler flags, e.g. -- -I/path/to/headers\n"
	  "\nEach non-static function of PATCH replaces the target's function of that name.\n" },
	{ .name = "build",
	  .args = "PATCH.c|--diff FILE",
	  .max_args = 1,
	  .opts = BUILD_OPTS,
	  .needs_target = 1,
	  .open = OVUP_OPEN_READ,
	  .open_kernel = OVUP_OPEN_HEADERS,
	  .run = ovup_run_build,
	  .summary = "compile a patch for the target into an object 'apply' accepts",
	  .help = TARGET_HELP
	  "      --object FILE the target: a program or library on disk (resolved at apply)\n"
	  "  -o, --output FILE the object to write (required)\n"
	  "      --name NAME   name of the patch (default: the file name without extension)\n" DIFF_HELP
	  "  -n, --dry-run     with --diff: say what it changes, write nothing (no target needed)\n"
	  "      --json        machine-readable output\n"
	  "  -- FLAGS...       extra compiler flags\n"
	  "\nThe object records the build-ids it was resolved against; apply refuses it for "
	  "another build.\n" },
	{ .name = "revert",
	  .args = "[NAME]",
	  .max_args = 1,
	  .opts = OPT_PID | OPT_KERNEL | OPT_JSON | OPT_RETRIES | OPT_FORCE | OPT_ALL | OPT_OBJECT,
	  .needs_target = 1,
	  .open = OVUP_OPEN_WRITE,
	  .open_kernel = OVUP_OPEN_WRITE,
	  .run = ovup_run_revert,
	  .summary = "undo a patch (the latest one when no NAME is given)",
	  .help = TARGET_HELP ALL_HELP
	  "      --object PATH|BUILD-ID  with --all: only the processes that map it\n"
	  "      --retries N   times to retry while a thread is in the way (default 50)\n"
	  "      --force       also where another tool changed the jump (processes): the\n"
	  "                    old bytes go back if the rest of the function is its file's\n"
	  "      --json        machine-readable output\n" },
	{ .name = "forget",
	  .args = "NAME",
	  .min_args = 1,
	  .max_args = 1,
	  .opts = OPT_PID | OPT_KERNEL | OPT_JSON,
	  .needs_target = 1,
	  .open = OVUP_OPEN_WRITE,
	  .open_kernel = OVUP_OPEN_WRITE,
	  .run = ovup_run_forget,
	  .summary = "drop the record of a patch the target no longer runs",
	  .help = TARGET_HELP "      --json        machine-readable output\n"
			      "\nPrints what each of the patch's sites holds; refused while one "
			      "still\nbranches to the patch (use 'revert').  Processes only.\n" },
	{ .name = "list",
	  .args = "",
	  .opts = OPT_PID | OPT_KERNEL | OPT_JSON | OPT_ALL,
	  .needs_target = 1,
	  .open = OVUP_OPEN_WRITE,
	  .open_kernel = OVUP_OPEN_READ,
	  .run = ovup_run_list,
	  .summary = "show the patches applied to the target (no target: every process and "
		     "the kernel)",
	  .help = TARGET_HELP "      --all         every process with patches, and the kernel "
			      "(also without -p or -k)\n"
			      "      --json        machine-readable output\n" },
	{ .name = "symbols",
	  .args = "[GLOB]",
	  .max_args = 1,
	  .opts = OPT_PID | OPT_KERNEL | OPT_JSON,
	  .needs_target = 1,
	  .open = OVUP_OPEN_READ,
	  .open_kernel = OVUP_OPEN_READ,
	  .run = ovup_run_symbols,
	  .summary = "list the target's functions and variables (the labels a patch can use)",
	  .help = TARGET_HELP
	  "      --json        machine-readable output\n"
	  "\nObjects with only .dynsym (no .symtab, no debug file by build-id, "
	  "debuglink or\nDEBUGINFOD_URLS) are named on stderr with their "
	  "build-id and how to get their\nstatic symbols.  No match exits 0.\n" },
	{ .name = "install",
	  .args = "PATCH.o",
	  .min_args = 1,
	  .max_args = 1,
	  .opts = OPT_NAME,
	  .run = ovup_run_install,
	  .summary = "keep an object from 'build' to apply at boot (kernel) or at exec (processes)",
	  .help = "      --name NAME   name of the installed patch (default: the patch's)\n"
		  "\nKept in $OVUP_LIB_DIR (default /var/lib/ovup) under what it was built for:\n"
		  "kernel/RELEASE/NAME.o or process/BUILD-ID/NAME.o.  'apply --installed -k'\n"
		  "(the boot service) applies the kernel's; 'watch' the processes'.\n" },
	{ .name = "uninstall",
	  .args = "NAME",
	  .min_args = 1,
	  .max_args = 1,
	  .run = ovup_run_uninstall,
	  .summary = "remove an installed patch (what it patched stays until 'revert')",
	  .help = "" },
	{ .name = "watch",
	  .args = "",
	  .run = ovup_run_watch,
	  .summary = "apply the installed process patches to every process that starts",
	  .help = "\nRuns in the foreground (ovup-watch.service): first the running processes, "
		  "then\neach new one, from the kernel's process events, once it maps the "
		  "builds a\npatch was built for; logs each with the time since its exec.  "
		  "Needs root.\n" },
	{ .name = "info",
	  .args = "PATCH.o",
	  .min_args = 1,
	  .max_args = 1,
	  .opts = OPT_JSON,
	  .run = ovup_run_info,
	  .summary = "show what an object from 'build' replaces, uses and was built for",
	  .help = "      --json        machine-readable output\n"
		  "\nReads the object only: no target, nothing changes.\n" },
	{ .name = "help",
	  .args = "[VERB]",
	  .max_args = 1,
	  .opts = OPT_ARG_VERB,
	  .run = ovup_run_help,
	  .summary = "show help for ovup or one verb",
	  .help = "" },
	{ .name = "version",
	  .args = "",
	  .run = ovup_run_version,
	  .summary = "show the version",
	  .help = "" },
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
		fprintf(f,
			"\ncommon options:\n  -h, --help        help for a verb\n"
			"  -v, --verbose     report each step and its time\n"
			"  -q, --quiet       no notes on stderr (warnings and errors stay)\n"
			"  -V, --version     show the version\n"
			"\nexit codes: 0 done; 1 failed, target untouched; 2 usage; "
			"3 busy, try again;\n            4 the target may be inconsistent; "
			"5 --all: some processes were not done\n"
			"\nRun 'ovup VERB --help' for a verb's options; ovup(1) and docs/ have the details.\n");
		return;
	}
	fprintf(f, "usage: ovup %s%s%s%s %s\n\n%s.\n\n", v->name,
		(v->opts & (OPT_PID | OPT_KERNEL)) ? " (-p PID | -k)" : "",
		(v->opts & OPT_OUTPUT) ? " -o FILE" : "",
		(v->opts & ~OPT_ARG_VERB) ? " [options]" : "", v->args, v->summary);
	if (v->help && *v->help)
		fprintf(f, "options:\n%s", v->help);
}

static int fail(struct ovup_cmdline *c, const char *fmt, const char *a, const char *b)
{
	snprintf(c->err, sizeof(c->err), fmt, a, b);
	return -EINVAL;
}

/* Options without a short form get codes above any character. */
enum {
	LONG_JSON = 256,
	LONG_NAME,
	LONG_RETRIES,
	LONG_FORCE,
	LONG_DIFF,
	LONG_SOURCE,
	LONG_OBJECT,
	LONG_ALL,
	LONG_INSTALLED
};

/* "-" first: arguments come back in order as code 1 (no permuting);
 * ":" next: a missing value is ':', not '?' */
static const char short_opts[] = "-:p:kno:hvqV";
static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "kernel", no_argument, NULL, 'k' },
	{ "json", no_argument, NULL, LONG_JSON },
	{ "name", required_argument, NULL, LONG_NAME },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "retries", required_argument, NULL, LONG_RETRIES },
	{ "force", no_argument, NULL, LONG_FORCE },
	{ "diff", required_argument, NULL, LONG_DIFF },
	{ "source", required_argument, NULL, LONG_SOURCE },
	{ "object", required_argument, NULL, LONG_OBJECT },
	{ "all", no_argument, NULL, LONG_ALL },
	{ "installed", no_argument, NULL, LONG_INSTALLED },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The verb-specific option a code stands for; 0 for those of every verb. */
static unsigned opt_bit(int code)
{
	switch (code) {
	case 'p':
		return OPT_PID;
	case 'k':
		return OPT_KERNEL;
	case LONG_JSON:
		return OPT_JSON;
	case LONG_NAME:
		return OPT_NAME;
	case 'n':
		return OPT_DRY_RUN;
	case LONG_RETRIES:
		return OPT_RETRIES;
	case LONG_FORCE:
		return OPT_FORCE;
	case LONG_DIFF:
	case LONG_SOURCE:
		return OPT_DIFF;
	case 'o':
		return OPT_OUTPUT;
	case LONG_OBJECT:
		return OPT_OBJECT;
	case LONG_ALL:
		return OPT_ALL;
	case LONG_INSTALLED:
		return OPT_INSTALLED;
	default:
		return 0;
	}
}

/* The parse in progress: getopt_long's view of the verb's arguments. */
struct parse {
	struct ovup_cmdline *c;
	int argc;
	char **argv; /* argv[0] is the verb */
	const char *pid_s, *retries_s;
	const char *last_value; /* the last option value taken */
};

/* The option as the user wrote it, for messages: "-p" (also inside -kp),
 * "--name", or an unknown long word whole. */
static const char *given(const char *word, int code, int longind, char *buf, size_t len)
{
	if (longind >= 0)
		snprintf(buf, len, "--%s", long_opts[longind].name);
	else if (!strncmp(word, "--", 2) || code <= 0 || code >= 256)
		snprintf(buf, len, "%s", word);
	else
		snprintf(buf, len, "-%c", code);
	return buf;
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

/* -p and -k: one target per run; a second one is refused by name. */
static int take_target(struct parse *ps, int code, const char *opt)
{
	struct ovup_cmdline *c = ps->c;
	char already[96];

	if (!ps->pid_s && !c->kernel && !c->object) {
		if (code == 'p')
			ps->pid_s = optarg;
		if (code == LONG_OBJECT)
			c->object = optarg;
		c->kernel = code == 'k';
		return 0;
	}
	if (ps->pid_s)
		snprintf(already, sizeof(already), "pid %.64s (-p)", ps->pid_s);
	else if (c->object)
		snprintf(already, sizeof(already), "the file %.64s (--object)", c->object);
	else
		snprintf(already, sizeof(already), "the kernel (-k)");
	if (c->verb->opts & OPT_OUTPUT)
		return fail(ps->c,
			    "option '%s': the target is already %s; give one target, -p PID, "
			    "-k or --object FILE",
			    opt, already);
	return fail(ps->c,
		    "option '%s': the target is already %s; give one target, -p PID "
		    "or -k",
		    opt, already);
}

/* One option getopt_long returned, already allowed for the verb. */
static int take_opt(struct parse *ps, int code, const char *opt)
{
	struct ovup_cmdline *c = ps->c;

	switch (code) {
	case LONG_OBJECT:
		/* apply --all: which processes, not a target */
		if (!(c->verb->opts & OPT_OUTPUT)) {
			c->object = optarg;
			break;
		}
		return take_target(ps, code, opt);
	case 'p':
	case 'k':
		return take_target(ps, code, opt);
	case LONG_ALL:
		c->all = 1;
		break;
	case LONG_INSTALLED:
		c->installed = 1;
		break;
	case LONG_JSON:
		c->json = 1;
		break;
	case LONG_NAME:
		c->name = optarg;
		break;
	case 'n':
		c->dry_run = 1;
		break;
	case LONG_RETRIES:
		ps->retries_s = optarg;
		break;
	case LONG_FORCE:
		c->force = 1;
		break;
	case LONG_DIFF:
		c->diff = optarg;
		break;
	case LONG_SOURCE:
		c->source_dir = optarg;
		break;
	case 'o':
		c->output = optarg;
		break;
	case 'h':
		c->help = 1;
		break;
	case 'v':
		c->verbose = 1;
		break;
	case 'q':
		c->quiet = 1;
		break;
	case 'V':
		c->version = 1;
		break;
	}
	return 0;
}

/* A word that is no option: the verb's next argument. */
static int take_arg(struct parse *ps, const char *a)
{
	struct ovup_cmdline *c = ps->c;

	if (c->nargs >= c->verb->max_args)
		return fail(c, "'ovup %s': unexpected argument '%s'", c->verb->name, a);
	c->args[c->nargs++] = a;
	return 0;
}

/* After the options: "--" and the compiler flags, if there was one (and
 * it was not the value of an option, as in --name --). */
static int take_cflags(struct parse *ps)
{
	struct ovup_cmdline *c = ps->c;
	const char *last = optind > 1 ? ps->argv[optind - 1] : NULL;

	if (optind >= ps->argc && (!last || strcmp(last, "--") || last == ps->last_value))
		return 0;
	if (!(c->verb->opts & OPT_CFLAGS))
		return fail(c, "'ovup %s' takes no compiler flags after '--'%s", c->verb->name, "");
	c->cflags = ps->argv + optind;
	c->ncflags = (size_t)(ps->argc - optind);
	return 0;
}

/* The options and arguments after the verb, through getopt_long. */
static int parse_words(struct parse *ps)
{
	struct ovup_cmdline *c = ps->c;
	const char *word;
	char opt[64];
	int code, longind, ret = 0;

	optind = 0; /* glibc: start afresh, forgetting any earlier parse */
	opterr = 0; /* the messages are ours */
	while (!ret) {
		/* the word getopt works on: optind moves past it once done */
		word = ps->argv[optind ? optind : 1];
		longind = -1;
		code = getopt_long(ps->argc, ps->argv, short_opts, long_opts, &longind);
		if (code == -1)
			return take_cflags(ps);
		if (code == 1) {
			ret = take_arg(ps, optarg);
			continue;
		}
		if (code == ':')
			return fail(c, "option '%s' needs a value%s",
				    given(word, optopt, -1, opt, sizeof(opt)), "");
		if (code == '?' || (opt_bit(code) && !(c->verb->opts & opt_bit(code)))) {
			given(word, code == '?' ? optopt : code, longind, opt, sizeof(opt));
			snprintf(c->err, sizeof(c->err),
				 "'ovup %s' has no option '%s'; see 'ovup %s "
				 "--help'",
				 c->verb->name, opt, c->verb->name);
			return -EINVAL;
		}
		if (optarg)
			ps->last_value = optarg;
		ret = take_opt(ps, code, given(word, code, longind, opt, sizeof(opt)));
	}
	return ret;
}

/* After the options: the number of arguments, the values, the target. */
static int check(struct parse *ps)
{
	struct ovup_cmdline *c = ps->c;
	const struct ovup_verb *v = c->verb;
	unsigned long n;

	if (c->help || c->version)
		return 0;
	if (c->nargs < v->min_args)
		return fail(c, "'ovup %s' needs %s; see --help", v->name, v->args);
	if (c->installed && (c->nargs || c->diff || c->pid || c->object || (!c->kernel && !c->all)))
		return fail(c,
			    "apply --installed takes -k (the kernel's installed patches) or --all "
			    "(the processes'), and no patch file%s%s",
			    "", "");
	if ((v->opts & OPT_DIFF) && !c->diff && !c->nargs && !c->installed)
		return fail(c, "'ovup %s' needs %s; see --help", v->name, v->args);
	if (c->diff && c->nargs)
		return fail(c, "give either a patch file ('%s') or --diff, not both%s", c->args[0],
			    "");
	if (c->source_dir && !c->diff)
		return fail(c, "--source DIR goes with --diff FILE (the tree the diff is for)%s%s",
			    "", "");
	if ((v->opts & OPT_ARG_VERB) && c->nargs && !ovup_verb_find(c->args[0]))
		return fail(c, "unknown verb '%s'; try 'ovup --help'%s", c->args[0], "");
	if (c->verbose && c->quiet)
		return fail(c, "give either -v (more on stderr) or -q (less), not both%s%s", "",
			    "");
	if (ps->pid_s) {
		if (parse_uint(ps->pid_s, INT_MAX, &n) || n == 0)
			return fail(c, "invalid pid '%s': give a process id (a positive number)%s",
				    ps->pid_s, "");
		c->pid = (int)n;
	}
	if (ps->retries_s) {
		if (parse_uint(ps->retries_s, 100000, &n))
			return fail(c, "invalid --retries '%s': give a number from 0 to 100000%s",
				    ps->retries_s, "");
		c->retries = (unsigned)n;
	}
	if (c->all && (c->pid || c->kernel))
		return fail(c, "--all is every process: give it without %s%s",
			    c->pid ? "-p PID" : "-k", "");
	if (c->object && !(v->opts & OPT_OUTPUT) && !c->all)
		return fail(c,
			    "--object %s chooses the processes of 'ovup %s --all'; give --all, "
			    "or -p PID for one process",
			    c->object, v->name);
	if (c->all && !strcmp(v->name, "apply") && c->diff)
		return fail(c,
			    "apply --all takes a patch file or an object from 'ovup build', not "
			    "--diff%s%s",
			    "", "");
	/* list without a target: every process, and the kernel */
	if (!strcmp(v->name, "list") && !c->pid && !c->kernel)
		c->all = 1;
	/* build --diff --dry-run: what the diff changes, for no target */
	if (v->needs_target && !c->pid && !c->kernel && !c->object && !c->all &&
	    !((v->opts & OPT_OBJECT) && c->dry_run && c->diff))
		return fail(c, "'ovup %s' needs a target: -p PID (a process) or -k (the kernel)%s",
			    v->name,
			    (v->opts & OPT_OUTPUT) ? ", or --object FILE (a program or library)"
			    : (v->opts & OPT_ALL)  ? ", or --all (every process)"
						   : "");
	if ((v->opts & OPT_OUTPUT) && !c->output && !c->dry_run)
		return fail(c, "'ovup %s' needs -o FILE for the object it writes%s", v->name, "");
	return 0;
}

/* --json anywhere before "--", to give a usage error as JSON too */
static int wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			return 1;
	return 0;
}

static int parse(int argc, char **argv, struct ovup_cmdline *c)
{
	struct parse ps = { .c = c, .argc = argc - 1, .argv = argv + 1 };
	int ret;

	if (argc < 2)
		return fail(c, "no verb given; try 'ovup --help'%s%s", "", "");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		c->help = 1;
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		c->version = 1;
		return 0;
	}
	c->verb = ovup_verb_find(argv[1]);
	if (!c->verb)
		return fail(c, "unknown verb '%s'; try 'ovup --help'%s", argv[1], "");
	ret = parse_words(&ps);
	return ret ? ret : check(&ps);
}

int ovup_cmdline_parse(int argc, char **argv, struct ovup_cmdline *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->retries = 50;
	ret = parse(argc, argv, c);
	if (ret)
		c->json |= wants_json(argc, argv);
	return ret;
}

enum ovup_open_mode ovup_cmdline_open_mode(const struct ovup_cmdline *c)
{
	enum ovup_open_mode m = c->kernel ? c->verb->open_kernel : c->verb->open;

	/* a dry run only reads, on either target */
	return c->dry_run && m == OVUP_OPEN_WRITE ? OVUP_OPEN_READ : m;
}
