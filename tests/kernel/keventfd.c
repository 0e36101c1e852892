// SPDX-License-Identifier: MIT
/*
 * keventfd N: writes an N-byte buffer, whose first 8 bytes hold the value
 * 0x1122334455667788, to a new non-blocking eventfd, reads the counter
 * back and prints "RET ERRNO COUNTER" (COUNTER 0x0 when nothing was
 * added), for the kernel --diff test (tests/kernel/diff.t).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned char buf[64];
	uint64_t value = 0x1122334455667788ull, counter = 0;
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 8;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), err;
	ssize_t ret;

	if (fd < 0 || n > sizeof(buf)) {
		perror("keventfd");
		return 2;
	}
	memset(buf, 0xaa, sizeof(buf));
	memcpy(buf, &value, sizeof(value));
	ret = write(fd, buf, n);
	err = ret < 0 ? errno : 0;
	if (read(fd, &counter, sizeof(counter)) != sizeof(counter))
		counter = 0;
	printf("%zd %d 0x%llx\n", ret, err, (unsigned long long)counter);
	return 0;
}
