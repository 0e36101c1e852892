/* SPDX-License-Identifier: MIT */
/*
 * The verbs' run functions, which the verb table (cmdline.c) points at:
 * each calls core with the command line's options and renders the result.
 */
#ifndef OVUP_RUN_H
#define OVUP_RUN_H

#include "cmdline.h"

int ovup_run_apply(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_build(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_revert(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_forget(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_list(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_symbols(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_info(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_help(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_version(struct ovup_target *t, const struct ovup_cmdline *c);

#endif
