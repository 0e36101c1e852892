// SPDX-License-Identifier: MIT
/* Unit tests of the record of applied patches: text round trip, escaping,
 * corrupt input, and the stack of patches on one site. */
#include "core/core.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>

static struct ovup_rec_func func(const char *name, uint64_t site, uint8_t tag)
{
	struct ovup_rec_func f = { 0 };

	f.name = (char *)name;
	f.object = (char *)"/usr/lib/lib with space.so";
	f.old_addr = site - 4;
	f.old_size = 64;
	f.site = site;
	f.new_addr = 0x1000;
	f.len = 5;
	f.saved[0] = 0x55;
	f.jump[0] = 0xe9;
	f.jump[1] = tag;
	return f;
}

int main(void)
{
	struct ovup_rec_func fa[2] = { func("compute", 0x4004, 1), func("other", 0x5004, 1) };
	struct ovup_rec_func fb[1] = { func("compute", 0x4004, 2) };
	struct ovup_rec_block blk = { 0x7000, 0x1000, 1 };
	struct ovup_record r[2] = {
		{ .name = "fix-1",
		  .source = "/tmp/my patch.c",
		  .seq = 1,
		  .time = 1700000000,
		  .blocks = &blk,
		  .nblocks = 1,
		  .funcs = fa,
		  .nfuncs = 2 },
		{ .name = "-",
		  .source = "",
		  .seq = 2,
		  .time = 5,
		  .state = OVUP_REC_PENDING,
		  .funcs = fb,
		  .nfuncs = 1 },
	};
	struct ovup_records in = { r, 2 }, out;
	const struct ovup_rec_func *f;
	char *text, *again;

	text = ovup_records_format(&in);
	is_int(ovup_records_parse(text, &out), 0, "formatted records parse back");
	is_int(out.n, 2, "two records");
	is_str(out.r[0].name, "fix-1", "the name");
	is_str(out.r[0].source, "/tmp/my patch.c", "a path with a space survives");
	is_str(out.r[0].funcs[0].object, "/usr/lib/lib with space.so", "so does an object path");
	is_str(out.r[1].name, "-", "a name that is a lone dash survives");
	is_str(out.r[1].source, "", "an empty source survives");
	is_int(out.r[1].state, OVUP_REC_PENDING, "pending state survives");
	is_int(out.r[0].funcs[1].site, 0x5004, "a site address");
	ok(out.r[0].funcs[0].jump[0] == 0xe9 && out.r[0].funcs[0].saved[0] == 0x55 &&
		   out.r[0].funcs[0].len == 5,
	   "saved and written bytes");
	is_int(out.r[0].nblocks, 1, "blocks");
	again = ovup_records_format(&out);
	is_str(again, text, "format(parse(text)) == text");
	ok(ovup_records_top(&out, 0x4004, &f) == &out.r[1] && f->jump[1] == 2,
	   "the newer patch is on top of the shared site");
	ok(ovup_records_top(&out, 0x5004, NULL) == &out.r[0], "the older one owns its other site");
	ok(ovup_records_top(&out, 0x6000, NULL) == NULL, "no patch on an untouched site");
	free(again);
	ovup_records_free(&out);
	free(text);

	is_int(ovup_records_parse("patch a 1 2 applied src\nfunc f o 0x1 0x2 0x3 0x4 5555 e9e9\n",
				  &out),
	       -EINVAL, "a record without 'end' is corrupt");
	is_int(ovup_records_parse(
		       "patch a 1 2 applied src\nfunc f o 0x1 0x2 0x3 0x4 55 e9e9\nend\n", &out),
	       -EINVAL, "saved and written lengths must agree");
	is_int(ovup_records_parse("patch a x 2 applied src\nend\n", &out), -EINVAL,
	       "a non-numeric seq is corrupt");
	is_int(ovup_records_parse("patch a 1 2 maybe src\nend\n", &out), -EINVAL,
	       "an unknown state is corrupt");
	is_int(ovup_records_parse("patch a 1 2 reverting src\nend\n", &out), 0,
	       "a revert under way is a state");
	is_int(out.r[0].state, OVUP_REC_REVERTING, "... read back as such");
	ovup_records_free(&out);
	is_int(ovup_records_parse("retired 0x1000 0x1000 1\n", &out), -EINVAL,
	       "blocks outside a record are no longer recorded (the target shows them)");
	is_int(ovup_records_parse("hello\n", &out), -EINVAL, "an unknown line is corrupt");
	is_int(ovup_records_parse("", &out), 0, "an empty record is no patch");
	is_int(out.n, 0, "... zero of them");
	return tap_done();
}
