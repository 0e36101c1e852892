// SPDX-License-Identifier: MIT
/*
 * Step 4, the mapfile: the linker script that places the patch's code at
 * the allocated text block, its read-only data (and GOT) and its writable
 * data at the data block, and defines every symbol the patch uses at its
 * address in the target.  Pure text generation.
 */
#define _GNU_SOURCE
#include "core.h"
#include "../util/util.h"

#include <inttypes.h>
#include <string.h>

static void list(struct ovup_buf *b, const char *const *secs)
{
	for (; secs && *secs; secs++)
		ovup_buf_printf(b, " *(%s)", *secs);
}

/* Each kept section is an output section of its own name, so that the
 * target's fixups find it in the image by that name. */
static void own_sections(struct ovup_buf *b, const char *const *secs)
{
	for (; secs && *secs; secs++)
		ovup_buf_printf(b, "  %s : { *(%s) }\n", *secs, *secs);
}

char *ovup_mapfile(const struct ovup_mapfile_in *in)
{
	struct ovup_buf b = { 0 };
	size_t i;

	ovup_buf_printf(&b, "/* ovup mapfile: %s */\n", in->title ? in->title : "patch");
	ovup_buf_printf(&b, "SECTIONS\n{\n");
	ovup_buf_printf(&b, "  . = 0x%" PRIx64 ";\n", in->text_base);
	ovup_buf_printf(&b, "  .text : { *(.text .text.*) }\n");
	own_sections(&b, in->keep_text);
	/* sections ld may synthesize; the link step checks they stay empty */
	ovup_buf_printf(&b, "  .plt : { *(.plt) *(.iplt) }\n");
	ovup_buf_printf(&b, "  . = 0x%" PRIx64 ";\n", in->ro_base);
	/* read-only after load: constants, and the GOT that ld fills with the
	 * final addresses (nothing relocates it at run time) */
	ovup_buf_printf(&b, "  .rodata : { *(.rodata .rodata.*) }\n");
	own_sections(&b, in->keep_ro);
	ovup_buf_printf(&b, "  .data.rel.ro : { *(.data.rel.ro .data.rel.ro.*) }\n");
	ovup_buf_printf(&b, "  .got : { *(.got) *(.igot) }\n");
	ovup_buf_printf(&b, "  .got.plt : { *(.got.plt) *(.igot.plt) }\n");
	/* a thread-local variable is its slot: the patch's initial-exec code,
	 * pointed here instead of at a GOT entry (ovup_elf_obj_tls_slots),
	 * loads its offset from the thread pointer */
	if (in->ntls) {
		ovup_buf_printf(&b, "  .got.tpoff : {");
		for (i = 0; i < in->ntls; i++)
			ovup_buf_printf(&b, " \"%s\" = .; QUAD(0x%" PRIx64 ");", in->tls[i].name,
					in->tls[i].addr);
		ovup_buf_printf(&b, " }\n");
	}
	/* input relocations are consumed; these patterns only keep ld's
	 * orphan check quiet about those of writable sections (.rela__x) */
	ovup_buf_printf(&b, "  .rela.dyn : { *(.rela.*) *(.rela_*) }\n");
	ovup_buf_printf(&b, "  . = 0x%" PRIx64 ";\n", in->rw_base);
	ovup_buf_printf(&b, "  .data : { *(.data .data.*) }\n");
	ovup_buf_printf(&b, "  .bss : { *(.bss .bss.*) *(COMMON) }\n");
	ovup_buf_printf(&b, "  /DISCARD/ : { *(.comment) *(.note .note.*) *(.eh_frame)"
			    " *(.eh_frame_hdr) *(.ovup.*) *(.debug_*) *(.gnu.debuglto_*)");
	list(&b, in->discard);
	ovup_buf_printf(&b, " }\n}\n");
	for (i = 0; i < in->nlabels; i++)
		ovup_buf_printf(&b, "\"%s\" = 0x%" PRIx64 ";\n", in->labels[i].name,
				in->labels[i].addr);
	return b.s;
}
