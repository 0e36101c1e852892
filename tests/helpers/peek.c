// SPDX-License-Identifier: MIT
/* peek PID ADDR LEN: prints LEN bytes of a process's memory in hex. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned char buf[256];
	char path[64];
	size_t len, i;
	int fd;

	if (argc != 4 || (len = strtoul(argv[3], NULL, 0)) > sizeof(buf)) {
		fprintf(stderr, "usage: peek PID ADDR LEN (LEN <= 256)\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, buf, len, (off_t)strtoull(argv[2], NULL, 0)) != (ssize_t)len) {
		perror("peek");
		return 1;
	}
	for (i = 0; i < len; i++)
		printf("%02x", buf[i]);
	printf("\n");
	return 0;
}
