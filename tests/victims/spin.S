/* SPDX-License-Identifier: MIT */
/* A function a thread never leaves, whose instruction pointer is always
 * strictly inside its first 5 bytes: ovup must report it as busy. */
	.text
	.globl spin_forever
	.type spin_forever, @function
spin_forever:
	nop
1:	pause
	jmp 1b
	.size spin_forever, .-spin_forever
	.section .note.GNU-stack,"",@progbits
