/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The ABI between the ovup tool and the kernel module ovup.ko: the paper's
 * four primitives (alloc, copyin, chgprot, pawrite) as ioctls on /dev/ovup,
 * plus revert, the record of applied patches, and free.  Included as
 * "uapi/ovup_uapi.h" (with -I include/) by kmod/ and src/target/kernel/;
 * every field is fixed-width so that the same struct means the same thing
 * on both sides.
 */
#ifndef OVUP_UAPI_H
#define OVUP_UAPI_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#else
/* the kernel's own definitions: redefining __u64 here would clash with
 * any user program that also includes <sys/stat.h> (-> linux/types.h)
 */
#include <linux/types.h>
#include <sys/ioctl.h>
#endif

#define OVUP_UAPI_VERSION 3

#define OVUP_NAME_MAX 64     /* patch name, NUL included */
#define OVUP_SITE_BYTES 16   /* longest branch/restore write */
#define OVUP_SITES_MAX 256   /* sites in one pawrite */
#define OVUP_RANGES_MAX 512  /* stack-check ranges in one pawrite */
#define OVUP_BLOCKS_MAX 16   /* blocks owned by one patch */
#define OVUP_BLOB_MAX 65536  /* opaque tool data kept with a record */
#define OVUP_BLOCK_MAX (1u << 20) /* largest single alloc */

/* alloc kinds: text is executable and lies in module text (within
 * +-2 GiB of kernel text); data never is executable.
 */
#define OVUP_K_TEXT 1
#define OVUP_K_DATA 2

/* chgprot values; writable+executable does not exist on purpose */
#define OVUP_PROT_R 1
#define OVUP_PROT_RX 2
#define OVUP_PROT_RW 3

struct ovup_k_version {
	__u32 version;    /* out: OVUP_UAPI_VERSION */
	__u32 npatches;   /* out: records held */
	__u64 text_base;  /* out: text area [base, base+size) */
	__u64 text_size;
	__u64 data_base;  /* out: data area */
	__u64 data_size;
	/* out: entries in ovup.ko's own tables, its and the patches' (for
	 * tests: back to the count before an apply once its code is freed)
	 */
	__u32 nbugs;
	__u32 nexentries;
	__u32 norcs;
	__u32 nsyms;
};

struct ovup_k_alloc {
	__u64 size;  /* in: bytes, rounded up to pages */
	__u32 kind;  /* in: OVUP_K_TEXT or OVUP_K_DATA */
	__u32 pad;   /* must be 0 */
	__u64 addr;  /* out: page-aligned start, zero-filled */
};

/* Frees a block that no record owns (a failed apply). */
struct ovup_k_free {
	__u64 addr;  /* in: start returned by alloc */
};

struct ovup_k_copyin {
	__u64 addr;  /* in: destination inside one allocated block */
	__u64 uaddr; /* in: user buffer */
	__u64 len;   /* in: bytes */
};

struct ovup_k_chgprot {
	__u64 addr;  /* in: page-aligned, inside one allocated block */
	__u64 len;   /* in: bytes, rounded up to pages */
	__u32 prot;  /* in: OVUP_PROT_* (RX only in text blocks) */
	__u32 pad;   /* must be 0 */
};

/*
 * One branch write, done as compare-and-swap.  The module accepts exactly
 * the branch ovup's plan makes, and fails the pawrite otherwise:
 *   E2BIG   len > 16
 *   EINVAL  len != 5; pad != 0; addr != func + 5; func not where a kernel
 *           or module text symbol starts, or inside ovup's areas; func+10
 *           past the end of that symbol (kallsyms' size); write is not
 *           `e9 rel32`; the jump lands outside a text block listed in this
 *           pawrite's `blocks` (kernel text, another record's block, a
 *           block of another fd, a page not yet RX); expect is a jmp/call
 *           into ovup's areas other than the `write` of the newest record
 *           on that site (only stacking on ovup's own jump is allowed)
 *   EAGAIN  the entry is an int3 (ftrace or a kprobe rewriting it)
 */
struct ovup_k_site {
	__u64 addr;                   /* where to write: entry+5 of a text function */
	__u64 func;                   /* that function's entry (ftrace NOP5 there) */
	__u32 len;                    /* bytes to compare and write: 5 */
	__u32 pad;
	__u8 expect[OVUP_SITE_BYTES]; /* must be found at addr */
	__u8 write[OVUP_SITE_BYTES];  /* written at addr */
};

/* No task's saved instruction pointer or return address may lie in
 * [start, end) while the sites are written.
 */
struct ovup_k_range {
	__u64 start;
	__u64 end;
};

/* Filled in when pawrite or revert fails with EBUSY. */
struct ovup_k_busy {
	__s32 pid;        /* blocking task, -1 if unknown */
	__u32 reason;     /* OVUP_BUSY_* */
	__u64 addr;       /* the frame's address, inside a range */
	char comm[16];    /* blocking task's comm */
};

/* a return address lies in a checked range: the task sleeps in a call that returns there */
#define OVUP_BUSY_FRAME 1
#define OVUP_BUSY_UNWIND 2  /* the task's stack could not be unwound */
#define OVUP_BUSY_TEXT 3    /* a site is being rewritten by someone else (int3) */
/* the task was interrupted at an instruction in a checked range: it is executing it */
#define OVUP_BUSY_EXEC 4

/* What one stop cost, filled in by pawrite and revert (success or not). */
struct ovup_k_stats {
	__u64 stop_ns;    /* inside stop_machine: first CPU in to the work done */
	__u32 tasks;      /* tasks considered, idle tasks included */
	__u32 rechecked;  /* of those, walked (again) inside the stop */
};

/* Apply: all sites switch in one stop_machine, or none.  A block in
 * `blocks` must be an unowned block of this fd: EBUSY if a record owns it,
 * EINVAL if another fd allocated it.
 */
struct ovup_k_pawrite {
	char name[OVUP_NAME_MAX]; /* in: patch name, unique among records */
	__u64 sites;    /* in: user pointer to struct ovup_k_site[nsites] */
	__u64 ranges;   /* in: user pointer to struct ovup_k_range[nranges] */
	__u64 blocks;   /* in: user pointer to __u64[nblocks], alloc'd addrs now owned */
	__u64 blob;     /* in: user pointer to opaque data kept with the record */
	/*
	 * in: user pointer to __u64[ndeps]: an address inside each module the
	 * patch's code or data refers to; each module is pinned for as long as
	 * the record exists (EINVAL: an address in no module; ENXIO: its
	 * module is loading or unloading)
	 */
	__u64 deps;
	__u32 nsites;
	__u32 nranges;
	__u32 nblocks;
	__u32 bloblen;
	__u32 ndeps;
	/*
	 * out: index of the site whose expect did not match (ESTALE), or of
	 * the dep whose module is not live (ENXIO)
	 */
	__u32 failed;
	struct ovup_k_busy busy; /* out: on EBUSY */
	struct ovup_k_stats stats; /* out */
	/*
	 * out: the record's sequence number, given by the module (increasing,
	 * never reused while the module is loaded)
	 */
	__u64 seq;
	/*
	 * in: the patch's __bug_table (the kernel's struct bug_entry[], as ld
	 * linked it) inside one of `blocks`, 0 for none; bugs_len its bytes.
	 * Each entry must point at a ud2 in a text block of `blocks`, and its
	 * file at a string in one of `blocks` (ENOEXEC: `failed` is its index;
	 * ENOSPC: ovup.ko's table is full).
	 * WARN/BUG at those addresses then report as in a module, until the
	 * blocks are freed.
	 */
	__u64 bugs;
	__u32 bugs_len;
	/* in: names for the patch's code in kallsyms, until the blocks are
	 * freed: user pointer to struct ovup_k_sym[nsyms], each inside a text
	 * block of `blocks` (else ENOEXEC with `failed` U32_MAX)
	 */
	__u32 nsyms;
	__u64 syms;
	/*
	 * in: the patch's __ex_table (the kernel's struct
	 * exception_table_entry[], as ld linked it) inside one of `blocks`,
	 * 0 for none: each insn and fixup in a text block of `blocks`, a
	 * fixup type of this kernel but BPF's (ENOEXEC: `failed` is its
	 * index | OVUP_FAILED_EXTABLE).  A fault at those instructions is then fixed up as in a
	 * module, until the blocks are freed.
	 */
	__u64 extable;
	__u32 extable_len;
	/*
	 * in: the patch's ORC rows as ld linked them (objtool's
	 * .orc_unwind_ip, int[norc], and .orc_unwind, struct orc_entry[norc])
	 * inside `blocks`, each ip in a text block of `blocks` (ENOEXEC:
	 * `failed` is index | OVUP_FAILED_ORC).  The unwinder then walks
	 * through patch code as through any module's, and so does the stack
	 * check; until the blocks are freed.
	 */
	__u32 norc;
	__u64 orc_ip;
	__u64 orc;
};

#define OVUP_FAILED_EXTABLE (1u << 31)
#define OVUP_FAILED_ORC (1u << 30)
#define OVUP_SYMS_MAX 1024
#define OVUP_SYM_NAME_MAX 128 /* NUL included; [A-Za-z0-9_.] */
struct ovup_k_sym {
	__u64 addr;
	__u64 size;
	char name[OVUP_SYM_NAME_MAX];
};

/* Revert: restore every site of record `name` (must be the newest write on
 * each of its sites), checking that no task is inside `ranges`.
 */
struct ovup_k_revert {
	char name[OVUP_NAME_MAX];
	__u64 ranges;   /* in: user pointer to struct ovup_k_range[nranges] */
	__u32 nranges;
	__u32 failed;   /* out: index of the site that changed (ESTALE) */
	struct ovup_k_busy busy; /* out: on EBUSY */
	struct ovup_k_stats stats; /* out */
	/*
	 * out: blocks kept allocated (retired) because some task, idle tasks
	 * included, may still return into them
	 */
	__u32 retired;
	__u32 pad;
};

/* Read record `index` (0 = oldest).  Pointers may be 0 to ask sizes only. */
struct ovup_k_record {
	__u32 index;    /* in */
	__u32 nsites;   /* in: room in sites; out: sites the record has */
	__u32 nblocks;  /* in: room; out: count */
	__u32 bloblen;  /* in: room; out: length */
	/*
	 * in: user pointer to struct ovup_k_site[] (expect = saved original
	 * bytes, write = the bytes ovup wrote)
	 */
	__u64 sites;
	__u64 blocks;   /* in: user pointer to __u64[] */
	__u64 blob;     /* in: user pointer */
	char name[OVUP_NAME_MAX]; /* out */
	__u64 seq;      /* out: order of application, increasing */
};

#define OVUP_IOC_MAGIC 0xB7
#define OVUP_IOC_VERSION _IOR(OVUP_IOC_MAGIC, 0, struct ovup_k_version)
#define OVUP_IOC_ALLOC   _IOWR(OVUP_IOC_MAGIC, 1, struct ovup_k_alloc)
#define OVUP_IOC_FREE    _IOW(OVUP_IOC_MAGIC, 2, struct ovup_k_free)
#define OVUP_IOC_COPYIN  _IOW(OVUP_IOC_MAGIC, 3, struct ovup_k_copyin)
#define OVUP_IOC_CHGPROT _IOW(OVUP_IOC_MAGIC, 4, struct ovup_k_chgprot)
#define OVUP_IOC_PAWRITE _IOWR(OVUP_IOC_MAGIC, 5, struct ovup_k_pawrite)
#define OVUP_IOC_REVERT  _IOWR(OVUP_IOC_MAGIC, 6, struct ovup_k_revert)
#define OVUP_IOC_RECORD  _IOWR(OVUP_IOC_MAGIC, 7, struct ovup_k_record)
/* Read len bytes of kernel text or of ovup's areas (site verification). */
struct ovup_k_read {
	__u64 addr;
	__u64 uaddr;
	__u64 len;      /* at most 4096 */
};

#define OVUP_IOC_READ    _IOW(OVUP_IOC_MAGIC, 8, struct ovup_k_read)

/*
 * Who may call (every ioctl, checked per call, not at open):
 *   EPERM   the caller lacks CAP_SYS_ADMIN or CAP_SYS_MODULE (every ioctl,
 *           VERSION, RECORD and READ included: the device is ovup's only
 *           interface, and what it does is load code into the kernel)
 *   EACCES  the kernel is locked down: ALLOC, COPYIN, CHGPROT and PAWRITE
 *           at integrity (LOCKDOWN_MODULE_SIGNATURE: the patch is unsigned
 *           code), READ at confidentiality (LOCKDOWN_KCORE).  FREE and
 *           REVERT stay allowed: they only release memory and put back the
 *           bytes a record saved, so a patch can still be backed out.
 *
 * One writer at a time: a patch operation (plan, alloc, copyin, chgprot,
 * pawrite or revert, free) holds the module's writer slot from BEGIN to
 * END or to the close of the fd that took it.  ALLOC, FREE, COPYIN,
 * CHGPROT, PAWRITE and REVERT on any other fd fail with EBUSY, and without
 * BEGIN with ENOLCK.  BEGIN waits for the slot (interruptibly), or with
 * OVUP_BEGIN_NOWAIT fails with EBUSY and names the holder.
 */
struct ovup_k_begin {
	__u32 flags;    /* in: OVUP_BEGIN_* */
	__s32 holder;   /* out on EBUSY: tgid of the process holding the slot */
	__u64 seq;      /* out: sequence number of the newest record, 0 if none */
};

/* BEGIN fails with EALREADY on the fd that already holds the slot, EINTR
 * if a signal arrives while waiting (never restarted), EINVAL for unknown
 * flags.  END fails with EBUSY/ENOLCK on an fd that does not hold it.
 */
#define OVUP_BEGIN_NOWAIT 1
#define OVUP_IOC_BEGIN   _IOWR(OVUP_IOC_MAGIC, 9, struct ovup_k_begin)
#define OVUP_IOC_END     _IO(OVUP_IOC_MAGIC, 10)

/*
 * Where the idle tasks are: the address of the per-CPU variable
 * idle_threads as /proc/kallsyms shows it (idle tasks are on no task
 * list, and nothing exported names them).  The module accepts it only if
 * CPU 0's entry is init_task and every possible CPU's entry is an idle
 * task (PF_IDLE, pid 0), and keeps it until unloaded.  Without it, pawrite
 * and revert fail with ENOKEY: code an idle CPU may be parked in cannot be
 * judged.
 */
struct ovup_k_idle {
	__u64 idle_threads;
};

#define OVUP_IOC_IDLE    _IOW(OVUP_IOC_MAGIC, 11, struct ovup_k_idle)

/* Retired block `index` (0 = oldest): code a reverted patch left behind
 * because a task may still return into it.  Freed by the module as soon as
 * a stack check finds it unused (at every BEGIN, and every second).
 */
struct ovup_k_retired {
	__u32 index;    /* in */
	__u32 pad;
	__u64 addr;     /* out */
	__u64 size;     /* out: bytes */
	char name[OVUP_NAME_MAX]; /* out: the reverted patch it belonged to */
	struct ovup_k_busy busy;  /* out: the last task found in it */
};

#define OVUP_IOC_RETIRED _IOWR(OVUP_IOC_MAGIC, 12, struct ovup_k_retired)

/*
 * What the module loader would patch in a module for this CPU, so that
 * the tool makes the same edits in a patch before loading it (read-only):
 * the boot CPU's capability words (boot_cpu_has(f) is bit f % 32 of word
 * f / 32, bug bits included), for .altinstructions; and where a return
 * goes, for .return_sites, as the loader decided it for a return site of
 * ovup.ko itself at an address with bit 5 clear.
 */
#define OVUP_CPU_WORDS 32
#define OVUP_RET_PLAIN 1   /* the site became `ret` */
#define OVUP_RET_THUNK 2   /* the site became `jmp ret_thunk` */
#define OVUP_RET_UNKNOWN 3 /* neither: the tool refuses return sites */
/*
 * flags: indirect branches must go through ITS-safe thunks the loader
 * makes per module (X86_FEATURE_INDIRECT_THUNK_ITS); the tool refuses
 * patches with indirect calls (.retpoline_sites) then
 */
#define OVUP_CPU_ITS_INDIRECT 1
struct ovup_k_cpu {
	__u32 nwords;              /* out: words filled in caps */
	__u32 ret_how;             /* out: OVUP_RET_* */
	__u32 caps[OVUP_CPU_WORDS]; /* out: boot_cpu_data.x86_capability */
	__u64 ret_site;            /* out: the return site read */
	__u64 ret_thunk;           /* out: its jump's target (OVUP_RET_THUNK) */
	/* out: its_return_thunk, 0 if the kernel has none; where the
	 * return thunk is that one, a return site at an address with bit 5
	 * set becomes `ret` (the ITS rule)
	 */
	__u64 its_thunk;
	__u32 flags;               /* out: OVUP_CPU_* */
	__u32 pad;
};

#define OVUP_IOC_CPU     _IOR(OVUP_IOC_MAGIC, 13, struct ovup_k_cpu)

#endif
