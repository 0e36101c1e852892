// SPDX-License-Identifier: GPL-2.0
/* A patched function that keeps its tracepoint (tests/kernel/jumplabel.t):
 * __set_task_comm (fs/exec.c, 6.1) with one change, a rename to
 * "ovup-tp-old" becomes "ovup-tp-new", so the test knows the patch ran. */
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/perf_event.h>
#include <trace/events/task.h>

void __set_task_comm(struct task_struct *tsk, const char *buf, bool exec)
{
	if (!strcmp(buf, "ovup-tp-old"))
		buf = "ovup-tp-new";
	task_lock(tsk);
	trace_task_rename(tsk, buf);
	strscpy_pad(tsk->comm, buf, sizeof(tsk->comm));
	task_unlock(tsk);
	perf_event_comm(tsk, exec);
}
