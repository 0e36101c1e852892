// SPDX-License-Identifier: MIT
/*
 * memsnap PID: prints every mapping of a process with a hash of its bytes,
 * so a test can prove that a failed ovup run left the target byte-for-byte
 * as it was, with no mapping added or removed.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[64], line[4096];
	FILE *maps;
	int mem;

	if (argc != 2) {
		fprintf(stderr, "usage: memsnap PID\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	mem = open(path, O_RDONLY);
	if (!maps || mem < 0) {
		perror("memsnap");
		return 1;
	}
	while (fgets(line, sizeof(line), maps)) {
		uint64_t start, end, a, h = 1469598103934665603ull;
		char perms[8];
		static unsigned char buf[1 << 16];

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &start, &end, perms) != 3)
			continue;
		if (perms[0] != 'r' || strstr(line, "[vvar") || strstr(line, "[vsyscall]")) {
			printf("%s -\n", line);
			continue;
		}
		for (a = start; a < end; a += sizeof(buf)) {
			size_t n = end - a < sizeof(buf) ? end - a : sizeof(buf), i;

			if (pread(mem, buf, n, (off_t)a) != (ssize_t)n)
				break;
			for (i = 0; i < n; i++)
				h = (h ^ buf[i]) * 1099511628211ull;
		}
		printf("%s %016" PRIx64 "\n", line, h);
	}
	return 0;
}
