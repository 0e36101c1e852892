/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A show function placed so that its patch site (entry+5) straddles a page
 * boundary: ovup must write such a site through a two-page alias.  Written
 * in assembly because only here can the entry's address be pinned to
 * 7 bytes before a page end.  It starts with the ftrace NOP5, as compiled
 * kernel functions do.
 */

	.section .text.ovup_cross, "ax", @progbits
	.balign 4096
	.skip 4096 - 7, 0xcc
	.globl ovup_target_cross_show
	.type ovup_target_cross_show, @function
ovup_target_cross_show:
	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00	/* nopl 0(%rax,%rax,1) */
	leaq cross_msg(%rip), %rsi		/* entry+5: 2 bytes here, 5 on the next page */
	call seq_puts
	xorl %eax, %eax
	ret
	.size ovup_target_cross_show, . - ovup_target_cross_show

	.section .rodata.ovup_cross, "a", @progbits
cross_msg:
	.asciz "cross-original\n"
