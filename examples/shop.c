// SPDX-License-Identifier: MIT
/*
 * The demo's victim: a long-running "server" that prints the price it
 * computes for an item once every 300 ms, forever.  `make demo` patches
 * its price function while it runs.
 */
#include <stdio.h>
#include <unistd.h>

int tax_percent = 20;

__attribute__((noinline)) int price(int net)
{
	return net + net * tax_percent / 100;
}

int main(void)
{
	int (*volatile fn)(int) = price;
	unsigned tick = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		printf("[shop pid %d] tick %u: price(100) = %d\n", (int)getpid(), tick++, fn(100));
		usleep(300000);
	}
}
