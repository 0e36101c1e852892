// SPDX-License-Identifier: MIT
/*
 * The one-error-message rule: the layer that knows most records the
 * message, main prints it once.  The slot is a single buffer because ovup
 * performs one operation per process run.  Warnings and notes go straight
 * to stderr.
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ovup_verbose;
int ovup_quiet;
static char err_msg[4096];
static int err_inconsistent;

int ovup_err(int err, const char *fmt, ...)
{
	va_list ap;

	if (err_msg[0])
		return err;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	return err;
}

void ovup_err_prefix(const char *fmt, ...)
{
	char pre[1024], old[sizeof(err_msg)];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err_msg, sizeof(old));
	n = strlen(pre);
	memcpy(err_msg, pre, n);
	memcpy(err_msg + n, old, sizeof(err_msg) - n - 1);
	err_msg[sizeof(err_msg) - 1] = 0;
}

const char *ovup_err_msg(void)
{
	return err_msg[0] ? err_msg : NULL;
}

void ovup_err_clear(void)
{
	err_msg[0] = 0;
}

char *ovup_err_save(void)
{
	char *saved = err_msg[0] ? ovup_xstrdup(err_msg) : NULL;

	err_msg[0] = 0;
	return saved;
}

void ovup_err_restore(char *saved)
{
	if (saved)
		snprintf(err_msg, sizeof(err_msg), "%s", saved);
	else
		err_msg[0] = 0;
	free(saved);
}

void ovup_err_set_inconsistent(void)
{
	err_inconsistent = 1;
}

int ovup_err_inconsistent(void)
{
	return err_inconsistent;
}

void ovup_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("ovup: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ovup_note(const char *fmt, ...)
{
	va_list ap;

	if (ovup_quiet)
		return;
	fputs("ovup: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ovup_info(const char *fmt, ...)
{
	va_list ap;

	if (!ovup_verbose)
		return;
	fputs("ovup: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
