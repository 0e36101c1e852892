// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Who may call /dev/ovup, and when: every ioctl passes ovup_gate() first.
 * It checks the caller's capabilities, the kernel's lockdown level, and the
 * writer slot: one fd at a time holds a whole patch operation (from reading
 * the record through alloc, copyin, chgprot and pawrite or revert), so two
 * ovup runs can never both plan from the same record and both write.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/security.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include "ovup_internal.h"

static DEFINE_SPINLOCK(ovup_gate_lock);
static struct file *ovup_writer;   /* the fd holding the slot, or NULL */
static pid_t ovup_writer_tgid;     /* who took it, for EBUSY */
static DECLARE_WAIT_QUEUE_HEAD(ovup_writer_wait);

/* 0, -EBUSY (another fd holds the slot) or -ENOLCK (nobody does).  The
 * answer is not held across the request: if one thread of the holder ENDs
 * while another thread's request on the same fd is under way, that request
 * may finish after the slot was given up.  The holder chose that; ovup_lock
 * still serialises every request, and no other fd's can have begun.
 */
static int ovup_writer_check(struct file *file)
{
	int ret;

	spin_lock(&ovup_gate_lock);
	ret = ovup_writer == file ? 0 : ovup_writer ? -EBUSY : -ENOLCK;
	spin_unlock(&ovup_gate_lock);
	return ret;
}

/*
 * What every request passes first, the rules for each being in ovup_main.c's
 * table: the caller's capabilities, then, for a request the lockdown reason
 * `lock` forbids, -EACCES, then the writer slot if it needs it.
 */
int ovup_gate(struct file *file, bool writer, enum lockdown_reason lock)
{
	/* Per call, not at open: a privileged opener may hand the fd to a
	 * process that dropped its capabilities.  CAP_SYS_MODULE because
	 * loading code into the kernel is what ovup does; CAP_SYS_ADMIN for
	 * the stop_machine and the writes to kernel text.
	 */
	if (!capable(CAP_SYS_ADMIN) || !capable(CAP_SYS_MODULE))
		return -EPERM;
	/* the LSM says EPERM; EACCES tells the tool it is lockdown, not a
	 * missing capability
	 */
	if (lock != LOCKDOWN_NONE && security_locked_down(lock))
		return -EACCES;
	return writer ? ovup_writer_check(file) : 0;
}

static bool ovup_writer_take(struct file *file, s32 *holder)
{
	bool got;

	spin_lock(&ovup_gate_lock);
	got = !ovup_writer;
	if (got) {
		ovup_writer = file;
		ovup_writer_tgid = task_tgid_nr(current);
	} else if (holder) {
		*holder = ovup_writer_tgid;
	}
	spin_unlock(&ovup_gate_lock);
	return got;
}

int ovup_gate_begin(struct file *file, struct ovup_k_begin *b)
{
	b->holder = 0;
	b->seq = 0;
	if (b->flags & ~OVUP_BEGIN_NOWAIT)
		return -EINVAL;
	if (!ovup_writer_check(file))
		return -EALREADY;
	if (b->flags & OVUP_BEGIN_NOWAIT) {
		if (!ovup_writer_take(file, &b->holder))
			return -EBUSY;
	} else if (wait_event_interruptible(ovup_writer_wait, ovup_writer_take(file, NULL))) {
		/* EINTR, not ERESTARTSYS: a tool whose handlers are
		 * SA_RESTART must still see its Ctrl-C here
		 */
		return -EINTR;
	}
	mutex_lock(&ovup_lock);
	b->seq = ovup_record_newest_seq();
	/* code left behind by earlier reverts may be free by now */
	ovup_retired_check();
	mutex_unlock(&ovup_lock);
	return 0;
}

/* END, or the release of the holding fd: the next waiter may go. */
int ovup_gate_end(struct file *file)
{
	int ret;

	spin_lock(&ovup_gate_lock);
	ret = ovup_writer == file ? 0 : ovup_writer ? -EBUSY : -ENOLCK;
	if (!ret)
		ovup_writer = NULL;
	spin_unlock(&ovup_gate_lock);
	if (!ret)
		wake_up_interruptible(&ovup_writer_wait);
	return ret;
}
