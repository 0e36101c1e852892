// SPDX-License-Identifier: MIT
/*
 * Helpers shared by every layer; see util.h.  The error slot is a single
 * buffer because ovup performs one operation per process run.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

void *ovup_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

void *ovup_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *ovup_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *ovup_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}

char *ovup_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static void buf_reserve(struct ovup_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	b->cap = OVUP_MAX(b->cap * 2, b->len + more + 64);
	b->s = ovup_xrealloc(b->s, b->cap);
}

void ovup_buf_printf(struct ovup_buf *b, const char *fmt, ...)
{
	char probe[1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void ovup_buf_add(struct ovup_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = 0;
}

void ovup_buf_free(struct ovup_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

uint64_t ovup_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ovup_sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void ovup_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

void ovup_hex_spaced(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	out[0] = 0;
	for (i = 0; i < n; i++)
		sprintf(out + (i ? 3 * i - 1 : 0), i ? " %02x" : "%02x", p[i]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ovup_unhex(uint8_t *out, size_t max, const char *s)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

char *ovup_read_file(const char *path, size_t *lenp)
{
	struct ovup_buf b = { 0 };
	char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		ovup_buf_add(&b, tmp, (size_t)n);
	if (n < 0) {
		int e = errno;

		close(fd);
		ovup_buf_free(&b);
		errno = e;
		return NULL;
	}
	close(fd);
	if (!b.s)
		b.s = ovup_xstrdup("");
	if (lenp)
		*lenp = b.len;
	return b.s;
}

int ovup_write_file_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = ovup_xasprintf("%s.tmp.%d", path, getpid());
	int fd, ret = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		ret = errno ? -errno : -EIO;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
out_free:
	free(tmp);
	return ret;
}

int ovup_run(char *const argv[], char **out)
{
	int pipefd[2] = { -1, -1 }, status;
	struct ovup_buf b = { 0 };
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		if (out) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return -e;
	}
	if (pid == 0) {
		if (out) {
			dup2(pipefd[1], 1);
			dup2(pipefd[1], 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out) {
		char tmp[4096];
		ssize_t n;

		close(pipefd[1]);
		while ((n = read(pipefd[0], tmp, sizeof(tmp))) > 0 ||
		       (n < 0 && errno == EINTR))
			if (n > 0)
				ovup_buf_add(&b, tmp, (size_t)n);
		close(pipefd[0]);
		*out = b.s ? b.s : ovup_xstrdup("");
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static const char *tmp_base(void)
{
	const char *base = getenv("TMPDIR");

	return base && *base ? base : "/tmp";
}

/* Scratch directories of ovup runs that were killed: ours (same owner,
 * a real directory, not a link), named after a pid that no longer runs,
 * and not kept on purpose (OVUP_KEEP_TMP). */
static void sweep_tmp(const char *base)
{
	struct dirent *de;
	DIR *d = opendir(base);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path, *kept;
		struct stat st;
		long pid;

		if (sscanf(de->d_name, "ovup.%ld.", &pid) != 1 || pid <= 0 ||
		    (kill((pid_t)pid, 0) < 0 ? errno != ESRCH : 1))
			continue;
		path = ovup_xasprintf("%s/%s", base, de->d_name);
		kept = ovup_xasprintf("%s/.kept", path);
		if (!lstat(path, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		    access(kept, F_OK) < 0)
			nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(kept);
		free(path);
	}
	closedir(d);
}

char *ovup_tmpdir(void)
{
	const char *base = tmp_base();
	char *dir = ovup_xasprintf("%s/ovup.%d.XXXXXX", base, (int)getpid());

	sweep_tmp(base);
	if (!mkdtemp(dir)) {
		int e = errno;

		free(dir);
		errno = e;
		return NULL;
	}
	return dir;
}

void ovup_tmpdir_remove(const char *dir)
{
	if (!dir)
		return;
	if (getenv("OVUP_KEEP_TMP") && *getenv("OVUP_KEEP_TMP")) {
		char *kept = ovup_xasprintf("%s/.kept", dir);

		ovup_write_file_atomic(kept, "", 0);
		free(kept);
		fprintf(stderr, "ovup: kept the scratch directory %s (OVUP_KEEP_TMP)\n", dir);
		return;
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- signals: finish or roll back, never stop half-way ---- */

volatile sig_atomic_t ovup_signalled;

static void on_signal(int sig)
{
	ovup_signalled = sig;
}

void ovup_signals_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < OVUP_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* a closed stdout must not kill ovup between two writes to a target */
	signal(SIGPIPE, SIG_IGN);
}

int ovup_check_signal(const char *what)
{
	int sig = ovup_signalled;

	if (!sig)
		return 0;
	return ovup_err(-EINTR, "interrupted by SIG%s; %s", sigabbrev_np(sig), what);
}

unsigned ovup_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned *row, d;

	if (la > 256 || lb > 256)
		return 1000;
	row = ovup_xcalloc(lb + 1, sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

const char *ovup_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *ovup_debug_package(const char *path)
{
	char *argv[] = { "dpkg-query", "-S", (char *)path, NULL }, *out = NULL, *colon;
	char *pkg = NULL;
	int ret = ovup_run(argv, &out);

	/* merged /usr: dpkg knows /lib/x.so where the process maps /usr/lib/x.so */
	if (ret && !strncmp(path, "/usr/", 5)) {
		free(out);
		out = NULL;
		argv[2] = (char *)path + 4;
		ret = ovup_run(argv, &out);
	}
	if (ret == 0 && out && (colon = strchr(out, ':'))) {
		*colon = 0;
		/* libc's debug symbols are in Debian main; others in the
		 * debug archive as -dbgsym */
		pkg = !strcmp(out, "libc6") ? ovup_xstrdup("libc6-dbg")
					    : ovup_xasprintf("%s-dbgsym", out);
	}
	free(out);
	return pkg;
}
