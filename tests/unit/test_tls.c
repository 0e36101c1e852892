// SPDX-License-Identifier: MIT
/* Unit tests of a patch's thread-local accesses (elf/patch.c, mapfile.c):
 * which TLS model each relocation belongs to, and the copy of the object
 * whose initial-exec accesses ld links against a slot of the mapfile,
 * checked in the bytes ld produced.  Real cc and ld, as ovup runs them. */
#define _GNU_SOURCE
#include "core/core.h"
#include "elf/elf.h"
#include "util/util.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXT 0x555555600000ull
#define RO 0x555555601000ull
#define RW 0x555555602000ull
#define TPOFF (-0x40ll)

static char *dir;

/* cc's object for src with flags, at dir/name.o */
static char *compile(const char *name, const char *src, const char *flags)
{
	char *c = ovup_xasprintf("%s/%s.c", dir, name), *o = ovup_xasprintf("%s/%s.o", dir, name);
	char *cmd = ovup_xasprintf("cc -c -O2 -fPIC -fno-plt -fno-asynchronous-unwind-tables %s "
				   "-o %s %s",
				   flags, o, c);

	ovup_write_file_atomic(c, src, strlen(src));
	if (system(cmd))
		bail("cc failed: %s", cmd);
	free(cmd);
	free(c);
	return o;
}

static int ld(const char *obj, const char *map, const char *out)
{
	char *lds = ovup_xasprintf("%s/t.ld", dir);
	char *cmd = ovup_xasprintf("ld -o %s -T %s -e 0 --no-relax -nostdlib -z noexecstack "
				   "--no-warn-rwx-segments --orphan-handling=error %s 2>/dev/null",
				   out, lds, obj);
	int ret;

	ovup_write_file_atomic(lds, map, strlen(map));
	ret = system(cmd);
	free(cmd);
	free(lds);
	return ret;
}

static const struct ovup_obj_sym *sym(const struct ovup_obj *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nsyms; i++)
		if (!strcmp(o->syms[i].name, name))
			return &o->syms[i];
	return NULL;
}

int main(void)
{
	struct ovup_label tls = { "tv", (uint64_t)TPOFF, 0 };
	struct ovup_mapfile_in in = { .title = "t",
				      .text_base = TEXT,
				      .ro_base = RO,
				      .rw_base = RW };
	struct ovup_obj o;
	struct ovup_img img;
	char *ie, *gd, *own, *slots, *out, *map;
	const struct ovup_obj_sym *s;
	const struct ovup_img_sec *text = NULL, *slot_sec = NULL;
	uint64_t slot = 0, held = 0;
	size_t n = 0, i;
	int32_t disp;

	dir = ovup_tmpdir();
	/* the first instruction loads the GOT entry: mov tv@gottpoff(%rip), %rax */
	ie = compile("ie", "extern __thread int tv;\nint f(void) { return tv; }\n",
		     "-ftls-model=initial-exec");
	gd = compile("gd", "extern __thread int tv;\nint f(void) { return tv; }\n",
		     "-ftls-model=global-dynamic");
	own = compile("own", "__thread int mine;\nint f(void) { return mine; }\n",
		      "-ftls-model=initial-exec");
	slots = ovup_xasprintf("%s/slots.o", dir);
	out = ovup_xasprintf("%s/t.elf", dir);

	is_int(ovup_elf_obj_read(ie, &o), 0, "an initial-exec object reads");
	ok(o.has_tls_relocs, "... it uses thread-local storage");
	ok(!o.tls_other_model, "... by initial-exec only");
	s = sym(&o, "tv");
	ok(s && !s->defined && s->type == OVUP_SYM_TLS, "... tv is an undefined TLS symbol");
	ovup_elf_obj_free(&o);

	is_int(ovup_elf_obj_read(gd, &o), 0, "a general-dynamic object reads");
	is_str(o.tls_other_model, "general-dynamic", "... its model is named");
	is_str(o.tls_other_sym, "tv", "... with the variable");
	ovup_elf_obj_free(&o);

	in.tls = &tls;
	in.ntls = 1;
	map = ovup_mapfile(&in);
	has_str(map, ".got.tpoff : { \"tv\" = .; QUAD(0xffffffffffffffc0); }",
		"the mapfile gives tv a slot holding its offset from the thread pointer");
	/* the trap the copy avoids: ld relaxes an initial-exec access of a
	 * symbol the link defines to local-exec (--no-relax or not), with an
	 * offset in a TLS segment the image does not have */
	is_int(ld(ie, map, out), 0, "ld links the object as cc made it...");
	is_int(ovup_elf_img_read(out, &img), 0, "... (the image reads back)");
	for (i = 0; i < img.nsecs; i++)
		if (!strcmp(img.secs[i].name, ".text"))
			text = &img.secs[i];
	ok(text && text->size >= 3 && !memcmp(text->data, "\x48\xc7\xc0", 3),
	   "... into mov $imm, %%rax: the slot is never read");
	ovup_elf_img_free(&img);
	text = NULL;

	is_int(ovup_elf_obj_tls_slots(ie, slots, &n), 0, "the copy for ld is written");
	is_int(n, 1, "... one relocation changed");
	is_int(ovup_elf_obj_read(slots, &o), 0, "... it reads back");
	ok(!o.has_tls_relocs, "... with no TLS relocation left");
	s = sym(&o, "tv");
	ok(s && !s->defined && s->type != OVUP_SYM_TLS, "... and tv no TLS symbol");
	ovup_elf_obj_free(&o);

	is_int(ld(slots, map, out), 0, "ld links the copy");
	is_int(ovup_elf_img_read(out, &img), 0, "... the image reads back");
	for (i = 0; i < img.nsecs; i++) {
		if (!strcmp(img.secs[i].name, ".text"))
			text = &img.secs[i];
		if (!strcmp(img.secs[i].name, ".got.tpoff"))
			slot_sec = &img.secs[i];
	}
	for (i = 0; i < img.nsyms; i++)
		if (!strcmp(img.syms[i].name, "tv"))
			slot = img.syms[i].value;
	ok(slot_sec && slot_sec->addr >= RO && slot_sec->addr < RW && slot == slot_sec->addr,
	   "tv is the slot, in the read-only part");
	if (slot_sec && slot_sec->size >= 8)
		memcpy(&held, slot_sec->data, 8);
	is_int((int64_t)held, TPOFF, "... holding the offset");
	ok(text && text->size >= 7 && !memcmp(text->data, "\x48\x8b\x05", 3),
	   "the code's first instruction is still mov disp32(%%rip), %%rax (not relaxed)");
	if (text && text->size >= 7) {
		memcpy(&disp, text->data + 3, 4);
		is_int(text->addr + 7 + (int64_t)disp, slot, "... and it loads the slot");
	}
	ovup_elf_img_free(&img);

	is_int(ovup_elf_obj_tls_slots(own, slots, &n), -ENOTSUP,
	       "an object's own thread-local variable has no slot: refused");

	free(map);
	free(ie);
	free(gd);
	free(own);
	free(slots);
	free(out);
	ovup_tmpdir_remove(dir);
	free(dir);
	return tap_done();
}
