// SPDX-License-Identifier: MIT
/*
 * Fuzzing the parsers of untrusted input under AddressSanitizer/UBSan:
 * /proc/PID/maps text, the state record (a file anyone with root may
 * edit), the command line, and /proc/kallsyms (through OVUP_KALLSYMS).
 * Inputs are mutations of valid samples from a fixed seed, so a failure
 * reproduces; the assertion is that nothing crashes and every result is
 * either a clean parse or a clean refusal.
 */
#include "cli/cmdline.h"
#include "core/core.h"
#include "target/process/maps.h"
#include "target/target.h"
#include "util/util.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* flips, inserts, deletes, duplicates bytes of a sample */
static char *mutate(const char *in)
{
	size_t n = strlen(in), cap = n * 2 + 64, i, rounds = 1 + next() % 8;
	char *s = ovup_xmalloc(cap);

	memcpy(s, in, n + 1);
	for (i = 0; i < rounds && n; i++) {
		size_t at = next() % n;

		switch (next() % 5) {
		case 0:
			s[at] = (char)(next() & 0xff);
			break;
		case 1:
			memmove(s + at, s + at + 1, n - at);
			n--;
			break;
		case 2:
			if (n + 2 < cap) {
				memmove(s + at + 1, s + at, n - at + 1);
				s[at] = " \n0x-%:#[]"[next() % 11];
				n++;
			}
			break;
		case 3: {
			size_t len = next() % 16, from = next() % n;

			if (from + len <= n && n + len + 1 < cap) {
				memmove(s + at + len, s + at, n - at + 1);
				memmove(s + at, s + from, len);
				n += len;
			}
			break;
		}
		default:
			s[at] = '\n';
		}
		if (!n)
			break;
	}
	s[n] = 0;
	if (!s[0] && n)
		s[0] = 'x';
	return s;
}

static const char maps_sample[] =
	"555555554000-555555556000 r--p 00000000 08:01 1234 /usr/bin/victim\n"
	"555555556000-555555558000 r-xp 00002000 08:01 1234 /usr/bin/victim\n"
	"7ffff7d80000-7ffff7da8000 r--p 00000000 08:01 99   /usr/lib/libc.so.6\n"
	"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0    [stack]\n";

static const char record_sample[] =
	"patch fix 1 1700000000 applied /tmp/fix.c\n"
	"block 0x7000 0x1000 1\n"
	"func compute /usr/bin/victim 0x1000 0x40 0x1004 0x7000 5548895de5 e9fbff0000\n"
	"end\n"
	"retired 0x9000 0x1000 1\n";

static const char kallsyms_sample[] = "ffffffff8a000000 T _text\n"
				      "ffffffff8a2105a0 t cmdline_proc_show\n"
				      "ffffffff8a2105d0 t version_proc_show\n"
				      "000000000001fb80 A current_task\n"
				      "ffffffffc0001000 t target_show\t[ovup_target]\n"
				      "ffffffffc0001100 T target_init\t[ovup_target]\n";

int main(void)
{
	int i, parsed = 0, refused = 0, cli_ok = 0, ks_ok = 0;
	char *dir = ovup_tmpdir(), *kpath = ovup_xasprintf("%s/kallsyms", dir);

	for (i = 0; i < 20000; i++) {
		char *in = mutate(i % 2 ? maps_sample : record_sample);

		if (i % 2) {
			struct ovup_map *m;
			size_t n;

			if (!ovup_maps_parse(in, &m, &n)) {
				uint64_t a;

				parsed++;
				ovup_maps_hole(m, n, 4096 + next() % 65536, next(),
					       UINT64_MAX - next(), next(), next(), &a);
				ovup_maps_free(m, n);
			} else {
				refused++;
			}
		} else {
			struct ovup_records rs;

			if (!ovup_records_parse(in, &rs)) {
				char *again = ovup_records_format(&rs);
				struct ovup_records rs2;

				/* what parses must survive a round trip */
				if (ovup_records_parse(again, &rs2)) {
					ok(0, "a parsed record formats to something that parses");
					printf("# input: %s\n", in);
				} else {
					ovup_records_free(&rs2);
				}
				free(again);
				ovup_records_free(&rs);
				parsed++;
			} else {
				refused++;
			}
		}
		free(in);
	}
	ok(parsed > 0 && refused > 0,
	   "20000 mutated maps and records: %d parsed, %d refused, no crash", parsed, refused);

	for (i = 0; i < 3000; i++) {
		static const char *const words[] = { "apply",  "-p",   "42",        "--pid=7",
						     "-k",     "x.c",  "--",        "-O0",
						     "--name", "n",    "--retries", "3",
						     "revert", "list", "--json",    "-n",
						     "-o",     "o",    "build",     "" };
		char *argv[8];
		int argc = 1 + (int)(next() % 7), k;
		struct ovup_cmdline c;

		argv[0] = "ovup";
		for (k = 1; k < argc; k++)
			argv[k] = (char *)words[next() % (sizeof(words) / sizeof(words[0]))];
		argv[argc] = NULL;
		if (!ovup_cmdline_parse(argc, argv, &c))
			cli_ok++;
		else if (!c.err[0])
			ok(0, "a refused command line has a reason");
	}
	ok(1, "3000 random command lines: %d accepted, the rest refused with a reason", cli_ok);

	setenv("OVUP_KALLSYMS", kpath, 1);
	for (i = 0; i < 2000; i++) {
		char *in = mutate(kallsyms_sample);
		struct ovup_target *t;
		struct ovup_symtab st = { 0 };

		ovup_write_file_atomic(kpath, in, strlen(in));
		if (!ovup_target_kernel_open(1, &t)) {
			ovup_err_clear();
			if (!t->ops->labels(t, &st))
				ks_ok++;
			ovup_symtab_free(&st);
			t->ops->close(t);
		}
		ovup_err_clear();
		free(in);
	}
	ok(ks_ok > 0, "2000 mutated kallsyms files: %d read, no crash", ks_ok);
	ovup_tmpdir_remove(dir);
	free(dir);
	free(kpath);
	return tap_done();
}
