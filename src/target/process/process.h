/* SPDX-License-Identifier: MIT */
/*
 * Internal to the process target: the target's own state, and what its
 * files (one concern each, listed in process.c) give each other.
 */
#ifndef OVUP_PROCESS_H
#define OVUP_PROCESS_H

#include "../target.h"
#include "linkmap.h"
#include "maps.h"
#include "ptrace.h"
#include "seccomp.h"

#include <stdint.h>

/* ovup's mappings in a target are memfds with these names, so that the
 * target itself shows what ovup put there, a fork child carries it, and
 * exec wipes it with everything else. */
#define OVUP_MEMFD_BLOCK "ovup-patch:"
#define OVUP_MEMFD_RECORD "ovup-record"

struct proc_target {
	struct ovup_target base;
	int pid;
	int memfd;                /* /proc/PID/mem, flock()ed while working */
	uint64_t gadget_syscall;  /* "syscall; ret" in the target's code */
	uint64_t gadget_restorer; /* "rax = rt_sigreturn; syscall" */
	struct ovup_threads threads;
	struct ovup_block planned[4]; /* dry-run choices, as if mapped */
	size_t nplanned;
	struct ovup_seccomp seccomp; /* filters read from each thread */
	uint64_t trap_code;          /* the live switch's handler, 0 if none */
	int live_off;                /* the live switch cannot be used here */
};

static inline struct proc_target *ovup_to_proc(struct ovup_target *t)
{
	return ovup_container_of(t, struct proc_target, base);
}

/* access.c: the process exited, or ptrace was refused; each reports the
 * error (naming the pid, with the fix) and returns it */
int ovup_proc_dead(int pid);
int ovup_proc_gone(struct proc_target *p);
int ovup_proc_ptrace_err(struct proc_target *p, int err, const char *what);
int ovup_proc_denied(struct proc_target *p, const char *what);

/* memory.c */
int ovup_proc_read_maps(struct proc_target *p, struct ovup_map **m, size_t *n);
void ovup_proc_start_brk(struct proc_target *p, uint64_t *brk);
int ovup_proc_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len);
int ovup_proc_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len);

/* labels.c */
int ovup_proc_labels(struct ovup_target *t, struct ovup_symtab *st);
/* the symbols of one ELF file, at its own addresses (file.c) */
int ovup_file_labels(const char *path, struct ovup_symtab *st);
int ovup_proc_inlined(struct ovup_target *t, const struct ovup_symtab *st, const struct ovup_sym *s,
		      char ***callers, size_t *n);
int ovup_proc_resolve_ifunc(struct ovup_target *t, const struct ovup_symtab *st,
			    const struct ovup_sym *s, uint64_t *impl);

/* tls.c */
int ovup_proc_tls_offset(struct ovup_target *t, const struct ovup_symtab *st,
			 const struct ovup_sym *s, int64_t *tpoff);

/* debuginfo.c: the separate debug file of an object without .symtab,
 * found locally or from debuginfod; one session per labels run */
struct proc_debug;
struct proc_debug *ovup_proc_debug_begin(void);
void ovup_proc_debug_end(struct proc_debug *d);
/* The fd of its verified debug file, its path in *found; or -1, with the
 * local file that would help in *hint (NULL without build-id or
 * debuglink) and, if debuginfod was asked, what came of it in *note. */
int ovup_proc_debug_open(struct proc_debug *d, const char *name, const char *path,
			 const struct ovup_elf_info *info, char **found, char **hint, char **note);

/* original.c */
int ovup_proc_pristine(struct ovup_target *t, const struct ovup_symtab *st,
		       const struct ovup_sym *s, uint64_t addr, void *buf, size_t len);
int ovup_proc_original(struct ovup_target *t, uint64_t addr, void *buf, size_t len);
int ovup_proc_code_at(struct ovup_target *t, uint64_t addr, uint8_t **buf, uint64_t *start,
		      size_t *len);

/* threads.c */
int ovup_proc_stop(struct ovup_target *t);
int ovup_proc_pawrite(struct ovup_target *t, struct ovup_txn *txn);
int ovup_proc_resume(struct ovup_target *t, struct ovup_txn *txn);
void ovup_proc_thread_comm(int pid, int tid, char *buf, size_t len);

/* trap.c: the live switch of an apply's sites; -EOPNOTSUPP where it
 * cannot be used (every thread is stopped instead).  Its SIGTRAP handler
 * is linked after the patch's code (text_extra, fixup). */
#define OVUP_TRAP_SITES 64
int ovup_proc_switch_live(struct ovup_target *t, struct ovup_txn *txn);
int ovup_proc_trap_repair(struct ovup_target *t, struct ovup_txn *txn);
/* Before blocks b are freed, threads stopped: SIGTRAP's action back to
 * the default if it is the handler of one of them; -EBUSY (busy set) if a
 * thread still holds a SIGTRAP on its way to it. */
int ovup_proc_trap_release(struct proc_target *p, const struct ovup_block *b, size_t nb,
			   struct ovup_busy *busy);
uint64_t ovup_proc_trap_extra(const struct ovup_obj *o);
int ovup_proc_trap_fixup(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st);

/* remote.c: finds the syscall and restorer sequences in the target */
int ovup_proc_gadgets(struct proc_target *p);
/* remote.c: syscall nr(args) in a stopped thread of the target; data, if
 * any, is copied into the target and args[data_arg] set to its address */
int ovup_proc_syscall(struct proc_target *p, long nr, uint64_t args[6], const void *data,
		      size_t ndata, int data_arg, int64_t *res);
/* the same with data at every args[k] of bit k in data_args, copied back
 * into back (ndata bytes, if not NULL) once the call returned */
int ovup_proc_syscall_rw(struct proc_target *p, long nr, uint64_t args[6], const void *data,
			 size_t ndata, unsigned data_args, void *back, int64_t *res);
/* the same in held thread tid, from the sequence in the live switch's
 * handler (ovup_ptrace_call_start): the thread is left at the breakpoint
 * after the call and returns through its frame once let go; -EAGAIN (and
 * -v says why) if it cannot, for ovup_proc_syscall_rw instead */
int ovup_proc_syscall_trap(struct proc_target *p, pid_t tid, long nr, uint64_t args[6],
			   const void *data, size_t ndata, unsigned data_args, void *back,
			   int64_t *res);
/* the same, the thread let go at once (ovup_ptrace_release_into): it makes
 * the call on its own, with its data (which the call may overwrite) at
 * *at, and puts itself back */
int ovup_proc_syscall_released(struct proc_target *p, pid_t tid, long nr, uint64_t args[6],
			       const void *data, size_t ndata, unsigned data_args, uint64_t *at);
/* trap.c: test hook, the live switch's tracer dies here (docs/testing.md) */
void ovup_proc_trap_die_at(const char *name, size_t k);
/* the same without data; a failure in the target is reported as "what
 * failed in the target" */
int ovup_proc_call(struct proc_target *p, const char *what, long nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, int64_t *res);

/* blocks.c: maps a memfd called name (size bytes, prot) at exactly addr,
 * or where the kernel likes if addr is 0; -EEXIST if addr is taken */
int ovup_proc_map(struct proc_target *p, const char *name, uint64_t addr, uint64_t size, int prot,
		  uint64_t *at);
/* unmaps [addr, addr+size) if the target shows it is one of ovup's memfds
 * whose name starts with prefix, else refuses */
int ovup_proc_unmap(struct proc_target *p, uint64_t addr, uint64_t size, const char *prefix);
/* closes descriptors of ovup's memfds left open by an ovup that died */
int ovup_proc_close_leftovers(struct proc_target *p);

int ovup_proc_alloc(struct ovup_target *t, enum ovup_block_kind kind, const char *owner,
		    uint64_t size, uint64_t lo, uint64_t hi, uint64_t near, int dry_run,
		    struct ovup_block *out);
int ovup_proc_chgprot(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot);
int ovup_proc_free(struct ovup_target *t, const struct ovup_block *b, size_t n,
		   struct ovup_busy *busy);
int ovup_proc_blocks(struct ovup_target *t, struct ovup_block **out, size_t *n);

/* scan.c: -EBUSY, with what was found in busy, if anything could still
 * run in or return into the blocks b; threads stopped */
int ovup_proc_blocks_in_use(struct proc_target *p, const struct ovup_block *b, size_t nb,
			    struct ovup_busy *busy);

/* journal.c */
int ovup_proc_records_load(struct ovup_target *t, struct ovup_buf *out);
int ovup_proc_records_store(struct ovup_target *t, const char *text);

#endif
