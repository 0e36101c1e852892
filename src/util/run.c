// SPDX-License-Identifier: MIT
/*
 * Running a child program (cc, ld, dpkg-query) and capturing its output.
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
		while ((n = read(pipefd[0], tmp, sizeof(tmp))) > 0 || (n < 0 && errno == EINTR))
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
