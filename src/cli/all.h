/* SPDX-License-Identifier: MIT */
/*
 * --all (all.c): a verb on every process that qualifies, each by a run
 * of ovup of its own.
 */
#ifndef OVUP_ALL_H
#define OVUP_ALL_H

#include "cmdline.h"

/* apply, revert or list on every process; the exit code (OVUP_EXIT_SOME
 * when some were not done). */
int ovup_run_all(const struct ovup_cmdline *c);
/* Runs this binary with argv (argv[0] is set to it): its exit status.
 * With dir, its stdout and stderr go to files there and come back in
 * *out and *err (malloc'd); without, they are ours. */
int ovup_run_self(char **argv, const char *dir, char **out, char **err);
/* The build-id, as hex, of the file pid maps at range ("START-END" of its
 * maps); "" if it has none or cannot be read.  hex: 129 bytes. */
void ovup_mapped_build(int pid, const char *range, char *hex);

#endif
