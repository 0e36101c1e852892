/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by every layer, one header for all of src/util/ (one
 * file per concern; each group below names its file): the one-error-message
 * rule (the layer that knows most records the message, main prints it once),
 * checked allocation and growable buffers, time, hex, files, running a child
 * program, scratch directories, signals, text, Debian packages, test faults.
 */
#ifndef OVUP_UTIL_H
#define OVUP_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OVUP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OVUP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define OVUP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define OVUP_ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))
#define OVUP_ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define OVUP_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- err.c: errors, warnings, notes ---- */

/* Records the first error message of this operation and returns err
 * (a negative errno).  Later calls keep the first, most specific message;
 * ovup_err_prefix() lets an upper layer add context in front of it. */
int ovup_err(int err, const char *fmt, ...) OVUP_PRINTF(2, 3);
void ovup_err_prefix(const char *fmt, ...) OVUP_PRINTF(1, 2);
const char *ovup_err_msg(void);
void ovup_err_clear(void);
/* Best-effort work that reports its own failures as warnings (cleanup
 * after an error, releasing memory) sets the current message aside
 * first, and puts it back after. */
char *ovup_err_save(void);
void ovup_err_restore(char *saved);
/* An error after which the target may be inconsistent (a restore failed). */
void ovup_err_set_inconsistent(void);
int ovup_err_inconsistent(void);

void ovup_warn(const char *fmt, ...) OVUP_PRINTF(1, 2);
extern int ovup_verbose;
extern int ovup_quiet;                                  /* -q: no notes */
void ovup_info(const char *fmt, ...) OVUP_PRINTF(1, 2); /* with -v only */
void ovup_note(const char *fmt, ...) OVUP_PRINTF(1, 2); /* on stderr, unless -q */

/* ---- mem.c: checked allocation, growable buffers ---- */

/* Allocation failure in a short-lived CLI is not recoverable in any useful
 * way; these abort() instead of threading -ENOMEM through every parser. */
void *ovup_xmalloc(size_t n);
void *ovup_xcalloc(size_t n, size_t size);
void *ovup_xrealloc(void *p, size_t n);
char *ovup_xstrdup(const char *s);
char *ovup_xasprintf(const char *fmt, ...) OVUP_PRINTF(1, 2);

struct ovup_buf {
	char *s;
	size_t len;
	size_t cap;
};
void ovup_buf_printf(struct ovup_buf *b, const char *fmt, ...) OVUP_PRINTF(2, 3);
void ovup_buf_add(struct ovup_buf *b, const void *p, size_t n);
void ovup_buf_free(struct ovup_buf *b);

/* ---- clock.c ---- */

uint64_t ovup_now_ns(void);
void ovup_sleep_us(unsigned us);
/* ovup's own priority (see sched.c): raised for the run, real-time while
 * a target's threads are held; OVUP_SCHED=keep leaves it alone */
void ovup_sched_init(void);
void ovup_sched_hold_begin(void);
void ovup_sched_hold_end(void);

/* ---- hex.c ---- */

void ovup_hex(char *out, const uint8_t *p, size_t n);        /* out: 2n+1 bytes */
int ovup_unhex(uint8_t *out, size_t max, const char *s);     /* bytes or -EINVAL */
void ovup_hex_spaced(char *out, const uint8_t *p, size_t n); /* "e9 12 34" */

/* ---- file.c: whole files, paths ---- */

/* Reads a whole file (NUL-terminated); NULL with errno on failure. */
char *ovup_read_file(const char *path, size_t *len);
/* A process's name (/proc/PID/comm), "?" if it is gone. */
void ovup_comm(int pid, char *buf, size_t len);
int ovup_write_file_atomic(const char *path, const char *data, size_t len);
const char *ovup_basename(const char *path);

/* ---- run.c ---- */

/* Runs argv, capturing stdout+stderr into *out (may be NULL to inherit).
 * Returns the exit status (>= 0) or -errno if it could not run. */
int ovup_run(char *const argv[], char **out);

/* ---- tmpdir.c ---- */

/* A private temporary directory, removed with ovup_tmpdir_remove()
 * (kept and named on stderr with OVUP_KEEP_TMP=1).  Those of ovup runs
 * that were killed are removed by the next run. */
char *ovup_tmpdir(void);
/* The same under another name, PREFIX.PID.<unique>: the sweep takes an
 * "ovup-all" directory only ten minutes after its run died, since the
 * runs that run started may still read it. */
char *ovup_tmpdir_named(const char *prefix);
void ovup_tmpdir_remove(const char *dir);

/* ---- signal.c ---- */

/* SIGINT, SIGTERM and SIGHUP only set ovup_signalled: ovup finishes or
 * rolls back what it does to a target, then stops.  ovup_check_signal()
 * is called where stopping is still free: -EINTR saying what was (not)
 * done, or 0. */
extern volatile sig_atomic_t ovup_signalled;
void ovup_signals_init(void);
int ovup_check_signal(const char *what);

/* ---- text.c ---- */

/* Damerau-free Levenshtein distance, for "did you mean". */
unsigned ovup_edit_distance(const char *a, const char *b);
/* FNV-1a over n bytes, from `seed` (OVUP_FNV_BASIS for the plain hash). */
#define OVUP_FNV_BASIS 0xcbf29ce484222325ull
uint64_t ovup_fnv1a(uint64_t seed, const void *p, size_t n);

/* ---- fault.c ---- */

/* Test hooks (fault.c): is "name" one of OVUP_FAULT's entries, or is
 * "name:n"?  docs/testing.md lists the names. */
int ovup_fault(const char *name);
int ovup_fault_n(const char *name, size_t n);
/* Tests: make $OVUP_TEST_SYNC.ready and await $OVUP_TEST_SYNC.go (60 s). */
void ovup_test_sync(void);

/* ---- debian.c ---- */

/* The Debian package with the debug symbols of the file at path ("libc6-dbg",
 * "nginx-light-dbgsym"), or NULL; runs dpkg-query, so for error paths. */
char *ovup_debug_package(const char *path);
/* Asks dpkg once about several paths, for the ovup_debug_package calls
 * that follow (each run reads dpkg's whole database). */
void ovup_debug_packages_prefetch(const char *const paths[], size_t n);

#endif
