// SPDX-License-Identifier: MIT
/*
 * kgetcpu [ADDR]: calls getcpu(2) with a pointer to a local (or ADDR, e.g.
 * an unmapped one) and prints "RET ERRNO CPU", for the guest tests of
 * patched user-memory access (tests/kernel/extable.t).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned int cpu = 99999;
	void *p = argc > 1 ? (void *)strtoull(argv[1], NULL, 0) : &cpu;
	long ret = syscall(SYS_getcpu, p, NULL, NULL);

	printf("%ld %d %u\n", ret, ret ? errno : 0, cpu);
	return 0;
}
