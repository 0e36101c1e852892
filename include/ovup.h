/* SPDX-License-Identifier: MIT */
/*
 * ovup.h — for patch authors.  A patch is a C file; each non-static
 * function it defines replaces the target's function of the same name.
 * These macros say WHICH symbol a name means when the target has several
 * (the same static name in two files, or in two libraries).  They emit
 * strings into the section .ovup.meta, which ovup reads and never loads.
 * See docs/patch-format.md.
 */
#ifndef OVUP_PATCH_H
#define OVUP_PATCH_H

#define OVUP_CAT_(a, b) a##b
#define OVUP_CAT(a, b) OVUP_CAT_(a, b)
#define OVUP_STR_(x) #x
#define OVUP_STR(x) OVUP_STR_(x)

#define OVUP_META_(kind, sym, value)                                               \
	static const char OVUP_CAT(__ovup_meta_, __COUNTER__)[]                    \
		__attribute__((section(".ovup.meta"), used, aligned(1))) =        \
			kind " " #sym " " value

/* The symbol `sym` (replaced or used) is the one in this object: a file
 * name or path suffix as /proc/PID/maps shows it ("libc.so.6", "nginx"),
 * or for the kernel "vmlinux" or a module name. */
#define OVUP_OBJECT(sym, object) OVUP_META_("object", sym, object)

/* ... the one defined in this source file (needs .symtab or debuginfo). */
#define OVUP_FILE(sym, file) OVUP_META_("file", sym, file)

/* ... the n-th of that name in its object's symbol table (1-based), as
 * `ovup symbols` shows after '#'. */
#define OVUP_SYMPOS(sym, n) OVUP_META_("sympos", sym, OVUP_STR(n))

/* The function a replacement replaces, as it was before this patch (the
 * target's original, or the patch underneath when patches are stacked):
 *
 *	int compute(int x)
 *	{
 *		if (x < 0)
 *			return 0;                   // the fix
 *		return OVUP_ORIG(compute)(x);       // the old code for the rest
 *	}
 *
 * ovup moves the instructions its jump displaces to a trampoline that ends
 * with a jump back into the old code, and points __ovup_orig_<fn> at it.
 * Instructions that cannot be moved are refused when the patch is applied. */
#define OVUP_ORIG(fn)                                                            \
	({                                                                       \
		extern __typeof__(fn) OVUP_CAT(__ovup_orig_, fn);                \
		&OVUP_CAT(__ovup_orig_, fn);                                     \
	})

#endif
