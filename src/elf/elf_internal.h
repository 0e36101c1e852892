/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libelf readers of src/elf/ (elf.c, patch.c), and by no one
 * else: only this folder includes <libelf.h>.
 */
#ifndef OVUP_ELF_INTERNAL_H
#define OVUP_ELF_INTERNAL_H

#include "elf.h"

#include <libelf.h>

/* An ELF handle on fd (libelf's version set up on first use), or NULL if
 * fd holds no ELF file. */
Elf *ovup_elf_open(int fd);
/* ovup's symbol kind and binding for an st_info */
enum ovup_sym_type ovup_elf_sym_type(unsigned char info);
enum ovup_sym_bind ovup_elf_sym_bind(unsigned char info);

#endif
