// SPDX-License-Identifier: GPL-2.0
/* ftrace_caller_op_ptr is a label inside ftrace_caller: refused. */
void ftrace_caller_op_ptr(void)
{
}
