/* SPDX-License-Identifier: MIT */
/*
 * What the procedure needs to know about the instruction set: how a branch
 * is encoded, where the branch goes in a function's first bytes, and how a
 * syscall is made in a stopped thread.  One implementation per directory
 * under src/arch/; the Makefile picks it, core never uses #ifdef.
 */
#ifndef OVUP_ARCH_H
#define OVUP_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

#define OVUP_ARCH_JUMP_MAX 16

extern const char ovup_arch_name[];

/* Length of the branch ovup writes (the patch site must hold this many). */
extern const unsigned ovup_arch_jump_len;

/* Encodes a branch placed at `from` to `to` in buf (>= OVUP_ARCH_JUMP_MAX
 * bytes).  Returns its length, or -ERANGE when `to` is out of reach. */
int ovup_arch_jump(uint64_t from, uint64_t to, uint8_t *buf);

/* What code (n bytes at `from`) starts with, as far as patch sites care:
 * a jump or call with its destination in *to, a breakpoint, or else. */
enum ovup_arch_branch { OVUP_ARCH_OTHER = 0, OVUP_ARCH_JMP, OVUP_ARCH_CALL, OVUP_ARCH_TRAP };
enum ovup_arch_branch ovup_arch_branch_decode(uint64_t from, const uint8_t *code, size_t n,
					      uint64_t *to);

/* 1 with the destination if code starts with the jump ovup writes. */
int ovup_arch_jump_decode(uint64_t from, const uint8_t *code, size_t n, uint64_t *to);

/* Bytes at a user function's entry that must stay in place (endbr64). */
size_t ovup_arch_entry_keep(const uint8_t *code, size_t n);

/* Kernel: the 5-byte ftrace site at entry (NOP5 or a call when ftrace is on);
 * returns its length, or 0 when the entry is no ftrace site. */
size_t ovup_arch_ftrace_site(const uint8_t *code, size_t n);
/* Writes the ftrace NOP (what the module loader makes of `call __fentry__`)
 * to buf; returns its length. */
size_t ovup_arch_ftrace_nop(uint8_t *buf);

/* A syscall injected into a stopped thread must never leave it running on
 * borrowed registers if ovup dies: the thread runs two sequences found in
 * the target's own code, "syscall; ret" and the signal restorer
 * "rax = rt_sigreturn; syscall", over a signal frame ovup wrote below its
 * stack pointer, so that whatever happens to ovup it makes the call and
 * then returns to exactly the state it was stopped in. */
extern const uint8_t ovup_arch_gadget_syscall[]; /* syscall; ret */
extern const size_t ovup_arch_gadget_syscall_len;
extern const uint8_t *const ovup_arch_gadget_restorer[]; /* NULL-terminated */
extern const size_t ovup_arch_gadget_restorer_len[];
/* The ptrace register set holding the extended FPU state (NT_X86_XSTATE). */
extern const unsigned ovup_arch_fpregset;
#define OVUP_ARCH_XSTATE_MAX 16384
/* The AUDIT_ARCH_* value a seccomp filter sees for the syscall gadget. */
extern const uint32_t ovup_arch_audit;

struct ovup_arch_frame {
	/* in */
	const struct user_regs_struct *regs; /* the thread as it was stopped */
	uint64_t sigmask;                    /* its blocked signals */
	const uint8_t *xstate;               /* its FPU state (ovup_arch_fpregset) */
	size_t xlen;
	uint64_t restorer; /* address of a restorer gadget */
	const void *data;  /* bytes the syscall reads, or NULL */
	size_t ndata;      /* at most OVUP_ARCH_FRAME_DATA */
	/* out */
	uint64_t lo; /* the frame's bytes go to [lo, lo + len) */
	size_t len;
	uint8_t *bytes;     /* malloc'd, len bytes */
	uint64_t sp;        /* the stack pointer while injected */
	uint64_t data_addr; /* where data lands */
};
#define OVUP_ARCH_FRAME_DATA 128
/* Lays out the frame below the thread's red zone, as the kernel lays out
 * a signal frame (same room), holding the state to return to: the
 * registers with any interrupted syscall set to restart, the signal mask,
 * the FPU state.  -EINVAL if the state does not fit. */
int ovup_arch_frame(struct ovup_arch_frame *f);

/* Sets up regs so that resuming at `pc` (the syscall gadget) with stack sp
 * performs syscall nr(args) and suppresses syscall restart. */
void ovup_arch_regs_syscall(struct user_regs_struct *r, uint64_t pc, uint64_t sp, long nr,
			    const uint64_t args[6]);
uint64_t ovup_arch_regs_ret(const struct user_regs_struct *r);
uint64_t ovup_arch_regs_pc(const struct user_regs_struct *r);
uint64_t ovup_arch_regs_sp(const struct user_regs_struct *r);
/* Where the thread may execute next: its pc, and for a thread stopped in
 * a syscall also the syscall instruction, which the kernel re-executes
 * when the call is restarted.  Returns how many addresses it wrote. */
size_t ovup_arch_regs_resume_pcs(const struct user_regs_struct *r, uint64_t pcs[2]);
/* The general registers, as words: any may hold a code address. */
size_t ovup_arch_regs_words(const struct user_regs_struct *r, uint64_t *w, size_t max);
/* glibc keeps code pointers in jmp_buf and atexit lists mangled with a
 * per-process guard word (PTR_MANGLE): where that word is, from a thread's
 * registers, and a stored word demangled with it. */
uint64_t ovup_arch_pointer_guard_addr(const struct user_regs_struct *r);
uint64_t ovup_arch_demangle(uint64_t word, uint64_t guard);
/* Applies what the kernel does to an interrupted syscall when the thread
 * resumes without a signal handler: back to the syscall instruction. */
void ovup_arch_regs_restart(struct user_regs_struct *r);
/* Would a thread stopped with these registers lose its restart if it
 * returned through a signal frame?  (A call restarted through the
 * kernel's restart block, which rt_sigreturn cancels: it would fail with
 * EINTR.) */
int ovup_arch_regs_restart_lost(const struct user_regs_struct *r);

/* The live switch (target/process/trap.c) puts OVUP_ARCH_TRAP_BYTE, a
 * one-byte breakpoint, at each site before the rest of its bytes.  Its
 * SIGTRAP handler, installed only while those are in place: the code is
 * OVUP_ARCH_TRAP_TABLE bytes, followed by a table (u64 n, then the n
 * sites) that ovup fills.  A trap at a site of the table (the pc just
 * past it, or at it where ovup moved a stopped thread back) waits there,
 * without a system call, until the site's first byte is no longer the
 * breakpoint, then runs the site again; any other SIGTRAP gets the default
 * action back and is raised again, as if there had been no handler.
 *
 * The code also holds the sequence the call that installs the handler
 * runs, at OVUP_ARCH_TRAP_CALL: "syscall; int3; ret".  The breakpoint
 * stops the thread for ovup once the call is done; a trap there that
 * reaches the handler (ovup died) returns at once, and `ret` goes on to
 * the signal frame that restores the thread.  The handler of ovup before
 * 2026-12 (OVUP_ARCH_TRAP_TABLE_V1 bytes, no such sequence) is still
 * known as ovup's. */
#define OVUP_ARCH_TRAP_BYTE 0xcc
#define OVUP_ARCH_TRAP_TABLE 168
#define OVUP_ARCH_TRAP_CALL 160
#define OVUP_ARCH_TRAP_CALL_END 163 /* the pc its breakpoint stops at */
#define OVUP_ARCH_TRAP_TABLE_V1 152
extern const uint8_t ovup_arch_trap_handler[OVUP_ARCH_TRAP_TABLE];
extern const uint8_t ovup_arch_trap_handler_v1[OVUP_ARCH_TRAP_TABLE_V1];
/* The site whose breakpoint stopped a thread: its pc minus the byte. */
uint64_t ovup_arch_trap_site(const struct user_regs_struct *r);
void ovup_arch_regs_set_pc(struct user_regs_struct *r, uint64_t pc);

/* Copies the instructions covering [site, site+min_len) of code (len bytes
 * read at site), preceded by prefix, to a trampoline that runs at `to` and
 * ends with a jump back to the first instruction not copied.  Returns the
 * trampoline's length (out->covered = bytes of original instructions
 * taken), or -ENOTSUP/-ERANGE/-EINVAL with the reason in out->why. */
#define OVUP_ARCH_TRAMP_MAX 96
struct ovup_reloc_in {
	const uint8_t *code; /* the bytes from site on */
	size_t len;
	uint64_t site;         /* where code was read */
	size_t min_len;        /* bytes the branch displaces */
	const uint8_t *prefix; /* copied first (an endbr64 kept at the entry) */
	size_t nprefix;
	uint64_t to; /* where the trampoline runs */
};
struct ovup_reloc_out {
	uint8_t *buf;   /* the trampoline */
	size_t max;     /* room in buf */
	size_t covered; /* out */
	char *why;      /* out, on error */
	size_t whylen;
};
int ovup_arch_relocate(const struct ovup_reloc_in *in, struct ovup_reloc_out *out);

/* 1 if a relative branch in code (n bytes at addr) lands strictly inside
 * (lo, hi), with the branch's address in *from; else 0. */
int ovup_arch_branch_into(const uint8_t *code, size_t n, uint64_t addr, uint64_t lo, uint64_t hi,
			  uint64_t *from);

/* Cheap first pass over a whole object's code (n bytes at addr): every
 * place whose bytes, read as a relative jmp/call/jcc, would land strictly
 * inside (lo, hi).  Most are not instructions at all; the caller decodes
 * the function around each (ovup_arch_branch_into).  Returns how many,
 * writing at most max. */
size_t ovup_arch_branch_candidates(const uint8_t *code, size_t n, uint64_t addr, uint64_t lo,
				   uint64_t hi, uint64_t *out, size_t max);

/* The length of the whole instructions that cover min_len bytes at addr,
 * or 0 if they do not decode. */
size_t ovup_arch_insn_cover(const uint8_t *code, size_t n, uint64_t addr, size_t min_len);

/* ---- kernel code, edited as the kernel's module loader edits a module
 * for the running CPU (kcode.c) ---- */

/* Fills buf with len bytes of the kernel's long NOPs. */
void ovup_arch_nops(uint8_t *buf, size_t len);

/* A return site: code (n bytes at addr) must be the compiler's `jmp
 * thunk_was`; it becomes `jmp thunk`, or `ret` padded with int3 when thunk
 * is 0.  -EINVAL when the code is not that jump, -ERANGE when thunk is out
 * of reach. */
int ovup_arch_return_site(uint8_t *code, size_t n, uint64_t addr, uint64_t thunk_was,
			  uint64_t thunk);

/* The stub at `at` that a static-branch site jumps to.
 * It reads the key's count (the int at `key`, as static_key_enabled()).
 * It goes to target when the count is above 0 and jump_when_enabled, or
 * when it is at most 0 and not; else to resume, after the site.
 * Writes OVUP_ARCH_KEY_STUB bytes and returns that, or -ERANGE. */
#define OVUP_ARCH_KEY_STUB 18
int ovup_arch_key_stub(uint8_t *buf, uint64_t at, uint64_t key, int jump_when_enabled,
		       uint64_t target, uint64_t resume);

/* One CPU alternative: the original instructions (edited in place) and
 * their replacement, each with its address. */
struct ovup_arch_alt {
	uint8_t *instr;
	uint64_t instr_addr;
	size_t instrlen;
	const uint8_t *repl;
	uint64_t repl_addr;
	size_t repllen;
};
/* Checks that the replacement moves as the loader moves it (no PC-relative
 * reference but branches inside it, or a replacement that is one 5-byte
 * call or jmp); if patch, copies it over the original with the loader's
 * fix-ups and NOP padding; either way runs of one-byte NOPs in the
 * original become long NOPs.  0, or -ENOTSUP/-EINVAL/-ENOSYS with why. */
int ovup_arch_alternative(const struct ovup_arch_alt *a, int patch, char *why, size_t whylen);

/* ---- register contracts (machine.c: the sets; regs.c: capstone; wrapper.c) ----
 *
 * A caller compiled with GCC's -fipa-ra (on at -O2 in user space) may keep
 * a value in a call-clobbered register across a call to a function of its
 * unit that it knows leaves the register alone.  A replacement must keep
 * that contract: ovup computes which registers the old and the new code may
 * write, and saves the difference in a wrapper around the new function. */

/* A set of registers, one bit each (x86-64: the call-clobbered GPRs, the
 * arithmetic flags, xmm0-31 at any width, the AVX-512 mask registers). */
typedef uint64_t ovup_regset;

/* What ovup needs to know about the processor it runs on (which is the
 * target's: a process target is local). */
struct ovup_arch_machine {
	unsigned vec_bytes;  /* width of a vector register: 16, 32 or 64 */
	unsigned mask_bytes; /* width of a mask register (AVX-512): 0, 2 or 8 */
};
void ovup_arch_machine(struct ovup_arch_machine *m);

/* The registers a call to an unknown function may change: the ABI's
 * call-clobbered set, as far as the machine has those registers. */
ovup_regset ovup_arch_regs_abi(const struct ovup_arch_machine *m);

/* The registers that carry a return value of nint integer and nsse SSE
 * eightbytes (rax rdx, xmm0 xmm1): a wrapper must not restore them. */
ovup_regset ovup_arch_regs_return(unsigned nint, unsigned nsse);

/* "rcx r8 xmm3 flags" (empty string for the empty set). */
void ovup_arch_regs_format(ovup_regset s, char *buf, size_t len);

/* Code the analysis asks for while it follows calls and jumps.  `code`
 * fills *out with the whole function containing addr (whole = 1), or with
 * at least 16 bytes at addr when no symbol bounds a function there
 * (whole = 0); -ENOENT when there is nothing to read.  out->code stays
 * valid until the next call.  `constant` gives the 8 bytes at addr if they
 * cannot change (a GOT slot ld filled), else -ENOENT; it may be NULL.
 * `name` (may be NULL) writes "func+0x12" for addr, for the reasons. */
struct ovup_arch_code {
	uint64_t start;
	const uint8_t *code;
	size_t size;
	int whole;
};
struct ovup_arch_code_src {
	int (*code)(void *ctx, uint64_t addr, struct ovup_arch_code *out);
	int (*constant)(void *ctx, uint64_t addr, uint64_t *val);
	void (*name)(void *ctx, uint64_t addr, char *buf, size_t len);
	void *ctx;
};

/* Which way the analysis errs where it cannot know.
 * OLD: the contract callers were compiled against.  It must never hold a
 *   register the compiler did not also count as clobbered, or the wrapper
 *   would leave that register unsaved: only what the compiler itself saw
 *   as unknown (a call through the PLT or a pointer) gives the whole ABI
 *   set; undecodable code, code without a symbol and an exhausted budget
 *   add nothing.
 * NEW: what the code may really write.  It must never miss a register:
 *   anything it cannot follow or decode gives the whole ABI set. */
enum ovup_arch_side { OVUP_ARCH_OLD = 0, OVUP_ARCH_NEW };

struct ovup_arch_clobbers {
	ovup_regset regs;
	unsigned nfuncs; /* functions decoded */
	char why[192];   /* NEW: why the set is the whole ABI set; OLD:
			      * what was left out; "" when neither */
};

/* The registers the function at `entry` and everything it calls or
 * tail-calls may write: a linear sweep of each function, direct calls and
 * jumps that leave it followed into the functions src knows (each once, at
 * most `budget` functions).  0, -ENOMEM, or -ENOSYS without a decoder. */
int ovup_arch_clobbers(const struct ovup_arch_machine *m, uint64_t entry, enum ovup_arch_side side,
		       const struct ovup_arch_code_src *src, unsigned budget,
		       struct ovup_arch_clobbers *out);

/* Encodes a function placed at `at` that saves the registers of `save`,
 * calls fn with the stack aligned as the ABI wants, restores them and
 * returns: the old function's callers see only what the old code changed.
 * It moves the stack pointer, so fn must not take arguments on the stack.
 * Returns its length, -ERANGE when fn is out of a call's reach, -EINVAL
 * when save holds registers the machine does not have, -ENOSPC. */
#define OVUP_ARCH_WRAP_MAX 768
int ovup_arch_wrapper(const struct ovup_arch_machine *m, uint64_t at, uint64_t fn, ovup_regset save,
		      uint8_t *out, size_t outmax);

#endif
