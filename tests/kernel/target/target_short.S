/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A function of 7 bytes (the ftrace NOP5 and a ud2) with the next symbol
 * right after it: a jump at entry+5 would write 3 bytes past its end, which
 * ovup.ko must refuse (tests/kernel/kioctl.c, group k5).  Never called.
 */

	.section .text.ovup_short, "ax", @progbits
	.balign 16
	.globl ovup_target_short
	.type ovup_target_short, @function
ovup_target_short:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0(%rax,%rax,1) */
	ud2
	.size ovup_target_short, . - ovup_target_short
	.globl ovup_target_short_next
	.type ovup_target_short_next, @function
ovup_target_short_next:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00
	ud2
	.size ovup_target_short_next, . - ovup_target_short_next
