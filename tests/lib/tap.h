/* SPDX-License-Identifier: MIT */
/*
 * The one TAP producer of the C tests (tests/unit/test_*.c, and kioctl in
 * the kernel guest); prove reads its output.  Header-only, every function
 * static inline so that a test using only some of them still builds with
 * -Werror.  API: ok, is_int, is_str, has_str, diag, bail, tap_done (see
 * docs/testing.md).
 */
#ifndef OVUP_TAP_H
#define OVUP_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

/* one result line; the location of a failure as a diagnostic.  Returns cond */
static inline __attribute__((format(printf, 4, 5))) int tap_ok(int cond, const char *file, int line,
							       const char *fmt, ...)
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
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                           \
	do {                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		ok(g_ == w_, __VA_ARGS__);                               \
		if (g_ != w_)                                            \
			printf("#   got %lld, want %lld\n", g_, w_);     \
	} while (0)
#define is_str(got, want, ...)                                                  \
	do {                                                                    \
		const char *g_ = (got), *w_ = (want);                           \
		int same_ = g_ && w_ && !strcmp(g_, w_);                        \
		ok(same_, __VA_ARGS__);                                         \
		if (!same_)                                                     \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)");                             \
	} while (0)
#define has_str(hay, needle, ...)                                                 \
	do {                                                                      \
		const char *h_ = (hay), *n_ = (needle);                           \
		int in_ = h_ && strstr(h_, n_);                                   \
		ok(in_, __VA_ARGS__);                                             \
		if (!in_)                                                         \
			printf("#   '%s' not in '%s'\n", n_, h_ ? h_ : "(null)"); \
	} while (0)

/* a diagnostic line: "# " and the message */
static inline __attribute__((format(printf, 1, 2))) void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * Give up: "Bail out!" and the message, with errno's text when it is set
 * (prove counts the test as failed whatever the plan says); exits 2.
 */
static inline __attribute__((format(printf, 1, 2), noreturn)) void bail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (err)
		printf(" (errno %d, %s)", err, strerror(err));
	printf("\n");
	fflush(stdout);
	exit(2);
}

/* the plan, printed last; the exit status says whether everything passed */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
