/* SPDX-License-Identifier: MIT */
/*
 * Installed patches (installed.c): install, uninstall, apply --installed,
 * watch.
 */
#ifndef OVUP_INSTALLED_H
#define OVUP_INSTALLED_H

#include "cmdline.h"

int ovup_run_install(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_uninstall(struct ovup_target *t, const struct ovup_cmdline *c);
int ovup_run_watch(struct ovup_target *t, const struct ovup_cmdline *c);
/* apply --installed -k or --all: the exit code */
int ovup_run_installed(const struct ovup_cmdline *c);

#endif
