/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The memory ovup hands out: a TEXT area that the module loader places in
 * module text (within +-2 GiB of kernel text, RO+X after load, so a 5-byte
 * jmp rel32 reaches it) and a DATA area in module data (RW, never X).  Both
 * are @nobits: they cost no space in ovup.ko and the loader zero-fills them.
 * Kept in its own file so objtool (which has nothing to check in a blank
 * area) can be switched off for it alone.
 */

#define OVUP_AREA_BYTES (2 << 20)

	.section .ovup.text, "ax", @nobits
	.balign 4096
	.globl ovup_text_area
ovup_text_area:
	.skip OVUP_AREA_BYTES
	.globl ovup_text_area_end
ovup_text_area_end:

	.section .ovup.data, "aw", @nobits
	.balign 4096
	.globl ovup_data_area
ovup_data_area:
	.skip OVUP_AREA_BYTES
	.globl ovup_data_area_end
ovup_data_area_end:
