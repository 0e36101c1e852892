/* SPDX-License-Identifier: MIT */
/* block_forever: a thread that sleeps in pause() with its instruction
 * pointer strictly inside block_entry's first 5 bytes (right after the
 * syscall instruction at its entry).  Writing a jump there would wreck the
 * thread when it wakes: ovup must report it as busy. */
	.text
	.globl block_entry
	.type block_entry, @function
block_entry:
	syscall
	nop
	nop
	nop
	ret
	.size block_entry, .-block_entry

	.globl block_forever
	.type block_forever, @function
block_forever:
	movl $34, %eax		/* SYS_pause */
	call block_entry
	jmp block_forever
	.size block_forever, .-block_forever
	.section .note.GNU-stack,"",@progbits
