// SPDX-License-Identifier: MIT
/*
 * Why the process target cannot reach a process, said once with the fix:
 * the process exited (or is a zombie), or ptrace and /proc/PID/mem were
 * refused (another tracer, yama's ptrace_scope, another user).
 */
#define _GNU_SOURCE
#include "process.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t cap_eff(void)
{
	char *s = ovup_read_file("/proc/self/status", NULL), *p;
	uint64_t v = 0;

	if (s && (p = strstr(s, "CapEff:")))
		v = strtoull(p + 7, NULL, 16);
	free(s);
	return v;
}

/* Explains why ptrace or /proc/PID/mem was refused, with the fix. */
int ovup_proc_denied(struct proc_target *p, const char *what)
{
	char path[64], *status, *s;
	long tracer = 0, uid = -1, scope = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
	status = ovup_read_file(path, NULL);
	if (status && (s = strstr(status, "TracerPid:")))
		tracer = strtol(s + 10, NULL, 10);
	if (status && (s = strstr(status, "Uid:")))
		uid = strtol(s + 4, NULL, 10);
	free(status);
	s = ovup_read_file("/proc/sys/kernel/yama/ptrace_scope", NULL);
	if (s)
		scope = strtol(s, NULL, 10);
	free(s);
	if (tracer > 0 && tracer != getpid())
		return ovup_err(-EPERM,
				"pid %d: cannot %s: it is already traced by pid %ld (a debugger?); "
				"detach that tracer first",
				p->pid, what, tracer);
	if (!(cap_eff() & (1ull << 19 /* CAP_SYS_PTRACE */))) {
		if (scope >= 1)
			return ovup_err(
				-EPERM,
				"pid %d: cannot %s: permission denied (kernel.yama.ptrace_scope=%ld "
				"allows tracing only descendants); run ovup as root or with "
				"CAP_SYS_PTRACE, or set 'sysctl kernel.yama.ptrace_scope=0'",
				p->pid, what, scope);
		if (uid >= 0 && (uid_t)uid != geteuid())
			return ovup_err(
				-EPERM,
				"pid %d: cannot %s: permission denied (the process belongs to "
				"uid %ld, ovup runs as uid %d); run ovup as that user, as root, "
				"or with CAP_SYS_PTRACE",
				p->pid, what, uid, (int)geteuid());
	}
	return ovup_err(-EPERM,
			"pid %d: cannot %s: permission denied; run ovup as root or with "
			"CAP_SYS_PTRACE (and check kernel.yama.ptrace_scope and that the process "
			"is dumpable)",
			p->pid, what);
}

/* Dead or a zombie: nothing left to patch (its parent may not have
 * reaped it yet, so kill(pid, 0) still succeeds). */
int ovup_proc_dead(int pid)
{
	char path[64], *s, *r;
	int dead = 1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = ovup_read_file(path, NULL);
	if (s && (r = strrchr(s, ')')) && r[1] == ' ')
		dead = r[2] == 'Z' || r[2] == 'X';
	free(s);
	return dead;
}

int ovup_proc_gone(struct proc_target *p)
{
	return ovup_err(-ESRCH, "pid %d: the process exited while ovup was working on it", p->pid);
}

int ovup_proc_ptrace_err(struct proc_target *p, int err, const char *what)
{
	if (err == -ESRCH || ovup_proc_dead(p->pid))
		return ovup_proc_gone(p);
	if (err == -EPERM)
		return ovup_proc_denied(p, what);
	return ovup_err(err, "pid %d: cannot %s: %s", p->pid, what, strerror(-err));
}
