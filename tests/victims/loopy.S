/* SPDX-License-Identifier: MIT */
/* A loop whose branch lands inside the function's first 5 bytes: a jump
 * written there would be re-entered half-way.  ovup must refuse it. */
	.text
	.globl loopy
	.type loopy, @function
loopy:
	movl %edi, %eax
1:	decl %eax
	jg 1b
	addl $5, %eax
	ret
	.size loopy, .-loopy
	.section .note.GNU-stack,"",@progbits
