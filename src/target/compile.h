/* SPDX-License-Identifier: MIT */
/*
 * Compiling a patch and sorting its sections, shared by the targets
 * (compile.c): the process target uses them as they are, the kernel target
 * for what kernel objects have in common with user-space ones.
 */
#ifndef OVUP_COMPILE_H
#define OVUP_COMPILE_H

#include <stddef.h>
#include <stdint.h>

struct ovup_target;

/* enum ovup_sec_class of a user-space object's section */
int ovup_classify_user(const char *name, uint64_t flags, uint32_t type);
/* cc -c for a user-space target: -O2 -fPIC -fno-plt ..., extra after */
int ovup_cc_compile(struct ovup_target *t, const char *src, const char *out, char *const extra[],
		    size_t nextra);
/* the directory of ovup.h: $OVUP_INCLUDE, or found next to the binary,
 * or the one configured at build time (PREFIX/share/ovup/include) */
const char *ovup_include_dir(void);
/* NULL if ovup_include_dir() holds ovup.h, else (malloc'd) where ovup
 * looked and how to fix it, for the message of a failed compile */
char *ovup_include_missing(void);

#endif
