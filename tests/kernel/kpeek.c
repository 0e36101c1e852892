// SPDX-License-Identifier: MIT
/*
 * kpeek ADDR LEN [ADDR LEN]...: prints kernel bytes in hex, read through
 * /dev/ovup (OVUP_IOC_READ), so guest tests can prove kernel text is
 * unchanged after a refused apply.
 */
#include "uapi/ovup_uapi.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

int main(int argc, char **argv)
{
	unsigned char buf[4096];
	int fd = open("/dev/ovup", O_RDWR), i, rc = 0;

	if (argc < 3 || argc % 2 == 0) {
		fprintf(stderr, "usage: kpeek ADDR LEN [ADDR LEN]...\n");
		return 2;
	}
	if (fd < 0) {
		perror("kpeek: /dev/ovup");
		return 1;
	}
	for (i = 1; i + 1 < argc; i += 2) {
		struct ovup_k_read r = { strtoull(argv[i], NULL, 0), (unsigned long)buf,
					 strtoull(argv[i + 1], NULL, 0) };
		unsigned long k;

		if (r.len > sizeof(buf) || ioctl(fd, OVUP_IOC_READ, &r)) {
			printf("%s error\n", argv[i]);
			rc = 1;
			continue;
		}
		printf("%s ", argv[i]);
		for (k = 0; k < r.len; k++)
			printf("%02x", buf[k]);
		printf("\n");
	}
	return rc;
}
