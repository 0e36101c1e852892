// SPDX-License-Identifier: MIT
/*
 * kpeek ADDR LEN [ADDR LEN]...: prints kernel bytes in hex, read through
 * /dev/ovup (OVUP_IOC_READ), so guest tests can prove kernel text is
 * unchanged after a refused apply.
 * kpeek -b ADDR: the instruction there, as far as return sites go: "ret",
 * "jmp 0xTARGET" (e9 rel32), or else its first 5 bytes in hex.
 * kpeek -t: the sizes of ovup.ko's own tables (OVUP_IOC_VERSION):
 * "bugs N extable N orc N syms N".
 */
#include "uapi/ovup_uapi.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

static int branch(int fd, const char *addr)
{
	unsigned char b[5];
	struct ovup_k_read r = { strtoull(addr, NULL, 0), (unsigned long)b, sizeof(b) };
	int rel;

	if (ioctl(fd, OVUP_IOC_READ, &r)) {
		printf("error\n");
		return 1;
	}
	memcpy(&rel, b + 1, 4);
	if (b[0] == 0xc3)
		printf("ret\n");
	else if (b[0] == 0xe9)
		printf("jmp 0x%llx\n", (unsigned long long)(r.addr + 5 + (long long)rel));
	else
		printf("%02x%02x%02x%02x%02x\n", b[0], b[1], b[2], b[3], b[4]);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char buf[4096];
	int fd = open("/dev/ovup", O_RDWR), i, rc = 0;

	if (argc == 3 && !strcmp(argv[1], "-b") && fd >= 0)
		return branch(fd, argv[2]);
	if (argc == 2 && !strcmp(argv[1], "-t") && fd >= 0) {
		struct ovup_k_version v;

		if (ioctl(fd, OVUP_IOC_VERSION, &v))
			return 1;
		printf("bugs %u extable %u orc %u syms %u\n", v.nbugs, v.nexentries, v.norcs,
		       v.nsyms);
		return 0;
	}

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
