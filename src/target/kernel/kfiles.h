/* SPDX-License-Identifier: MIT */
/*
 * Shared by the kernel target's files (not outside src/target/kernel/):
 * what ftrace and kprobes say about a function (probes.c), the bytes its
 * object file holds (kfile.c, with vmlinux.c and module.c), and the check
 * that joins them before a site is planned (verify.c).
 */
#ifndef OVUP_KFILES_H
#define OVUP_KFILES_H

#include <stddef.h>
#include <stdint.h>

#include "../../model/symtab.h"

/* ---- probes.c: tracefs and debugfs ---- */

/* Whether ftrace lists s as a traceable site (available_filter_functions):
 * 1 yes, 0 no (*why says why), or -errno with the message set. */
int ovup_kftrace_site(const struct ovup_symtab *st, const struct ovup_sym *s, char *why,
		      size_t len);

struct ovup_kprobe {
	uint64_t addr;
	char where[160]; /* "cmdline_proc_show+0x6" */
	char flags[64];  /* "[DISABLED][OPTIMIZED]" or "" */
	int optimized;
};
/* The registered kprobes whose bytes meet [lo, hi) (an optimized one's
 * 5-byte jump counts): how many (up to max stored), or -errno with the
 * message set. */
int ovup_kprobes_in(uint64_t lo, uint64_t hi, struct ovup_kprobe *out, size_t max);

/* ---- kfile.c: the object files of the running kernel ---- */

struct ovup_kfile;
/* The file s was loaded from (a module's .ko, or vmlinux from the kernel
 * image): 0, -ENOENT with the paths tried in the message, or -errno. */
int ovup_kfile_open(const struct ovup_symtab *st, const struct ovup_sym *s,
		    struct ovup_kfile **out);
/* [addr, addr + len) of s, live addresses, as the file holds it and, with
 * relocate, relocated as the loader did (KASLR, module relocations); without,
 * good for decoding instructions only.  0 or -errno with the message set. */
int ovup_kfile_read(struct ovup_kfile *f, uint64_t addr, uint8_t *buf, size_t len, int relocate);
/* A site the kernel rewrites at boot or load (alternatives, jump labels,
 * static calls, retpolines, return thunks, paravirt, smp locks) meeting
 * [addr, addr + len): its kind, or NULL. */
const char *ovup_kfile_rewritten(struct ovup_kfile *f, uint64_t addr, size_t len);
const char *ovup_kfile_path(const struct ovup_kfile *f);
void ovup_kfile_close(struct ovup_kfile *f);

/* ---- verify.c: the target op verify_entry (see ../target.h) ---- */

struct ovup_target;
int ovup_kverify_entry(struct ovup_target *t, const struct ovup_symtab *st,
		       const struct ovup_sym *s, const uint8_t *entry, size_t n, int stacked);

#endif
