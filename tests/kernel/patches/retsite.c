// SPDX-License-Identifier: GPL-2.0
/* noop_fsync is NOP5, xor %eax,%eax, jmp __x86_return_thunk: the jump ovup
 * would write displaces a return-thunk site, which the kernel rewrote at
 * boot (to ret; int3...), so its bytes cannot be checked: refused. */
#include <linux/fs.h>

int noop_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	return 1;
}
