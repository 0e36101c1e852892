// SPDX-License-Identifier: MIT
/*
 * A program of Debian's zlib (libz.so.1, stripped, no debug symbols):
 * commands on stdin, one line of answer each.  Patches replace zlib's own
 * functions, which call libc's memcpy and strlen and libm's floor (IFUNCs).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

int main(void)
{
	char line[256], word[128];
	int n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "zerror %d", &n) == 1) {
			printf("%s\n", zError(n));
		} else if (sscanf(line, "crc %127s", word) == 1) {
			printf("%lu\n", crc32(0, (const Bytef *)word, (uInt)strlen(word)));
		} else if (!strncmp(line, "memcpy", 6)) {
			/* what this program's calls of memcpy reach: the
			 * implementation libc's resolver selected */
			void *(*volatile f)(void *, const void *, size_t) = memcpy;

			printf("%p\n", (void *)f);
		} else if (sscanf(line, "floor %d", &n) == 1) {
			/* libm's floor, an IFUNC its loader binds at this
			 * first call (libm has no slot of its own for it) */
			printf("%g\n", floor(n * 1.5));
		} else if (sscanf(line, "seterrno %d", &n) == 1) {
			errno = n; /* libc's thread-local errno, this thread's */
			printf("ok\n");
		} else if (!strncmp(line, "getpid", 6)) {
			printf("%d\n", (int)getpid());
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	return 0;
}
