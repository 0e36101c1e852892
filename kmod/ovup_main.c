// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ovup.ko: the kernel half of ovup.  Registers /dev/ovup (0600) and turns
 * each ioctl of include/uapi/ovup_uapi.h, through one table (ovup_iocs),
 * into a call of ovup_mem.c, ovup_patch.c or ovup_gate.c after ovup_gate()
 * (capabilities, lockdown, the writer slot) and a check of every argument:
 * a wrong argument is an errno, never an oops.  Blocks an fd
 * allocated and did not hand to a record are freed, and its writer slot
 * given up, when that fd is released, so a crashed tool leaks nothing.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ovup_internal.h"

/* guards all state but the writer slot (ovup_internal.h) */
DEFINE_MUTEX(ovup_lock);

static long ovup_ioc_version(struct file *file, void *arg)
{
	struct ovup_k_version *v = arg;

	v->version = OVUP_UAPI_VERSION;
	v->npatches = ovup_record_count();
	v->text_base = ovup_text.base;
	v->text_size = ovup_text.npages << PAGE_SHIFT;
	v->data_base = ovup_data.base;
	v->data_size = ovup_data.npages << PAGE_SHIFT;
	ovup_tables_count(v);
	return 0;
}

static long ovup_check_alloc(const void *arg)
{
	const struct ovup_k_alloc *a = arg;

	if (a->pad || (a->kind != OVUP_K_TEXT && a->kind != OVUP_K_DATA) || !a->size)
		return -EINVAL;
	return a->size > OVUP_BLOCK_MAX ? -E2BIG : 0;
}

static long ovup_ioc_alloc(struct file *file, void *arg)
{
	struct ovup_k_alloc *a = arg;
	unsigned long addr;
	long ret;

	ret = ovup_block_alloc(a->kind, a->size, file, &addr);
	if (!ret)
		a->addr = addr;
	return ret;
}

/* the caller cannot learn the address: do not keep the block */
static void ovup_undo_alloc(struct file *file, void *arg)
{
	const struct ovup_k_alloc *a = arg;

	ovup_block_free(ovup_block_at(a->addr));
}

static long ovup_ioc_free(struct file *file, void *arg)
{
	const struct ovup_k_free *f = arg;
	struct ovup_block *b = ovup_block_at(f->addr);

	if (!b || (!b->record && b->file != file))
		return -EINVAL;
	if (b->record)
		return -EBUSY;
	ovup_block_free(b);
	return 0;
}

/* The block holding [addr, addr+len), refusing blocks a record owns (live
 * code or data, changed only by revert, EBUSY) and blocks another fd
 * allocated (not this operation's to fill, EINVAL).
 */
static long ovup_unowned_block(struct file *file, u64 addr, u64 len, struct ovup_block **bp)
{
	*bp = ovup_block_containing(addr, len);
	if (!*bp)
		return -EINVAL;
	if ((*bp)->record)
		return -EBUSY;
	return (*bp)->file == file ? 0 : -EINVAL;
}

static long ovup_check_copyin(const void *arg)
{
	const struct ovup_k_copyin *c = arg;

	if (!c->len)
		return -EINVAL;
	return c->len > OVUP_BLOCK_MAX ? -E2BIG : 0;
}

static long ovup_ioc_copyin(struct file *file, void *arg)
{
	const struct ovup_k_copyin *c = arg;
	struct ovup_block *b;
	long ret;

	ret = ovup_unowned_block(file, c->addr, c->len, &b);
	if (!ret)
		ret = ovup_block_copyin(b, c->addr, u64_to_user_ptr(c->uaddr), c->len);
	return ret;
}

static long ovup_check_chgprot(const void *arg)
{
	const struct ovup_k_chgprot *c = arg;

	if (c->pad || !c->len || !PAGE_ALIGNED(c->addr))
		return -EINVAL;
	if (c->prot != OVUP_PROT_R && c->prot != OVUP_PROT_RX && c->prot != OVUP_PROT_RW)
		return -EINVAL;
	return c->len > OVUP_BLOCK_MAX ? -E2BIG : 0;
}

static long ovup_ioc_chgprot(struct file *file, void *arg)
{
	const struct ovup_k_chgprot *c = arg;
	struct ovup_block *b;
	long ret;

	ret = ovup_unowned_block(file, c->addr, PAGE_ALIGN(c->len), &b);
	if (!ret)
		ret = ovup_block_chgprot(b, c->addr, c->len, c->prot);
	return ret;
}

static long ovup_check_read(const void *arg)
{
	const struct ovup_k_read *r = arg;

	if (!r->len)
		return -EINVAL;
	if (r->len > PAGE_SIZE)
		return -E2BIG;
	/* Text and our areas only: this is for verifying sites, not a
	 * window on kernel data.
	 */
	if (!ovup_area_of(r->addr, r->len) && !ovup_is_kernel_text(r->addr, r->len))
		return -EINVAL;
	return 0;
}

static long ovup_ioc_read(struct file *file, void *arg)
{
	const struct ovup_k_read *r = arg;
	void *buf;
	long ret = 0;

	buf = kmalloc(r->len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (copy_from_kernel_nofault(buf, (void *)(unsigned long)r->addr, r->len))
		ret = -EFAULT;
	else if (copy_to_user(u64_to_user_ptr(r->uaddr), buf, r->len))
		ret = -EFAULT;
	kfree(buf);
	return ret;
}

static long ovup_ioc_pawrite(struct file *file, void *arg)
{
	return ovup_pawrite(file, arg);
}

static long ovup_ioc_revert(struct file *file, void *arg)
{
	return ovup_revert(arg);
}

static long ovup_ioc_record(struct file *file, void *arg)
{
	return ovup_record_get(arg);
}

static long ovup_ioc_begin(struct file *file, void *arg)
{
	return ovup_gate_begin(file, arg);
}

/* the caller cannot know it holds the slot: give it up */
static void ovup_undo_begin(struct file *file, void *arg)
{
	ovup_gate_end(file);
}

static long ovup_ioc_end(struct file *file, void *arg)
{
	return ovup_gate_end(file);
}

static long ovup_ioc_idle(struct file *file, void *arg)
{
	const struct ovup_k_idle *i = arg;

	return ovup_idle_set(i->idle_threads);
}

static long ovup_check_retired(const void *arg)
{
	const struct ovup_k_retired *r = arg;

	return r->pad ? -EINVAL : 0;
}

static long ovup_ioc_retired(struct file *file, void *arg)
{
	return ovup_retired_get(arg);
}

/* How the dispatcher holds ovup_lock around a handler (and its copy-out). */
enum ovup_ioc_lock {
	OVUP_NOLOCK,		/* the handler locks what it needs itself */
	OVUP_LOCK,		/* mutex_lock: a short read that should not fail */
	OVUP_LOCK_INTR,		/* mutex_lock_interruptible: EINTR on a signal */
};

/* When the argument goes back to the caller. */
enum ovup_ioc_out {
	OVUP_OUT_NONE,
	OVUP_OUT_OK,		/* on success, and on the entry's out_also error */
	OVUP_OUT_ALWAYS,	/* whatever happened: it says why it failed */
};

/*
 * One ioctl.  `writer` and `lockdown` are what ovup_gate() checks: writing
 * kernel text or loading code is what unsigned module loading would do
 * (LOCKDOWN_MODULE_SIGNATURE), reading kernel memory is what /proc/kcore
 * would (LOCKDOWN_KCORE).  FREE and REVERT are allowed under lockdown: they
 * write nothing but the bytes a record saved before lockdown was raised, so
 * an operator can still back a patch out.  VERSION, RECORD, BEGIN, END,
 * IDLE and RETIRED change no text: neither slot nor lockdown check.  CPU
 * tells kernel addresses, as READ does: the KCORE check only.
 */
struct ovup_ioc {
	unsigned int cmd;
	unsigned int size;		/* bytes of the argument, 0: none */
	bool in;			/* copied in (else zero-filled) */
	bool writer;			/* needs the writer slot */
	enum lockdown_reason lockdown;	/* LOCKDOWN_NONE: always allowed */
	enum ovup_ioc_lock lock;
	enum ovup_ioc_out out;
	long out_also;			/* an error that still copies out */
	long (*check)(const void *arg);	/* before the lock, may be NULL */
	long (*fn)(struct file *file, void *arg);
	/* copying out a success failed: take it back (may be NULL) */
	void (*undo)(struct file *file, void *arg);
};

#define OVUP_IOC(c, type, ...) { .cmd = (c), .size = sizeof(type), .in = true, __VA_ARGS__ }

static const struct ovup_ioc ovup_iocs[] = {
	{ .cmd = OVUP_IOC_VERSION, .size = sizeof(struct ovup_k_version), .lock = OVUP_LOCK,
	  .out = OVUP_OUT_OK, .fn = ovup_ioc_version },
	OVUP_IOC(OVUP_IOC_ALLOC, struct ovup_k_alloc, .writer = true,
		 .lockdown = LOCKDOWN_MODULE_SIGNATURE, .lock = OVUP_LOCK_INTR, .out = OVUP_OUT_OK,
		 .check = ovup_check_alloc, .fn = ovup_ioc_alloc, .undo = ovup_undo_alloc),
	OVUP_IOC(OVUP_IOC_FREE, struct ovup_k_free, .writer = true, .lock = OVUP_LOCK_INTR,
		 .fn = ovup_ioc_free),
	OVUP_IOC(OVUP_IOC_COPYIN, struct ovup_k_copyin, .writer = true,
		 .lockdown = LOCKDOWN_MODULE_SIGNATURE, .lock = OVUP_LOCK_INTR,
		 .check = ovup_check_copyin, .fn = ovup_ioc_copyin),
	OVUP_IOC(OVUP_IOC_CHGPROT, struct ovup_k_chgprot, .writer = true,
		 .lockdown = LOCKDOWN_MODULE_SIGNATURE, .lock = OVUP_LOCK_INTR,
		 .check = ovup_check_chgprot, .fn = ovup_ioc_chgprot),
	/* the patch is live by now even if the copy-out faults: -EFAULT then
	 * only means the caller must read seq with RECORD
	 */
	OVUP_IOC(OVUP_IOC_PAWRITE, struct ovup_k_pawrite, .writer = true,
		 .lockdown = LOCKDOWN_MODULE_SIGNATURE, .out = OVUP_OUT_ALWAYS,
		 .fn = ovup_ioc_pawrite),
	/* stats and retired are out on success too */
	OVUP_IOC(OVUP_IOC_REVERT, struct ovup_k_revert, .writer = true,
		 .out = OVUP_OUT_ALWAYS, .fn = ovup_ioc_revert),
	/* ENOSPC still reports the sizes, so the caller can retry */
	OVUP_IOC(OVUP_IOC_RECORD, struct ovup_k_record, .out = OVUP_OUT_OK, .out_also = -ENOSPC,
		 .fn = ovup_ioc_record),
	OVUP_IOC(OVUP_IOC_READ, struct ovup_k_read, .lockdown = LOCKDOWN_KCORE,
		 .check = ovup_check_read, .fn = ovup_ioc_read),
	/* EBUSY names the holder */
	OVUP_IOC(OVUP_IOC_BEGIN, struct ovup_k_begin, .out = OVUP_OUT_OK, .out_also = -EBUSY,
		 .fn = ovup_ioc_begin, .undo = ovup_undo_begin),
	{ .cmd = OVUP_IOC_END, .fn = ovup_ioc_end },
	OVUP_IOC(OVUP_IOC_IDLE, struct ovup_k_idle, .fn = ovup_ioc_idle),
	OVUP_IOC(OVUP_IOC_RETIRED, struct ovup_k_retired, .out = OVUP_OUT_OK,
		 .check = ovup_check_retired, .fn = ovup_ioc_retired),
	/* kernel addresses (return thunks): as READ, not under confidentiality */
	{ .cmd = OVUP_IOC_CPU, .size = sizeof(struct ovup_k_cpu), .lockdown = LOCKDOWN_KCORE,
	  .out = OVUP_OUT_OK, .fn = ovup_ioc_cpu },
};

static const struct ovup_ioc *ovup_ioc_find(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ovup_iocs); i++)
		if (ovup_iocs[i].cmd == cmd)
			return &ovup_iocs[i];
	return NULL;
}

/* Call the handler (under ovup_lock if the entry says so) and copy the
 * argument back when the entry says so.
 */
static long ovup_ioc_call(const struct ovup_ioc *ioc, struct file *file, void *arg,
			  void __user *uarg)
{
	long ret;

	if (ioc->lock == OVUP_LOCK_INTR) {
		ret = mutex_lock_interruptible(&ovup_lock);
		if (ret)
			return ret;
	} else if (ioc->lock == OVUP_LOCK) {
		mutex_lock(&ovup_lock);
	}
	ret = ioc->fn(file, arg);
	if (ioc->out == OVUP_OUT_ALWAYS ||
	    (ioc->out == OVUP_OUT_OK && (!ret || (ioc->out_also && ret == ioc->out_also)))) {
		if (copy_to_user(uarg, arg, ioc->size)) {
			if (!ret && ioc->undo)
				ioc->undo(file, arg);
			ret = ret && ioc->out != OVUP_OUT_OK ? ret : -EFAULT;
		}
	}
	if (ioc->lock != OVUP_NOLOCK)
		mutex_unlock(&ovup_lock);
	return ret;
}

/* Every ioctl: gate, copy in, check, then the handler.  The argument lives
 * on the heap: PAWRITE's is too big for the stack next to stop_machine's
 * needs.
 */
static long ovup_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	const struct ovup_ioc *ioc = ovup_ioc_find(cmd);
	void __user *argp = (void __user *)uarg;
	void *arg = NULL;
	long ret;

	ret = ovup_gate(file, ioc && ioc->writer, ioc ? ioc->lockdown : LOCKDOWN_NONE);
	if (ret)
		return ret;
	if (!ioc)
		return -ENOTTY;
	if (ioc->size && ioc->in)
		arg = memdup_user(argp, ioc->size);
	else if (ioc->size)
		arg = kzalloc(ioc->size, GFP_KERNEL) ?: ERR_PTR(-ENOMEM);
	if (IS_ERR(arg))
		return PTR_ERR(arg);
	ret = ioc->check ? ioc->check(arg) : 0;
	if (!ret)
		ret = ovup_ioc_call(ioc, file, arg, argp);
	kfree(arg);
	return ret;
}

static int ovup_release(struct inode *inode, struct file *file)
{
	mutex_lock(&ovup_lock);
	ovup_blocks_release(file);
	mutex_unlock(&ovup_lock);
	/* after the blocks: the next writer finds the area as it was */
	ovup_gate_end(file);
	return 0;
}

static const struct file_operations ovup_fops = {
	.owner = THIS_MODULE,
	.release = ovup_release,
	.unlocked_ioctl = ovup_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice ovup_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ovup",
	.fops = &ovup_fops,
	.mode = 0600,
};

static int __init ovup_init(void)
{
	int ret;

	ret = ovup_mem_init();
	if (ret)
		return ret;
	ret = ovup_tables_init();
	if (ret)
		goto exit_mem;
	ret = ovup_deps_init();
	if (ret)
		goto exit_mem;
	ret = misc_register(&ovup_dev);
	if (ret)
		goto exit_deps;
	/* no addresses: VERSION tells them to a caller entitled to them */
	pr_info("ready: text area %lu KiB, data area %lu KiB\n",
		ovup_text.npages << (PAGE_SHIFT - 10), ovup_data.npages << (PAGE_SHIFT - 10));
	return 0;

exit_deps:
	ovup_deps_exit();
exit_mem:
	ovup_tables_exit();
	ovup_mem_exit();
	return ret;
}

/*
 * Only rmmod -f gets to ovup_exit with /dev/ovup open: each open file holds
 * a reference on ovup.ko (as do each record and each retired group), and
 * its ioctls and release
 * run our code.  Wait until every one is closed, since nothing can close
 * them for their owners.
 */
static void ovup_wait_files(void)
{
	unsigned long warn_at = jiffies + 10 * HZ;
	int files;

	for (;;) {
		/* records and retired code change, with their references,
		 * under the lock
		 */
		mutex_lock(&ovup_lock);
		files = module_refcount(THIS_MODULE) - (int)ovup_record_count() -
			(int)ovup_retired_count();
		mutex_unlock(&ovup_lock);
		if (files <= 0)
			return;
		if (time_after(jiffies, warn_at)) {
			pr_warn("unloading: waiting for %d open /dev/ovup file(s) to be closed\n",
				files);
			warn_at = jiffies + 10 * HZ;
		}
		msleep(20);
	}
}

static void __exit ovup_exit(void)
{
	misc_deregister(&ovup_dev);
	ovup_wait_files();
	ovup_tables_quiesce();
	/* only rmmod -f gets here with patches applied: undo them first */
	ovup_deps_exit();
	ovup_retire_exit();
	ovup_tables_exit();
	ovup_mem_exit();
}

module_init(ovup_init);
module_exit(ovup_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("ovup: dynamic version up of kernel functions (alloc, copyin, chgprot, pawrite)");
MODULE_AUTHOR("ovup");
MODULE_VERSION(OVUP_VERSION);
