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

/* block_late: a thread asleep in pause() whose syscall instruction is the
 * last two of late_entry's first 5 bytes: its pc (late_entry+5) lies past
 * the bytes a jump replaces, but the kernel restarts the interrupted call
 * at pc-2, inside them. */
	.globl late_entry
	.type late_entry, @function
late_entry:
	nop
	nop
	nop
	syscall
	ret
	.size late_entry, .-late_entry

	.globl block_late
	.type block_late, @function
block_late:
	movl $34, %eax		/* SYS_pause */
	call late_entry
	jmp block_late
	.size block_late, .-block_late

/* entered: an ordinary function, except that the code of another one,
 * enters (never called), jumps to entered+1, inside its first 5 bytes */
	.globl entered
	.type entered, @function
entered:
	push %rbx
	movl %edi, %eax
	addl $1, %eax
	pop %rbx
	ret
	.size entered, .-entered

	.globl enters
	.type enters, @function
enters:
	jmp entered+1
	.size enters, .-enters
	.section .note.GNU-stack,"",@progbits
