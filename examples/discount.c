// SPDX-License-Identifier: MIT
/*
 * A live fix for examples/shop.c: a 50% discount, tax still read from the
 * running program's own variable.  Apply with
 *   ovup apply -p $(pidof shop) examples/discount.c
 */
extern int tax_percent; /* the running program's variable */

int price(int net)
{
	int discounted = net / 2;

	return discounted + discounted * tax_percent / 100;
}
