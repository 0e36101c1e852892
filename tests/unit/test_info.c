// SPDX-License-Identifier: MIT
/* Unit tests of 'ovup info': which sections count as the patch's own
 * text, rodata, data and bss, and which are not loaded at all; and the
 * refusal of files that are not objects from 'ovup build'. */
#include "core/core.h"
#include "tap.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *kind(const char *name, uint64_t flags, uint32_t type)
{
	const char *k = ovup_info_sec_kind(name, flags, type);

	return k ? k : "none";
}

int main(void)
{
	struct ovup_info_result r;
	char path[] = "/tmp/ovup-unit-info.XXXXXX";
	int fd;

	is_str(kind(".text", SHF_ALLOC | SHF_EXECINSTR, SHT_PROGBITS), "text", "code is text");
	is_str(kind(".text.unlikely", SHF_ALLOC | SHF_EXECINSTR, SHT_PROGBITS), "text",
	       "... under any name");
	is_str(kind(".rodata.str1.1", SHF_ALLOC | SHF_MERGE | SHF_STRINGS, SHT_PROGBITS), "rodata",
	       "constants are rodata");
	is_str(kind(".data", SHF_ALLOC | SHF_WRITE, SHT_PROGBITS), "data", "variables are data");
	is_str(kind(".bss", SHF_ALLOC | SHF_WRITE, SHT_NOBITS), "bss", "zeroed ones are bss");
	is_str(kind(".data.rel.ro", SHF_ALLOC | SHF_WRITE, SHT_PROGBITS), "data",
	       "relro is written at load: data");
	is_str(kind(".debug_info", 0, SHT_PROGBITS), "none", "debug info is not loaded");
	is_str(kind(".rela.text", SHF_INFO_LINK, SHT_RELA), "none", "relocations are not loaded");
	is_str(kind(".ovup.meta", SHF_ALLOC, SHT_PROGBITS), "none",
	       "ovup's own records never count, allocated or not");
	is_str(kind(".ovup.build", 0, SHT_PROGBITS), "none", "... .ovup.build neither");

	/* not an ELF file: refused, and the result left empty */
	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "int x;\n", 7) == 7, "a C file written");
	close(fd);
	is_int(ovup_info_read(path, &r), -EINVAL, "a C file is no object from 'ovup build'");
	ok(!r.patch && !r.nfuncs, "... and nothing is returned");
	unlink(path);
	is_int(ovup_info_read(path, &r), -ENOENT, "a missing file: -ENOENT");
	return tap_done();
}
