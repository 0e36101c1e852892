/* SPDX-License-Identifier: MIT */
/* regspin(counts): a thread that keeps known values in its registers and
 * checks them without end -- rbx, rbp, r12-r15, the flags' carry, xmm0-15
 * and, with AVX, the upper halves of ymm0-15.  counts[0] counts rounds,
 * counts[1] rounds that found a register changed.  ovup injects system
 * calls into this thread; whatever happens to ovup, the thread must come
 * back with every register as it was. */
	.text
	.globl regspin
	.type regspin, @function
regspin:
	movq %rdi, %r11			/* counts */
	xorl %eax, %eax
	movl $1, %eax
	cpuid
	xorl %r10d, %r10d
	btl $28, %ecx			/* AVX */
	jnc 1f
	btl $27, %ecx			/* OSXSAVE */
	jnc 1f
	movl $1, %r10d
1:	movabsq $0x1111111111111111, %rbx
	movabsq $0x2222222222222222, %rbp
	movabsq $0x3333333333333333, %r12
	movabsq $0x4444444444444444, %r13
	movabsq $0x5555555555555555, %r14
	movabsq $0x6666666666666666, %r15
	leaq pattern(%rip), %rsi
	testl %r10d, %r10d
	jnz 2f
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu \n*16(%rsi), %xmm\n
	.endr
	jmp 3f
2:	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu \n*32(%rsi), %ymm\n
	.endr
3:	stc
4:	/* every round: the carry must still be set, and every register
	 * still hold its value (compared through memory, one at a time) */
	jnc 9f
	movabsq $0x1111111111111111, %rax
	cmpq %rax, %rbx
	jne 9f
	movabsq $0x2222222222222222, %rax
	cmpq %rax, %rbp
	jne 9f
	movabsq $0x3333333333333333, %rax
	cmpq %rax, %r12
	jne 9f
	movabsq $0x4444444444444444, %rax
	cmpq %rax, %r13
	jne 9f
	movabsq $0x5555555555555555, %rax
	cmpq %rax, %r14
	jne 9f
	movabsq $0x6666666666666666, %rax
	cmpq %rax, %r15
	jne 9f
	leaq scratch(%rip), %rdi
	testl %r10d, %r10d
	jnz 6f
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu %xmm\n, \n*16(%rdi)
	.endr
	movl $256, %ecx
	jmp 7f
6:	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqu %ymm\n, \n*32(%rdi)
	.endr
	movl $512, %ecx
7:	leaq pattern(%rip), %rsi
	repe cmpsb
	jne 9f
	lock incq (%r11)
	stc
	jmp 4b
9:	lock incq 8(%r11)
	lock incq (%r11)
	jmp 1b
	.size regspin, .-regspin

	.section .rodata
	.balign 32
pattern:
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.quad 0x0100000000000000+\n, 0x0200000000000000+\n, 0x0300000000000000+\n, 0x0400000000000000+\n
	.endr
	.bss
	.balign 32
scratch:
	.skip 512
	.section .note.GNU-stack,"",@progbits
