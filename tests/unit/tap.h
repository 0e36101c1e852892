/* SPDX-License-Identifier: MIT */
/* A minimal TAP producer for the unit tests; prove reads its output. */
#ifndef OVUP_TAP_H
#define OVUP_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                   \
	do {                                                                     \
		long long g_ = (long long)(got), w_ = (long long)(want);         \
		ok(g_ == w_, __VA_ARGS__);                                       \
		if (g_ != w_)                                                    \
			printf("#   got %lld, want %lld\n", g_, w_);             \
	} while (0)
#define is_str(got, want, ...)                                                   \
	do {                                                                     \
		const char *g_ = (got), *w_ = (want);                            \
		int same_ = g_ && w_ && !strcmp(g_, w_);                         \
		ok(same_, __VA_ARGS__);                                          \
		if (!same_)                                                      \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",  \
			       w_ ? w_ : "(null)");                              \
	} while (0)
#define has_str(hay, needle, ...)                                                \
	do {                                                                     \
		const char *h_ = (hay), *n_ = (needle);                          \
		int in_ = h_ && strstr(h_, n_);                                  \
		ok(in_, __VA_ARGS__);                                            \
		if (!in_)                                                        \
			printf("#   '%s' not in '%s'\n", n_, h_ ? h_ : "(null)"); \
	} while (0)

static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
