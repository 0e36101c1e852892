// SPDX-License-Identifier: MIT
/* Unit tests of /proc/PID/maps parsing and of choosing a hole in reach. */
#include "target/process/maps.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>

static const char sample[] =
	"555555554000-555555556000 r--p 00000000 08:01 1234    /usr/bin/victim\n"
	"555555556000-555555558000 r-xp 00002000 08:01 1234    /usr/bin/victim\n"
	"555555558000-55555555a000 rw-p 00004000 08:01 1234    /usr/bin/victim\n"
	"55555555a000-55555557b000 rw-p 00000000 00:00 0       [heap]\n"
	"7ffff7d80000-7ffff7da8000 r--p 00000000 08:01 99      /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7ffff7da8000-7ffff7f3d000 r-xp 00028000 08:01 99      /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	"7ffff7fc3000-7ffff7fc7000 r--p 00000000 00:00 0       [vvar]\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0       [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]\n";

int main(void)
{
	struct ovup_map *m;
	size_t n;
	uint64_t a, site = 0x555555556100ull, win = 1ull << 31;

	is_int(ovup_maps_parse(sample, &m, &n), 0, "a real maps text parses");
	is_int(n, 9, "nine mappings");
	ok(m[1].start == 0x555555556000ull && m[1].end == 0x555555558000ull, "addresses are hex");
	is_int(m[1].offset, 0x2000, "the file offset is read");
	is_str(m[1].perms, "r-xp", "permissions");
	is_str(m[4].path, "/usr/lib/x86_64-linux-gnu/libc.so.6", "a path with its directory");
	is_str(m[3].path, "[heap]", "a pseudo path");
	ovup_maps_free(m, n);

	is_int(ovup_maps_parse("zz-11 r-xp 0 0:0 0\n", &m, &n), -EINVAL, "garbage is refused");
	is_int(ovup_maps_parse("2000-1000 r-xp 0 00:00 0\n", &m, &n), -EINVAL,
	       "an end below the start is refused");
	is_int(ovup_maps_parse("1000-2000 r-xpq 0 00:00 0\n", &m, &n), -EINVAL,
	       "five permission letters are refused");
	is_int(ovup_maps_parse("", &m, &n), 0, "an empty text is no mapping");
	is_int(n, 0, "... zero of them");
	free(m);

	ovup_maps_parse(sample, &m, &n);
	is_int(ovup_maps_hole(m, n, 8192, site - win, site + win, site, 0x55555555a000ull, &a), 0,
	       "a hole is found near the executable");
	ok(a + 8192 <= 0x555555554000ull, "... below the executable (not in the heap's way)");
	ok(site - a < win, "... within a jump's reach");
	ok(a % 4096 == 0, "... page aligned");
	is_int(ovup_maps_hole(m, n, 8192, site - win, site + win, 0x55555557c000ull,
			      0x55555555a000ull, &a),
	       0, "asked to be near the heap's end");
	ok(a >= 0x55555557b000ull + (1ull << 30) || a + 8192 <= 0x555555554000ull,
	   "... keeps 1 GiB clear above the heap for brk");
	is_int(ovup_maps_hole(m, n, 4096, 0x7ffff7000000ull, 0x7ffffffff000ull, 0x7ffffffdd000ull,
			      0, &a),
	       0, "near the stack");
	ok(a + 4096 <= 0x7ffffffde000ull - (64ull << 20) || a >= 0x7ffffffff000ull,
	   "... keeps the stack's guard gap");
	is_int(ovup_maps_hole(m, n, 0x3000, 0x555555554000ull, 0x555555558000ull, 0x555555555000ull,
			      0, &a),
	       -ENOSPC, "a window with no free page gives ENOSPC");
	is_int(ovup_maps_hole(m, n, 0x1000, 0x7ffff7d00000ull, 0x7ffff7d80000ull, 0x7ffff7d7f000ull,
			      0, &a),
	       0, "a window just below libc");
	is_int(a, 0x7ffff7d7f000ull, "... gives the page closest to the wanted address");
	/* the case that once failed: a library far above the heap must not
	 * be shadowed by the heap's room */
	is_int(ovup_maps_hole(m, n, 4096, 0x7ffff7da8000ull - win, 0x7ffff7da8000ull + win,
			      0x7ffff7da8000ull, 0x55555555a000ull, &a),
	       0, "a hole near libc although the heap exists");
	ok(a > 0x55555557b000ull + (1ull << 30), "... far from the heap");
	ovup_maps_free(m, n);
	return tap_done();
}
