// SPDX-License-Identifier: MIT
/*
 * x86-64: the signal frame that makes an injected syscall safe from ovup's
 * own death.  The thread runs "syscall; ret" with its stack pointer on the
 * frame; `ret` takes it to the restorer (rax = 15; syscall), and
 * rt_sigreturn reloads every register, the signal mask and the FPU state
 * from the frame: the state the thread was stopped in.  The layout is the
 * kernel's (uapi asm/sigcontext.h, asm/ucontext.h, arch/x86/kernel/signal.c).
 */
#include "../arch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const uint8_t ovup_arch_gadget_syscall[] = { 0x0f, 0x05, 0xc3 };
const size_t ovup_arch_gadget_syscall_len = sizeof(ovup_arch_gadget_syscall);

/* glibc's and musl's __restore_rt: mov $15,%rax; syscall (or %eax) */
static const uint8_t restorer_q[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
static const uint8_t restorer_l[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
const uint8_t *const ovup_arch_gadget_restorer[] = { restorer_q, restorer_l, NULL };
const size_t ovup_arch_gadget_restorer_len[] = { sizeof(restorer_q), sizeof(restorer_l), 0 };

const unsigned ovup_arch_fpregset = 0x202; /* NT_X86_XSTATE */

#define REDZONE 128
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#define SW_BYTES 464 /* struct _fpx_sw_bytes inside the fxsave area */
#define FXSAVE_SIZE 512
#define XSAVE_HDR 64
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define NR_restart_syscall 219
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* The kernel's struct rt_sigframe for a 64-bit task, field by field. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};
struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags;
		int32_t pad;
		uint64_t ss_size;
	} uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};
struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128]; /* siginfo: unused by rt_sigreturn; holds our data */
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "struct rt_sigframe is 440 bytes");
_Static_assert(OVUP_ARCH_FRAME_DATA <= 128, "data lives in the siginfo");

void ovup_arch_regs_restart(struct user_regs_struct *r)
{
	if ((int64_t)r->orig_rax < 0)
		return;
	switch ((int64_t)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		r->rax = NR_restart_syscall;
		r->rip -= 2;
		break;
	}
}

int ovup_arch_regs_restart_lost(const struct user_regs_struct *r)
{
	return (int64_t)r->orig_rax >= 0 && (int64_t)r->rax == -ERESTART_RESTARTBLOCK;
}

size_t ovup_arch_regs_resume_pcs(const struct user_regs_struct *r, uint64_t pcs[2])
{
	pcs[0] = r->rip;
	if ((int64_t)r->orig_rax < 0)
		return 1;
	pcs[1] = r->rip - 2;
	return 2;
}

size_t ovup_arch_regs_words(const struct user_regs_struct *r, uint64_t *w, size_t max)
{
	const uint64_t all[] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi,
				 r->rbp, r->rsp, r->r8,  r->r9,  r->r10, r->r11,
				 r->r12, r->r13, r->r14, r->r15, r->rip };
	size_t n = sizeof(all) / sizeof(all[0]);

	if (n > max)
		n = max;
	memcpy(w, all, n * sizeof(*w));
	return n;
}

/* tcbhead_t.pointer_guard: %fs:0x30 */
uint64_t ovup_arch_pointer_guard_addr(const struct user_regs_struct *r)
{
	return r->fs_base ? r->fs_base + 0x30 : 0;
}

/* PTR_MANGLE is "xor guard; rol 17" */
uint64_t ovup_arch_demangle(uint64_t word, uint64_t guard)
{
	return ((word >> 17) | (word << 47)) ^ guard;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* The FPU state as ptrace gave it, at fpbuf, with the software bytes a
 * signal frame carries (ptrace puts XCR0 where they go). */
static void fill_fpstate(uint8_t *fpbuf, const struct ovup_arch_frame *f, size_t fplen)
{
	uint64_t xfeatures;

	memcpy(fpbuf, f->xstate, f->xlen);
	memcpy(&xfeatures, f->xstate + SW_BYTES, sizeof(xfeatures));
	memset(fpbuf + SW_BYTES, 0, FXSAVE_SIZE - SW_BYTES);
	put32(fpbuf + SW_BYTES, FP_XSTATE_MAGIC1);
	put32(fpbuf + SW_BYTES + 4, (uint32_t)fplen);    /* extended_size */
	memcpy(fpbuf + SW_BYTES + 8, &xfeatures, 8);     /* xfeatures */
	put32(fpbuf + SW_BYTES + 16, (uint32_t)f->xlen); /* xstate_size */
	put32(fpbuf + f->xlen, FP_XSTATE_MAGIC2);
}

/* The frame rt_sigreturn reads, with the FPU state at fp: the registers
 * to return to; a syscall the stop interrupted is set to restart, as the
 * kernel would on resuming without a handler (rt_sigreturn itself
 * disables the restart logic). */
static void fill_sigframe(struct k_rt_sigframe *fr, const struct ovup_arch_frame *f, uint64_t fp)
{
	struct user_regs_struct back = *f->regs;

	ovup_arch_regs_restart(&back);
	memset(fr, 0, sizeof(*fr));
	fr->pretcode = f->restorer; /* where "syscall; ret" returns to */
	fr->uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/* an invalid mode: rt_sigreturn's restore_altstack() then fails
	 * quietly and leaves the thread's sigaltstack as it is */
	fr->uc.uc_stack.ss_flags = 3;
	fr->uc.uc_mcontext = (struct k_sigcontext){
		.r8 = back.r8,
		.r9 = back.r9,
		.r10 = back.r10,
		.r11 = back.r11,
		.r12 = back.r12,
		.r13 = back.r13,
		.r14 = back.r14,
		.r15 = back.r15,
		.rdi = back.rdi,
		.rsi = back.rsi,
		.rbp = back.rbp,
		.rbx = back.rbx,
		.rdx = back.rdx,
		.rax = back.rax,
		.rcx = back.rcx,
		.rsp = back.rsp,
		.rip = back.rip,
		.eflags = back.eflags,
		.cs = (uint16_t)back.cs,
		.ss = (uint16_t)back.ss,
		.fpstate = fp,
	};
	fr->uc.uc_sigmask = f->sigmask;
	if (f->ndata)
		memcpy(fr->info, f->data, f->ndata);
}

int ovup_arch_frame(struct ovup_arch_frame *f)
{
	struct k_rt_sigframe fr;
	uint64_t top, fp, frame;
	size_t fplen;

	if (f->xlen < FXSAVE_SIZE + XSAVE_HDR || f->xlen > OVUP_ARCH_XSTATE_MAX ||
	    f->ndata > OVUP_ARCH_FRAME_DATA)
		return -EINVAL;
	/* as get_sigframe(): below the red zone, the FPU state 64-byte
	 * aligned, then the frame so that (frame + 8) is 16-byte aligned */
	top = f->regs->rsp - REDZONE;
	fplen = f->xlen + 4; /* + FP_XSTATE_MAGIC2 */
	fp = (top - fplen) & ~63ull;
	frame = ((fp - sizeof(fr) + 8) & ~15ull) - 8;
	f->lo = frame;
	f->len = (size_t)(top - frame);
	f->bytes = calloc(1, f->len);
	if (!f->bytes)
		return -ENOMEM;
	fill_fpstate(f->bytes + (fp - frame), f, fplen);
	fill_sigframe(&fr, f, fp);
	memcpy(f->bytes, &fr, sizeof(fr));
	f->sp = frame;
	f->data_addr = frame + __builtin_offsetof(struct k_rt_sigframe, info);
	return 0;
}
