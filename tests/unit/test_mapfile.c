// SPDX-License-Identifier: MIT
/* Unit tests of the mapfile (linker script) generator, checked by running
 * the real ld on a real object with it. */
#include "core/core.h"
#include "elf/elf.h"
#include "util/util.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const char patch_src[] =
	"extern int counter; extern int printf(const char *, ...);\n"
	"static int state = 5; int zeroed; static const char msg[] = \"hi %d\\n\";\n"
	"int compute(int x) { printf(msg, x); zeroed++; return x * 3 + counter + state++; }\n";

int main(void)
{
	struct ovup_label labels[] = { { "printf", 0x7f0000123450ull },
				       { "counter", 0x555555558010ull } };
	struct ovup_mapfile_in in = {
		"t", 0x555555600000ull, 0x555555601000ull, 0x555555602000ull, labels, 2, NULL, NULL
	};
	char *map = ovup_mapfile(&in), *dir = ovup_tmpdir(), *src, *obj, *out, *ld, *cmd;
	struct ovup_img img;
	size_t i;
	int text_ok = 0, got_ok = 0, data_ok = 0, bss_ok = 0, sym_ok = 0;

	has_str(map, ". = 0x555555600000;", "text base");
	has_str(map, ". = 0x555555601000;", "read-only base");
	has_str(map, ". = 0x555555602000;", "writable base");
	has_str(map, "\"printf\" = 0x7f0000123450;", "a label, quoted");
	has_str(map, "\"counter\" = 0x555555558010;", "a variable's label");
	has_str(map, "/DISCARD/", "notes and .eh_frame are dropped");
	has_str(map, "*(.ovup.*)", "ovup's own sections are never loaded");

	/* the real test: ld places a real object where the script says */
	src = ovup_xasprintf("%s/p.c", dir);
	obj = ovup_xasprintf("%s/p.o", dir);
	out = ovup_xasprintf("%s/p.elf", dir);
	ld = ovup_xasprintf("%s/p.ld", dir);
	ovup_write_file_atomic(src, patch_src, strlen(patch_src));
	ovup_write_file_atomic(ld, map, strlen(map));
	cmd = ovup_xasprintf("cc -c -O2 -fPIC -fno-plt -fno-asynchronous-unwind-tables -o %s %s && "
			     "ld -o %s -T %s -e 0 --no-relax -nostdlib -z noexecstack "
			     "--no-warn-rwx-segments --orphan-handling=error %s",
			     obj, src, out, ld, obj);
	is_int(system(cmd), 0, "cc and ld accept the generated script");
	is_int(ovup_elf_img_read(out, &img), 0, "the image reads back");
	for (i = 0; i < img.nsecs; i++) {
		const struct ovup_img_sec *s = &img.secs[i];

		text_ok |= !strcmp(s->name, ".text") && s->addr == 0x555555600000ull;
		got_ok |= !strcmp(s->name, ".got") && s->addr >= 0x555555601000ull &&
			  s->addr < 0x555555602000ull;
		data_ok |= !strcmp(s->name, ".data") && s->addr == 0x555555602000ull;
		bss_ok |= !strcmp(s->name, ".bss") && s->nobits && s->addr >= 0x555555602000ull;
		if (!strcmp(s->name, ".got")) {
			uint64_t *slot = (uint64_t *)s->data;
			size_t k;

			for (k = 0; k < s->size / 8; k++)
				got_ok |= (slot[k] == 0x7f0000123450ull) << 1;
		}
	}
	for (i = 0; i < img.nsyms; i++)
		sym_ok |= !strcmp(img.syms[i].name, "compute") &&
			  img.syms[i].value == 0x555555600000ull;
	ok(text_ok, ".text at the text base");
	ok(got_ok & 1, ".got in the read-only part");
	ok(got_ok & 2, "... holding printf's absolute address");
	ok(data_ok, ".data at the writable base");
	ok(bss_ok, ".bss after it, without file bytes");
	ok(sym_ok, "compute is defined at the text base");
	ovup_elf_img_free(&img);

	/* a section the script does not place must fail the link */
	free(cmd);
	cmd = ovup_xasprintf(
		"printf 'int x __attribute__((section(\".weird\"))) = 1;\\n' > %s && "
		"cc -c -o %s %s && ld -o %s -T %s -e 0 -nostdlib --orphan-handling=error "
		"%s 2>/dev/null",
		src, obj, src, out, ld, obj);
	ok(system(cmd) != 0, "an unplaced section is an error, not silently placed");
	free(cmd);

	/* sections a target keeps are output sections of their own names, so
	 * its fixups find them in the image: read-only ones in the read-only
	 * part, code ones after .text */
	{
		static const char *const ro[] = { "keep_ro", NULL }, *const tx[] = { "keep_tx",
										     NULL };
		int ro_ok = 0, tx_ok = 0;

		in.keep_ro = ro;
		in.keep_text = tx;
		free(map);
		map = ovup_mapfile(&in);
		has_str(map, "  keep_tx : { *(keep_tx) }", "a kept code section has its own name");
		ovup_write_file_atomic(ld, map, strlen(map));
		cmd = ovup_xasprintf(
			"printf 'const int r __attribute__((section(\"keep_ro\"))) = 1;\n"
			"int f(void) __attribute__((section(\"keep_tx\")));\n"
			"int f(void) { return r; }\n' > %s && "
			"cc -c -O2 -fno-asynchronous-unwind-tables -o %s %s && ld -o %s -T %s -e 0 "
			"-nostdlib --orphan-handling=error %s",
			src, obj, src, out, ld, obj);
		is_int(system(cmd), 0, "ld places kept sections");
		is_int(ovup_elf_img_read(out, &img), 0, "... and the image reads back");
		for (i = 0; i < img.nsecs; i++) {
			const struct ovup_img_sec *s = &img.secs[i];

			ro_ok |= !strcmp(s->name, "keep_ro") && s->addr >= 0x555555601000ull &&
				 s->addr < 0x555555602000ull;
			tx_ok |= !strcmp(s->name, "keep_tx") && s->addr >= 0x555555600000ull &&
				 s->addr < 0x555555601000ull;
		}
		ok(ro_ok, "keep_ro is a section of the read-only part");
		ok(tx_ok, "keep_tx is a section of the code");
		ovup_elf_img_free(&img);
		free(cmd);
	}
	free(src);
	free(obj);
	free(out);
	free(ld);
	free(map);
	ovup_tmpdir_remove(dir);
	free(dir);
	return tap_done();
}
