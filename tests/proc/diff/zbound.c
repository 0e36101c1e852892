// SPDX-License-Identifier: MIT
/* A program using zlib, for tests/proc/47-diff-zlib.t: prints "ready PID",
 * then answers each line "bound LEVEL MEMLEVEL LEN" with deflateBound()
 * of a raw deflate stream made with those parameters, and "stored LEN"
 * with how many bytes deflate() at that level really writes for LEN
 * bytes of incompressible data.  Linked against a zlib built from
 * Debian's source package by the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static unsigned long bound(int level, int memlevel, unsigned long len)
{
	z_stream s;
	unsigned long b;

	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, level, Z_DEFLATED, -15, memlevel, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	b = deflateBound(&s, len);
	deflateEnd(&s);
	return b;
}

/* what deflate() writes for len bytes of noise at this level */
static unsigned long written(int level, int memlevel, unsigned long len)
{
	unsigned char *in = malloc(len), *out = malloc(2 * len + 1024);
	unsigned long i, x = 12345, n = 0;
	z_stream s;

	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		in[i] = (unsigned char)(x >> 16);
	}
	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, level, Z_DEFLATED, -15, memlevel, Z_DEFAULT_STRATEGY) == Z_OK) {
		s.next_in = in;
		s.avail_in = (uInt)len;
		s.next_out = out;
		s.avail_out = (uInt)(2 * len + 1024);
		if (deflate(&s, Z_FINISH) == Z_STREAM_END)
			n = s.total_out;
		deflateEnd(&s);
	}
	free(in);
	free(out);
	return n;
}

int main(void)
{
	char line[256];
	int level, mem;
	unsigned long len;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "bound %d %d %lu", &level, &mem, &len) == 3)
			printf("%lu\n", bound(level, mem, len));
		else if (sscanf(line, "written %d %d %lu", &level, &mem, &len) == 3)
			printf("%lu\n", written(level, mem, len));
		else if (!strncmp(line, "quit", 4))
			break;
		else
			printf("?\n");
	}
	return 0;
}
