/* SPDX-License-Identifier: MIT */
/* A function of 3 bytes: too short for a 5-byte jump. */
	.text
	.globl tiny
	.type tiny, @function
tiny:
	movl %edi, %eax
	ret
	.size tiny, .-tiny
	.section .note.GNU-stack,"",@progbits
