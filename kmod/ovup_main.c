// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ovup.ko: the kernel half of ovup.  Registers /dev/ovup (0600) and turns
 * each ioctl of ovup_uapi.h into a call of ovup_mem.c or ovup_patch.c after
 * ovup_gate() (capabilities, lockdown, the writer slot) and a check of every
 * argument: a wrong argument is an errno, never an oops.  Blocks an fd
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

static long ovup_ioc_version(void __user *arg)
{
	struct ovup_k_version v = {
		.version = OVUP_UAPI_VERSION,
		.text_base = ovup_text.base,
		.text_size = ovup_text.npages << PAGE_SHIFT,
		.data_base = ovup_data.base,
		.data_size = ovup_data.npages << PAGE_SHIFT,
	};

	mutex_lock(&ovup_lock);
	v.npatches = ovup_record_count();
	mutex_unlock(&ovup_lock);
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long ovup_ioc_alloc(struct file *file, void __user *arg)
{
	struct ovup_k_alloc a;
	unsigned long addr;
	long ret;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.pad || (a.kind != OVUP_K_TEXT && a.kind != OVUP_K_DATA) || !a.size)
		return -EINVAL;
	if (a.size > OVUP_BLOCK_MAX)
		return -E2BIG;

	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		return ret;
	ret = ovup_block_alloc(a.kind, a.size, file, &addr);
	if (ret)
		goto unlock;
	a.addr = addr;
	if (copy_to_user(arg, &a, sizeof(a))) {
		/* the caller cannot learn the address: do not keep the block */
		ovup_block_free(ovup_block_at(addr));
		ret = -EFAULT;
	}
unlock:
	mutex_unlock(&ovup_lock);
	return ret;
}

static long ovup_ioc_free(struct file *file, void __user *arg)
{
	struct ovup_k_free f;
	struct ovup_block *b;
	long ret;

	if (copy_from_user(&f, arg, sizeof(f)))
		return -EFAULT;
	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		return ret;
	b = ovup_block_at(f.addr);
	if (!b || (!b->record && b->file != file))
		ret = -EINVAL;
	else if (b->record)
		ret = -EBUSY;
	else
		ovup_block_free(b);
	mutex_unlock(&ovup_lock);
	return ret;
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

static long ovup_ioc_copyin(struct file *file, void __user *arg)
{
	struct ovup_k_copyin c;
	struct ovup_block *b;
	long ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (!c.len)
		return -EINVAL;
	if (c.len > OVUP_BLOCK_MAX)
		return -E2BIG;
	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		return ret;
	ret = ovup_unowned_block(file, c.addr, c.len, &b);
	if (!ret)
		ret = ovup_block_copyin(b, c.addr, u64_to_user_ptr(c.uaddr), c.len);
	mutex_unlock(&ovup_lock);
	return ret;
}

static long ovup_ioc_chgprot(struct file *file, void __user *arg)
{
	struct ovup_k_chgprot c;
	struct ovup_block *b;
	long ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (c.pad || !c.len || !PAGE_ALIGNED(c.addr))
		return -EINVAL;
	if (c.prot != OVUP_PROT_R && c.prot != OVUP_PROT_RX && c.prot != OVUP_PROT_RW)
		return -EINVAL;
	if (c.len > OVUP_BLOCK_MAX)
		return -E2BIG;
	ret = mutex_lock_interruptible(&ovup_lock);
	if (ret)
		return ret;
	ret = ovup_unowned_block(file, c.addr, PAGE_ALIGN(c.len), &b);
	if (!ret)
		ret = ovup_block_chgprot(b, c.addr, c.len, c.prot);
	mutex_unlock(&ovup_lock);
	return ret;
}

static long ovup_ioc_read(void __user *arg)
{
	struct ovup_k_read r;
	void *buf;
	long ret = 0;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (!r.len)
		return -EINVAL;
	if (r.len > PAGE_SIZE)
		return -E2BIG;
	/* Text and our areas only: this is for verifying sites, not a
	 * window on kernel data.
	 */
	if (!ovup_area_of(r.addr, r.len) && !ovup_is_kernel_text(r.addr, r.len))
		return -EINVAL;
	buf = kmalloc(r.len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (copy_from_kernel_nofault(buf, (void *)(unsigned long)r.addr, r.len))
		ret = -EFAULT;
	else if (copy_to_user(u64_to_user_ptr(r.uaddr), buf, r.len))
		ret = -EFAULT;
	kfree(buf);
	return ret;
}

static long ovup_ioc_pawrite(struct file *file, void __user *arg)
{
	struct ovup_k_pawrite *pw;
	long ret;

	/* 200 bytes: too big for the stack next to stop_machine's needs */
	pw = memdup_user(arg, sizeof(*pw));
	if (IS_ERR(pw))
		return PTR_ERR(pw);
	ret = ovup_pawrite(file, pw);
	/* failed and busy tell the tool why, seq what the record is, stats
	 * what the stop cost.  The patch is live by now even if this copy
	 * faults: -EFAULT then only means the caller must read seq with
	 * RECORD.
	 */
	if (copy_to_user(arg, pw, sizeof(*pw)))
		ret = ret ?: -EFAULT;
	kfree(pw);
	return ret;
}

static long ovup_ioc_revert(void __user *arg)
{
	struct ovup_k_revert rv;
	long ret;

	if (copy_from_user(&rv, arg, sizeof(rv)))
		return -EFAULT;
	ret = ovup_revert(&rv);
	/* stats and retired are out on success too */
	if (copy_to_user(arg, &rv, sizeof(rv)))
		ret = ret ?: -EFAULT;
	return ret;
}

static long ovup_ioc_idle(void __user *arg)
{
	struct ovup_k_idle i;

	if (copy_from_user(&i, arg, sizeof(i)))
		return -EFAULT;
	return ovup_idle_set(i.idle_threads);
}

static long ovup_ioc_retired(void __user *arg)
{
	struct ovup_k_retired r;
	long ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.pad)
		return -EINVAL;
	ret = ovup_retired_get(&r);
	if (!ret && copy_to_user(arg, &r, sizeof(r)))
		ret = -EFAULT;
	return ret;
}

static long ovup_ioc_record(void __user *arg)
{
	struct ovup_k_record rec;
	long ret;

	if (copy_from_user(&rec, arg, sizeof(rec)))
		return -EFAULT;
	ret = ovup_record_get(&rec);
	/* ENOSPC still reports the sizes, so the caller can retry */
	if ((!ret || ret == -ENOSPC) && copy_to_user(arg, &rec, sizeof(rec)))
		ret = -EFAULT;
	return ret;
}

static long ovup_ioc_begin(struct file *file, void __user *arg)
{
	struct ovup_k_begin b;
	long ret;

	if (copy_from_user(&b, arg, sizeof(b)))
		return -EFAULT;
	ret = ovup_gate_begin(file, &b);
	if ((!ret || ret == -EBUSY) && copy_to_user(arg, &b, sizeof(b))) {
		if (!ret)
			ovup_gate_end(file);  /* the caller cannot know it holds it */
		ret = -EFAULT;
	}
	return ret;
}

static long ovup_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	void __user *arg = (void __user *)uarg;
	long ret;

	ret = ovup_gate(file, cmd);
	if (ret)
		return ret;

	switch (cmd) {
	case OVUP_IOC_VERSION:
		return ovup_ioc_version(arg);
	case OVUP_IOC_ALLOC:
		return ovup_ioc_alloc(file, arg);
	case OVUP_IOC_FREE:
		return ovup_ioc_free(file, arg);
	case OVUP_IOC_COPYIN:
		return ovup_ioc_copyin(file, arg);
	case OVUP_IOC_CHGPROT:
		return ovup_ioc_chgprot(file, arg);
	case OVUP_IOC_PAWRITE:
		return ovup_ioc_pawrite(file, arg);
	case OVUP_IOC_REVERT:
		return ovup_ioc_revert(arg);
	case OVUP_IOC_RECORD:
		return ovup_ioc_record(arg);
	case OVUP_IOC_READ:
		return ovup_ioc_read(arg);
	case OVUP_IOC_BEGIN:
		return ovup_ioc_begin(file, arg);
	case OVUP_IOC_END:
		return ovup_gate_end(file);
	case OVUP_IOC_IDLE:
		return ovup_ioc_idle(arg);
	case OVUP_IOC_RETIRED:
		return ovup_ioc_retired(arg);
	default:
		return -ENOTTY;
	}
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
	/* only rmmod -f gets here with patches applied: undo them first */
	ovup_deps_exit();
	ovup_retire_exit();
	ovup_mem_exit();
}

module_init(ovup_init);
module_exit(ovup_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("ovup: dynamic version up of kernel functions (alloc, copyin, chgprot, pawrite)");
MODULE_AUTHOR("ovup");
