// SPDX-License-Identifier: MIT
/*
 * Whole files: read one into memory, replace one atomically; path names.
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

const char *ovup_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

void ovup_comm(int pid, char *buf, size_t len)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	s = ovup_read_file(path, NULL);
	snprintf(buf, len, "%s", s ? s : "?");
	buf[strcspn(buf, "\n")] = 0;
	free(s);
}
