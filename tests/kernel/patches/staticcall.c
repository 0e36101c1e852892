// SPDX-License-Identifier: GPL-2.0
/* A static call in a patch (tests/kernel/staticcall.t): the task_rename
 * tracepoint's call, made as trace_task_rename() makes it once its key is
 * on (the key itself is a static branch: not yet), so that it goes through
 * __SCT__tp_func_task_rename, whose target tracefs changes
 * (static_call_update): the iterator, the one probe, the iterator again. */
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/irqflags.h>
#include <linux/tracepoint.h>
#include <trace/events/task.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	struct tracepoint_func *it;
	unsigned long flags;

	/* a paravirt inline too: .parainstructions, native by its alternative */
	local_irq_save(flags);
	local_irq_restore(flags);
	preempt_disable_notrace();
	it = rcu_dereference_raw(__tracepoint_task_rename.funcs);
	if (it)
		static_call(tp_func_task_rename)(it->data, current, "ovup-sc");
	preempt_enable_notrace();
	seq_printf(m, "ovup-staticcall %d\n", it ? 1 : 0);
	return 0;
}
