/* SPDX-License-Identifier: MIT */
/*
 * The command line as data: one verb table that drives both parsing and
 * --help, and a parser that never exits (so the unit tests can call it).
 */
#ifndef OVUP_CMDLINE_H
#define OVUP_CMDLINE_H

#include <stddef.h>

#include "../target/target.h"

enum ovup_opt {
	OPT_PID = 1 << 0,
	OPT_KERNEL = 1 << 1,
	OPT_JSON = 1 << 2,
	OPT_NAME = 1 << 3,
	OPT_DRY_RUN = 1 << 4,
	OPT_RETRIES = 1 << 5,
	OPT_OUTPUT = 1 << 6,
	OPT_CFLAGS = 1 << 7,
	OPT_ARG_VERB = 1 << 8, /* not an option: the argument names a verb */
	OPT_FORCE = 1 << 9,
	OPT_DIFF = 1 << 10,      /* --diff and --source */
	OPT_OBJECT = 1 << 11,    /* --object: a file as build's target */
	OPT_ALL = 1 << 12,       /* --all: every process (apply: --object selects) */
	OPT_INSTALLED = 1 << 13, /* apply --installed: the library's patches */
};

struct ovup_cmdline;

struct ovup_verb {
	const char *name;
	const char *args; /* positional arguments, for usage */
	unsigned min_args, max_args;
	unsigned opts; /* enum ovup_opt allowed */
	int needs_target;
	/* how run wants the target opened: a process, the kernel (a dry run
	 * opens either OVUP_OPEN_READ) */
	enum ovup_open_mode open, open_kernel;
	/* does the verb, prints its result; 0 or -errno (the message in
	 * ovup_err); t is NULL when !needs_target */
	int (*run)(struct ovup_target *t, const struct ovup_cmdline *c);
	const char *summary;
	const char *help; /* the rest of --help */
};

extern const struct ovup_verb ovup_verbs[];
extern const size_t ovup_nverbs;

struct ovup_cmdline {
	const struct ovup_verb *verb;
	int pid;
	int kernel;
	int json;
	int verbose;
	int quiet;
	int dry_run;
	int force;
	const char *diff, *source_dir;
	const char *object; /* build --object PATH; apply --all: PATH or BUILD-ID */
	int all;            /* --all, or list without a target */
	int installed;      /* apply --installed */
	int help;
	int version;
	unsigned retries;
	const char *name;
	const char *output;
	const char *args[2];
	size_t nargs;
	char **cflags;
	size_t ncflags;
	char err[512];
};

/* 0, or -EINVAL with a one-line reason in c->err (and c->json set if
 * --json was asked for, so that the error can be given as JSON too). */
int ovup_cmdline_parse(int argc, char **argv, struct ovup_cmdline *c);
/* how c's verb opens its target */
enum ovup_open_mode ovup_cmdline_open_mode(const struct ovup_cmdline *c);
const struct ovup_verb *ovup_verb_find(const char *name);
void ovup_usage(const struct ovup_verb *v, void *file);

#endif
