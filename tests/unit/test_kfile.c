// SPDX-License-Identifier: MIT
/*
 * vmlinux from the kernel image (src/target/kernel/vmlinux.c): the XZ
 * payload decompresses, the image's own KASLR relocation table is applied
 * for a simulated offset, the result is cached, and a missing image or
 * missing table bounds are refusals, not silent trust.  Skipped without a
 * /boot/vmlinuz-*.
 */
#include "tap.h"
#include "model/symtab.h"
#include "target/kernel/kfiles.h"
#include "util/util.h"

#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define LINK_TEXT 0xffffffff81000000ull
#define DELTA 0x2e000000ull /* a KASLR offset */

/* A relocated field: some 4 or 8 bytes around byte i moved by DELTA. */
static int moved_by_delta(const uint8_t *raw, const uint8_t *rel, size_t i, size_t n)
{
	size_t k;

	for (k = 0; k < 8 && k <= i; k++) {
		uint32_t a, b;
		uint64_t c, d;

		if (i - k + 4 <= n) {
			memcpy(&a, raw + i - k, 4);
			memcpy(&b, rel + i - k, 4);
			if (b - a == (uint32_t)DELTA || a - b == (uint32_t)DELTA)
				return 1;
		}
		if (i - k + 8 <= n) {
			memcpy(&c, raw + i - k, 8);
			memcpy(&d, rel + i - k, 8);
			if (d - c == DELTA)
				return 1;
		}
	}
	return 0;
}

int main(void)
{
	struct ovup_symtab st = { 0 };
	struct ovup_object o = { 0 };
	struct ovup_kfile *f = NULL;
	const struct ovup_sym *fn;
	char dir[] = "/tmp/ovup-kfile.XXXXXX", pattern[64];
	glob_t cached;
	uint8_t raw[128], rel[128];
	size_t first, n, w, windows = 0, moved = 0, unexplained = 0;
	glob_t g;
	int ret;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) || access(g.gl_pathv[0], R_OK)) {
		printf("1..0 # SKIP no readable /boot/vmlinuz-*\n");
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	setenv("OVUP_VMLINUX", g.gl_pathv[0], 1);
	setenv("OVUP_CACHE_DIR", dir, 1);
	o.name = ovup_xstrdup("vmlinux");
	o.path = ovup_xstrdup("vmlinux");
	ovup_symtab_add_object(&st, &o);
	ovup_symtab_add(&st, 0, "_text", LINK_TEXT + DELTA, 0, OVUP_SYM_FUNC, OVUP_BIND_GLOBAL,
			NULL);
	ovup_symtab_add(&st, 0, "fn", LINK_TEXT + DELTA + 0x100000, 0x10000, OVUP_SYM_FUNC,
			OVUP_BIND_GLOBAL, NULL);
	ovup_symtab_finish(&st);
	ovup_symtab_lookup(&st, "fn", &first, &n);
	fn = &st.syms[first];

	ret = ovup_kfile_open(&st, fn, &f);
	is_int(ret, 0, "%s decompresses into vmlinux", g.gl_pathv[0]);
	if (ret)
		printf("#   %s\n", ovup_err_msg());
	/* 64 KiB of text in windows: every byte the relocation changed is
	 * a field moved by the offset */
	/* windows overlap by 16 bytes: a field is judged where it is whole */
	for (w = 0; f && w < 0x10000; w += sizeof(raw) - 16) {
		size_t i;

		if (ovup_kfile_read(f, fn->addr + w, raw, sizeof(raw), 0) ||
		    ovup_kfile_read(f, fn->addr + w, rel, sizeof(rel), 1))
			break;
		windows++;
		for (i = 8; i < sizeof(raw) - 8; i++) {
			if (raw[i] == rel[i])
				continue;
			moved++;
			unexplained += !moved_by_delta(raw, rel, i, sizeof(raw));
		}
	}
	is_int(windows, (0x10000 + sizeof(raw) - 17) / (sizeof(raw) - 16),
	       "64 KiB of .text read at live addresses");
	ok(moved > 0, "the image's relocation table moved some of its bytes (%zu)", moved);
	is_int(unexplained, 0, "each moved byte is in a field moved by the KASLR offset");
	ok(f && ovup_kfile_rewritten(f, fn->addr, 5) &&
		   strstr(ovup_kfile_rewritten(f, fn->addr, 5), "cannot find"),
	   "without the tables' bounds in kallsyms every range counts as rewritten");
	ovup_kfile_close(f);
	f = NULL;
	snprintf(pattern, sizeof(pattern), "%s/vmlinux-*", dir);
	is_int(glob(pattern, 0, NULL, &cached), 0,
	       "the decompressed image is cached in OVUP_CACHE_DIR");
	globfree(&cached);
	ret = ovup_kfile_open(&st, fn, &f);
	is_int(ret, 0, "a second open maps the cache");
	ovup_kfile_close(f);

	setenv("OVUP_VMLINUX", "/nonexistent/vmlinuz", 1);
	f = NULL;
	ret = ovup_kfile_open(&st, fn, &f);
	is_int(ret, -ENOENT, "no image: -ENOENT");
	ok(ovup_err_msg() && strstr(ovup_err_msg(), "/nonexistent/vmlinuz") &&
		   strstr(ovup_err_msg(), "OVUP_VMLINUX"),
	   "... naming the path tried and the fix");
	ovup_tmpdir_remove(dir);
	globfree(&g);
	ovup_symtab_free(&st);
	return tap_done();
}
