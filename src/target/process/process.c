// SPDX-License-Identifier: MIT
/*
 * The process target: a running Linux process reached through ptrace and
 * /proc/PID/mem.  alloc/chgprot/free are syscalls injected into one stopped
 * thread; copyin and pawrite write through /proc/PID/mem (which, like the
 * paper's ov_pawrite, writes past the page protection); the record of
 * applied patches lives in a state file keyed by pid AND start time.
 */
#define _GNU_SOURCE
#include "../target.h"
#include "../../arch/arch.h"
#include "../../core/core.h"
#include "../../elf/elf.h"
#include "maps.h"
#include "ptrace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct proc_target {
	struct ovup_target base;
	int pid;
	uint64_t starttime;   /* /proc/PID/stat field 22: tells a reused pid */
	char boot_id[64];
	int memfd;
	int lockfd;
	char *state_path;
	uint64_t syscall_insn;
	struct ovup_threads threads;
	struct ovup_block planned[4]; /* dry-run choices, as if mapped */
	size_t nplanned;
};

static struct proc_target *to_proc(struct ovup_target *t)
{
	return ovup_container_of(t, struct proc_target, base);
}

static const char *state_dir(void)
{
	const char *d = getenv("OVUP_STATE_DIR");

	return d && *d ? d : "/run/ovup";
}

static const char *debug_root(void)
{
	const char *d = getenv("OVUP_DEBUG_ROOT");

	return d && *d ? d : "/usr/lib/debug";
}

/* Reads /proc/PID/stat fields (1-based numbering as in proc(5)). */
static int read_stat_fields(int pid, const int *want, uint64_t *out, size_t n)
{
	char path[64], *text, *p;
	size_t i;
	int field = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	text = ovup_read_file(path, NULL);
	if (!text)
		return errno == ENOENT ? -ESRCH : -errno;
	p = strrchr(text, ')'); /* comm may hold spaces and parentheses */
	if (!p) {
		free(text);
		return -EINVAL;
	}
	p += 2;
	while (*p) {
		for (i = 0; i < n; i++)
			if (want[i] == field)
				out[i] = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
		field++;
	}
	free(text);
	return 0;
}

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
static int denied(struct proc_target *p, const char *what)
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
			return ovup_err(-EPERM,
					"pid %d: cannot %s: permission denied (kernel.yama.ptrace_scope=%ld "
					"allows tracing only descendants); run ovup as root or with "
					"CAP_SYS_PTRACE, or set 'sysctl kernel.yama.ptrace_scope=0'",
					p->pid, what, scope);
		if (uid >= 0 && (uid_t)uid != geteuid())
			return ovup_err(-EPERM,
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
static int proc_dead(int pid)
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

static int gone(struct proc_target *p)
{
	return ovup_err(-ESRCH, "pid %d: the process exited while ovup was working on it", p->pid);
}

static int ptrace_err(struct proc_target *p, int err, const char *what)
{
	if (err == -ESRCH || proc_dead(p->pid))
		return gone(p);
	if (err == -EPERM)
		return denied(p, what);
	return ovup_err(err, "pid %d: cannot %s: %s", p->pid, what, strerror(-err));
}

/* ---- /proc/PID/maps ---------------------------------------------------- */

static int map_cmp(const void *a, const void *b)
{
	const struct ovup_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_maps(struct proc_target *p, struct ovup_map **m, size_t *n)
{
	char path[64], *text;
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	text = ovup_read_file(path, NULL);
	if (!text)
		return gone(p);
	ret = ovup_maps_parse(text, m, n);
	free(text);
	if (ret)
		return ovup_err(ret, "pid %d: cannot parse /proc/%d/maps", p->pid, p->pid);
	if (!p->nplanned)
		return 0;
	/* a dry run's earlier choices count as taken */
	*m = ovup_xrealloc(*m, (*n + p->nplanned) * sizeof(**m));
	for (i = 0; i < p->nplanned; i++) {
		struct ovup_map *e = &(*m)[(*n)++];

		memset(e, 0, sizeof(*e));
		e->start = p->planned[i].addr;
		e->end = p->planned[i].addr + p->planned[i].size;
		memcpy(e->perms, "---p", 5);
		e->path = ovup_xstrdup("[planned]");
	}
	qsort(*m, *n, sizeof(**m), map_cmp);
	return 0;
}

/* ---- labels ------------------------------------------------------------ */

struct label_ctx {
	struct ovup_symtab *st;
	uint32_t obj;
	uint64_t bias;
};

static void add_sym(void *arg, const struct ovup_elf_sym *s)
{
	struct label_ctx *c = arg;

	ovup_symtab_add(c->st, c->obj, s->name, s->value + c->bias, s->size, s->type, s->bind,
			s->file)->vis = s->vis;
}

static int open_debug(const struct ovup_elf_info *info, const char *path, char **found,
		      char **hint)
{
	char hex[2 * OVUP_BUILD_ID_MAX + 1];
	char *cand[3] = { NULL, NULL, NULL };
	size_t i;
	int fd = -1;

	*found = NULL;
	*hint = NULL;
	if (info->build_id_len > 1) {
		ovup_hex(hex, info->build_id, info->build_id_len);
		cand[0] = ovup_xasprintf("%s/.build-id/%.2s/%s.debug", debug_root(), hex, hex + 2);
	}
	if (info->debuglink[0]) {
		char *dir = ovup_xstrdup(path), *slash = strrchr(dir, '/');

		if (slash)
			*slash = 0;
		cand[1] = ovup_xasprintf("%s%s/%s", debug_root(), dir, info->debuglink);
		cand[2] = ovup_xasprintf("%s/.debug/%s", dir, info->debuglink);
		free(dir);
	}
	for (i = 0; i < 3 && fd < 0; i++) {
		struct ovup_elf_info di;

		if (!cand[i])
			continue;
		fd = open(cand[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* a debug file for another build would give wrong addresses */
		if (ovup_elf_info(fd, &di) || !di.has_symtab ||
		    (info->build_id_len &&
		     (di.build_id_len != info->build_id_len ||
		      memcmp(di.build_id, info->build_id, di.build_id_len)))) {
			close(fd);
			fd = -1;
			continue;
		}
		*found = ovup_xstrdup(cand[i]);
	}
	*hint = ovup_xstrdup(cand[0] ? cand[0] : cand[1] ? cand[1] : "its debug symbols");
	for (i = 0; i < 3; i++)
		free(cand[i]);
	return fd;
}

static int proc_labels(struct ovup_target *t, struct ovup_symtab *st)
{
	struct proc_target *p = to_proc(t);
	char path[128], exe[4096];
	struct ovup_map *m;
	size_t n, i, j;
	uint64_t at_base = 0;
	ssize_t len;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
	len = readlink(path, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	{
		size_t alen;
		char *auxv = ovup_read_file(path, &alen);
		uint64_t *a = (uint64_t *)auxv;

		for (i = 0; auxv && (i + 1) * 16 <= alen; i++)
			if (a[2 * i] == AT_BASE)
				at_base = a[2 * i + 1];
		free(auxv);
	}
	ret = read_maps(p, &m, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct ovup_object o = { 0 };
		struct ovup_elf_info info;
		struct label_ctx c;
		char *dbg = NULL, *hint = NULL, *shown;
		int fd, dfd;
		size_t k;

		if (m[i].path[0] != '/')
			continue;
		/* one object per file, seen at its first mapping */
		for (j = 0; j < i; j++)
			if (m[j].inode == m[i].inode && !strcmp(m[j].path, m[i].path))
				break;
		if (j < i)
			continue;
		/* map_files opens the very file mapped, even if the path was
		 * replaced by an upgrade since the process started */
		o.open_path = ovup_xasprintf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64, p->pid,
					     m[i].start, m[i].end);
		fd = open(o.open_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			free(o.open_path);
			o.open_path = ovup_xasprintf("/proc/%d/root%s", p->pid, m[i].path);
			fd = open(o.open_path, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0 || ovup_elf_info(fd, &info) || !info.nload) {
			if (fd >= 0)
				close(fd);
			free(o.open_path);
			continue;
		}
		shown = ovup_xstrdup(m[i].path);
		if (strlen(shown) > 10 && !strcmp(shown + strlen(shown) - 10, " (deleted)"))
			shown[strlen(shown) - 10] = 0;
		o.path = shown;
		o.name = ovup_xstrdup(ovup_basename(shown));
		o.lo = m[i].start;
		for (j = i; j < n; j++)
			if (m[j].inode == m[i].inode && !strcmp(m[j].path, m[i].path))
				o.hi = m[j].end;
		for (k = 0; k < info.nload; k++) {
			const struct ovup_elf_load *l = &info.load[k];
			uint64_t seg_off = OVUP_ALIGN_DOWN(l->offset, 4096);

			if (m[i].offset >= seg_off && m[i].offset < l->offset + l->filesz + 4096) {
				o.bias = m[i].start - (OVUP_ALIGN_DOWN(l->vaddr, 4096) +
						       (m[i].offset - seg_off));
				break;
			}
		}
		memcpy(o.build_id, info.build_id, info.build_id_len);
		o.build_id_len = info.build_id_len;
		o.is_main = !strcmp(shown, exe);
		o.is_loader = at_base && m[i].start == at_base;
		c.st = st;
		c.bias = o.bias;
		if (info.has_symtab) {
			o.full = 1;
			o.symsrc = ovup_xstrdup(".symtab");
			c.obj = (uint32_t)ovup_symtab_add_object(st, &o);
			ovup_elf_symbols(fd, 0, add_sym, &c);
		} else if ((dfd = open_debug(&info, shown, &dbg, &hint)) >= 0) {
			o.full = 1;
			o.symsrc = dbg;
			free(hint);
			c.obj = (uint32_t)ovup_symtab_add_object(st, &o);
			ovup_elf_symbols(dfd, 0, add_sym, &c);
			close(dfd);
		} else {
			o.symsrc = ovup_xstrdup(".dynsym");
			o.debug_hint = hint;
			c.obj = (uint32_t)ovup_symtab_add_object(st, &o);
			ovup_elf_symbols(fd, 1, add_sym, &c);
		}
		close(fd);
	}
	ovup_maps_free(m, n);
	ovup_symtab_finish(st);
	return 0;
}

static int proc_pristine(struct ovup_target *t, const struct ovup_symtab *st,
			 const struct ovup_sym *s, uint64_t addr, void *buf, size_t len)
{
	const struct ovup_object *o = &st->objs[s->obj];
	int fd, ret;

	(void)t;
	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ovup_elf_read_vaddr(fd, addr - o->bias, buf, len);
	close(fd);
	return ret;
}

static int proc_site(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep)
{
	(void)t;
	*keep = (uint32_t)ovup_arch_entry_keep(entry, n);
	return 0;
}

static int proc_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct proc_target *p = to_proc(t);
	ssize_t n = pread(p->memfd, buf, len, (off_t)addr);

	if (n == (ssize_t)len)
		return 0;
	if (proc_dead(p->pid))
		return gone(p);
	return ovup_err(n < 0 ? -errno : -EIO, "pid %d: cannot read %zu bytes at 0x%" PRIx64 ": %s",
			p->pid, len, addr, n < 0 ? strerror(errno) : "short read");
}

static int proc_inlined(struct ovup_target *t, const struct ovup_symtab *st,
			const struct ovup_sym *s, char ***callers, size_t *n)
{
	const struct ovup_object *o = &st->objs[s->obj];
	const char *dwarf;

	(void)t;
	*callers = NULL;
	*n = 0;
	if (!o->full)
		return -ENOENT;
	/* the file the symbols came from: the object itself or its
	 * separate debuginfo */
	dwarf = strcmp(o->symsrc, ".symtab") ? o->symsrc : o->open_path;
	return ovup_dwarf_inlined_callers(dwarf, s->addr - o->bias, s->name, callers, n);
}

static int proc_resolve_ifunc(struct ovup_target *t, const struct ovup_symtab *st,
			      const struct ovup_sym *s, uint64_t *impl)
{
	const struct ovup_object *o = &st->objs[s->obj];
	uint64_t slot;
	int fd, ret;

	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* the loader stored the resolver's choice in the object's own GOT
	 * slot for its internal calls */
	ret = ovup_elf_irelative_slot(fd, s->addr - o->bias, &slot);
	close(fd);
	if (ret)
		return ret;
	return proc_read(t, slot + o->bias, impl, sizeof(*impl));
}

/* ---- syscalls in the target --------------------------------------------- */

static int find_syscall_insn(struct proc_target *p)
{
	struct ovup_map *m;
	size_t n, i;
	int ret;

	if (p->syscall_insn)
		return 0;
	ret = read_maps(p, &m, &n);
	if (ret)
		return ret;
	ret = -ENOENT;
	/* the vDSO always has one, then any executable file mapping */
	for (int pass = 0; pass < 2 && ret; pass++) {
		for (i = 0; i < n && ret; i++) {
			uint64_t len = OVUP_MIN(m[i].end - m[i].start, 1ull << 20);
			uint8_t *buf;
			void *hit;

			if (m[i].perms[2] != 'x' || (pass == 0) != !strcmp(m[i].path, "[vdso]"))
				continue;
			buf = ovup_xmalloc(len);
			if (pread(p->memfd, buf, len, (off_t)m[i].start) == (ssize_t)len &&
			    (hit = memmem(buf, len, ovup_arch_syscall_insn, ovup_arch_syscall_len))) {
				p->syscall_insn = m[i].start + (uint64_t)((uint8_t *)hit - buf);
				ret = 0;
			}
			free(buf);
		}
	}
	ovup_maps_free(m, n);
	if (ret)
		return ovup_err(ret, "pid %d: found no syscall instruction in its executable memory",
				p->pid);
	return 0;
}

/* Runs one syscall in the target: stop a thread, make the call, release. */
static int remote_syscall(struct proc_target *p, long nr, const uint64_t args[6], int64_t *res)
{
	int ret, held = p->threads.n > 0;

	ret = find_syscall_insn(p);
	if (ret)
		return ret;
	if (!held) {
		ret = ovup_ptrace_stop_one(&p->threads);
		if (ret) {
			ovup_ptrace_resume_all(&p->threads);
			return ptrace_err(p, ret, "attach with ptrace");
		}
	}
	ret = ovup_ptrace_syscall(&p->threads, 0, p->syscall_insn, nr, args, res);
	if (!held)
		ovup_ptrace_resume_all(&p->threads);
	if (ret)
		return ptrace_err(p, ret, "run a syscall in it");
	return 0;
}

static int proc_alloc(struct ovup_target *t, enum ovup_block_kind kind, uint64_t size, uint64_t lo,
		      uint64_t hi, uint64_t near, int dry_run, struct ovup_block *out)
{
	struct proc_target *p = to_proc(t);
	static const int brk_fields[] = { 47 /* start_brk */ };
	uint64_t brk[1] = { 0 };
	int attempt, ret;

	size = OVUP_ALIGN_UP(size, 4096);
	read_stat_fields(p->pid, brk_fields, brk, 1);
	for (attempt = 0; attempt < 8; attempt++) {
		struct ovup_map *m;
		size_t n;
		uint64_t addr, args[6];
		int64_t res;

		ret = read_maps(p, &m, &n);
		if (ret)
			return ret;
		ret = ovup_maps_hole(m, n, size, lo, hi, near, brk[0], &addr);
		ovup_maps_free(m, n);
		if (ret)
			return ovup_err(ret,
					"pid %d: no free %" PRIu64 " KiB within +-2 GiB of the replaced "
					"functions",
					p->pid, size >> 10);
		out->addr = addr;
		out->size = size;
		out->kind = kind;
		if (dry_run) {
			if (p->nplanned < OVUP_ARRAY_SIZE(p->planned))
				p->planned[p->nplanned++] = *out;
			return 0;
		}
		/* W^X from the first instant: code is mapped read+exec and
		 * filled through /proc/PID/mem, which also works where the
		 * process forbids gaining exec later (PR_SET_MDWE) */
		args[0] = addr;
		args[1] = size;
		args[2] = kind == OVUP_BLOCK_TEXT ? PROT_READ | PROT_EXEC : PROT_READ;
		args[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
		args[4] = (uint64_t)-1;
		args[5] = 0;
		ret = remote_syscall(p, SYS_mmap, args, &res);
		if (ret)
			return ret;
		if (res == -EEXIST)
			continue; /* the target mapped something there meanwhile */
		if (res < 0 && res > -4096)
			return ovup_err((int)res, "pid %d: mmap of %" PRIu64 " bytes at 0x%" PRIx64
					" failed in the target: %s",
					p->pid, size, addr, strerror((int)-res));
		if ((uint64_t)res != addr) {
			/* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
			args[0] = (uint64_t)res;
			remote_syscall(p, SYS_munmap, args, &res);
			return ovup_err(-ENOSPC, "pid %d: the kernel did not map at 0x%" PRIx64, p->pid,
					addr);
		}
		return 0;
	}
	return ovup_err(-EAGAIN, "pid %d: its address space kept changing under ovup", p->pid);
}

static int proc_chgprot(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot)
{
	struct proc_target *p = to_proc(t);
	uint64_t args[6] = { addr, OVUP_ALIGN_UP(len, 4096), 0, 0, 0, 0 };
	int64_t res;
	int ret;

	args[2] = prot == OVUP_PROT_READ_EXEC    ? PROT_READ | PROT_EXEC
		  : prot == OVUP_PROT_READ_WRITE ? PROT_READ | PROT_WRITE
						 : PROT_READ;
	ret = remote_syscall(p, SYS_mprotect, args, &res);
	if (ret)
		return ret;
	if (res < 0)
		return ovup_err((int)res, "pid %d: mprotect at 0x%" PRIx64 " failed in the target: %s",
				p->pid, addr, strerror((int)-res));
	return 0;
}

static int proc_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len)
{
	struct proc_target *p = to_proc(t);
	ssize_t n;

	if (ovup_fault("exit-target-at-load")) {
		/* test hook: the process dies in the middle of an apply; wait
		 * until its memory is gone (it may stay a zombie) */
		int i;
		char c;

		kill(p->pid, SIGKILL);
		for (i = 0; i < 2000 && pread(p->memfd, &c, 1, (off_t)addr) == 1; i++)
			ovup_sleep_us(1000);
	}
	n = pwrite(p->memfd, buf, len, (off_t)addr);
	if (n == (ssize_t)len)
		return 0;
	if (proc_dead(p->pid))
		return gone(p);
	return ovup_err(n < 0 ? -errno : -EIO, "pid %d: cannot write %zu bytes at 0x%" PRIx64 ": %s",
			p->pid, len, addr, n < 0 ? strerror(errno) : "short write");
}

/* ---- stop, check, write, resume ----------------------------------------- */

static void thread_comm(int pid, int tid, char *buf, size_t len)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	s = ovup_read_file(path, NULL);
	snprintf(buf, len, "%s", s ? s : "?");
	buf[strcspn(buf, "\n")] = 0;
	free(s);
}

static int proc_stop(struct ovup_target *t)
{
	struct proc_target *p = to_proc(t);
	int ret = ovup_ptrace_stop_all(&p->threads);

	if (ret) {
		ovup_ptrace_resume_all(&p->threads);
		return ptrace_err(p, ret, "stop its threads with ptrace");
	}
	return 0;
}

static int proc_resume(struct ovup_target *t)
{
	struct proc_target *p = to_proc(t);
	uint64_t t0 = p->threads.t_first_stop;
	int ret = ovup_ptrace_resume_all(&p->threads);

	if (t0)
		ovup_last_pause_ns = ovup_now_ns() - t0;
	return ret ? ptrace_err(p, ret, "resume its threads") : 0;
}

static int busy_thread(struct proc_target *p, const struct ovup_range *r, size_t nr,
		       struct ovup_busy *busy)
{
	size_t i, k;

	for (i = 0; i < p->threads.n; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t pc = ovup_arch_regs_pc(&th->regs);

		for (k = 0; k < nr; k++) {
			if (pc >= r[k].start && pc < r[k].end) {
				busy->tid = th->tid;
				busy->addr = pc;
				thread_comm(p->pid, th->tid, busy->comm, sizeof(busy->comm));
				return -EBUSY;
			}
		}
	}
	return 0;
}

static int proc_pawrite(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = to_proc(t);
	size_t i, done;
	int ret;

	txn->failed_site = -1;
	ret = busy_thread(p, txn->ranges, txn->nranges, &txn->busy);
	if (ret)
		return ret;
	/* compare every site before writing any, so a changed site costs
	 * nothing to undo */
	for (i = 0; i < txn->nsites; i++) {
		uint8_t cur[OVUP_SITE_MAX];
		struct ovup_site *s = &txn->sites[i];

		ret = proc_read(t, s->addr, cur, s->len);
		if (ret)
			return ret;
		if (memcmp(cur, s->expect, s->len)) {
			txn->failed_site = (long)i;
			return -ESTALE;
		}
	}
	for (done = 0; done < txn->nsites; done++) {
		struct ovup_site *s = &txn->sites[done];

		if (ovup_fault_n("pawrite", done + 1))
			ret = ovup_err(-EIO, "pid %d: write of site %zu failed (fault injected by "
					     "OVUP_FAULT)", p->pid, done + 1);
		else if (pwrite(p->memfd, s->write, s->len, (off_t)s->addr) != (ssize_t)s->len)
			ret = ovup_err(-errno ? -errno : -EIO,
				       "pid %d: cannot write the branch at 0x%" PRIx64 ": %m", p->pid,
				       s->addr);
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	/* undo in reverse: the target must look untouched */
	txn->failed_site = (long)done;
	while (done-- > 0) {
		struct ovup_site *s = &txn->sites[done];

		if (ovup_fault("pawrite-undo") ||
		    pwrite(p->memfd, s->expect, s->len, (off_t)s->addr) != (ssize_t)s->len) {
			ovup_err_set_inconsistent();
			ovup_err_prefix("pid %d: could not restore 0x%" PRIx64 " after a failed write; ",
					p->pid, s->addr);
		}
	}
	return ret;
}

/* Could a thread still run in, or return into, one of the blocks?  The pc
 * of every thread, and every word between its stack pointer and the end of
 * its stack mapping, conservatively. */
static int blocks_in_use(struct proc_target *p, const struct ovup_block *b, size_t nb,
			 struct ovup_busy *busy)
{
	struct ovup_map *m;
	size_t n, i, k, j;
	int ret;

	ret = read_maps(p, &m, &n);
	if (ret)
		return ret;
	for (i = 0; i < p->threads.n && !ret; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t pc = ovup_arch_regs_pc(&th->regs), sp = ovup_arch_regs_sp(&th->regs);
		uint64_t end = 0, *words;
		size_t len;

		for (k = 0; k < nb; k++)
			if (b[k].kind == OVUP_BLOCK_TEXT && pc >= b[k].addr && pc < b[k].addr + b[k].size)
				goto busy;
		for (k = 0; k < n; k++)
			if (sp >= m[k].start && sp < m[k].end)
				end = m[k].end;
		if (!end)
			continue;
		len = (size_t)OVUP_MIN(end - OVUP_ALIGN_DOWN(sp, 8), 8ull << 20);
		words = ovup_xmalloc(len);
		if (pread(p->memfd, words, len, (off_t)OVUP_ALIGN_DOWN(sp, 8)) == (ssize_t)len) {
			for (j = 0; j < len / 8; j++)
				for (k = 0; k < nb; k++)
					if (b[k].kind == OVUP_BLOCK_TEXT && words[j] >= b[k].addr &&
					    words[j] < b[k].addr + b[k].size) {
						pc = words[j];
						free(words);
						goto busy;
					}
		}
		free(words);
		continue;
busy:
		busy->tid = th->tid;
		busy->addr = pc;
		thread_comm(p->pid, th->tid, busy->comm, sizeof(busy->comm));
		ret = -EBUSY;
	}
	ovup_maps_free(m, n);
	return ret;
}

static int proc_free(struct ovup_target *t, const struct ovup_block *b, size_t nb,
		     struct ovup_busy *busy)
{
	struct proc_target *p = to_proc(t);
	size_t i;
	int ret;

	if (!nb)
		return 0;
	if (proc_dead(p->pid))
		return -ESRCH; /* its memory went with it */
	ret = proc_stop(t);
	if (ret)
		return ret;
	ret = blocks_in_use(p, b, nb, busy);
	for (i = 0; i < nb && !ret; i++) {
		uint64_t args[6] = { b[i].addr, b[i].size, 0, 0, 0, 0 };
		int64_t res;

		ret = remote_syscall(p, SYS_munmap, args, &res);
		if (!ret && res < 0)
			ret = ovup_err((int)res, "pid %d: munmap at 0x%" PRIx64 " failed: %s", p->pid,
				       b[i].addr, strerror((int)-res));
	}
	ovup_ptrace_resume_all(&p->threads);
	return ret;
}

/* ---- the record ------------------------------------------------------- */

static int proc_records_load(struct ovup_target *t, struct ovup_buf *out)
{
	struct proc_target *p = to_proc(t);
	char *text = ovup_read_file(p->state_path, NULL), *nl;
	char want[256];

	if (!text)
		return errno == ENOENT ? 0 : ovup_err(-errno, "cannot read %s: %m", p->state_path);
	snprintf(want, sizeof(want), "ovup-state 1 process %d %" PRIu64 " %s", p->pid, p->starttime,
		 p->boot_id);
	nl = strchr(text, '\n');
	if (nl && (size_t)(nl - text) == strlen(want) && !strncmp(text, want, strlen(want))) {
		ovup_buf_add(out, nl + 1, strlen(nl + 1));
	} else if (!p->base.offline) {
		/* written for an earlier process that had this pid */
		unlink(p->state_path);
	}
	free(text);
	return 0;
}

static int proc_records_store(struct ovup_target *t, const char *text)
{
	struct proc_target *p = to_proc(t);
	struct ovup_buf b = { 0 };
	int ret;

	if (!*text) {
		if (unlink(p->state_path) < 0 && errno != ENOENT)
			return ovup_err(-errno, "cannot remove %s: %m", p->state_path);
		return 0;
	}
	ovup_buf_printf(&b, "ovup-state 1 process %d %" PRIu64 " %s\n%s", p->pid, p->starttime,
			p->boot_id, text);
	ret = ovup_write_file_atomic(p->state_path, b.s, b.len);
	ovup_buf_free(&b);
	if (ret)
		return ovup_err(ret, "cannot write %s: %s", p->state_path, strerror(-ret));
	return 0;
}

static void proc_close(struct ovup_target *t)
{
	struct proc_target *p = to_proc(t);

	ovup_ptrace_release(&p->threads);
	if (p->memfd >= 0)
		close(p->memfd);
	if (p->lockfd >= 0)
		close(p->lockfd);
	free(p->state_path);
	free(p);
}

static const struct ovup_target_ops process_ops = {
	.kind = "process",
	.labels = proc_labels,
	.compile = ovup_cc_compile,
	.site = proc_site,
	.classify = ovup_classify_user,
	.resolve_ifunc = proc_resolve_ifunc,
	.inlined = proc_inlined,
	.alloc = proc_alloc,
	.free = proc_free,
	.copyin = proc_copyin,
	.chgprot = proc_chgprot,
	.read = proc_read,
	.stop = proc_stop,
	.pawrite = proc_pawrite,
	.resume = proc_resume,
	.records_load = proc_records_load,
	.records_store = proc_records_store,
	.pristine = proc_pristine,
	.close = proc_close,
	.callers_assume_clobbers = 1,
};

static int mkdirs(const char *path)
{
	char *d = ovup_xstrdup(path), *s;
	int ret = 0;

	for (s = d + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			ret = -errno;
		*s = '/';
	}
	if (!ret && mkdir(d, 0700) < 0 && errno != EEXIST)
		ret = -errno;
	free(d);
	return ret;
}

int ovup_target_process_open(int pid, int offline, struct ovup_target **out)
{
	struct proc_target *p;
	static const int fields[] = { 22 };
	char path[64], *s;
	int ret;

	if (pid <= 0)
		return ovup_err(-EINVAL, "invalid pid %d", pid);
	p = ovup_xcalloc(1, sizeof(*p));
	p->base.ops = &process_ops;
	snprintf(p->base.desc, sizeof(p->base.desc), "pid %d", pid);
	p->pid = pid;
	p->base.offline = offline;
	p->memfd = p->lockfd = -1;
	p->threads.pid = pid;
	ret = read_stat_fields(pid, fields, &p->starttime, 1);
	if (ret) {
		ret = ovup_err(-ESRCH, "pid %d: no such process; check the pid (ps -p %d)", pid, pid);
		goto out_free;
	}
	s = ovup_read_file("/proc/sys/kernel/random/boot_id", NULL);
	snprintf(p->boot_id, sizeof(p->boot_id), "%s", s ? s : "unknown");
	p->boot_id[strcspn(p->boot_id, "\n")] = 0;
	free(s);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	p->memfd = open(path, (offline ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (p->memfd < 0) {
		ret = errno == ENOENT	   ? ovup_err(-ESRCH, "pid %d: no such process", pid)
		      : proc_dead(pid) ? ovup_err(-ESRCH, "pid %d: the process has exited (a "
							  "zombie); nothing to patch",
						  pid)
				       : denied(p, "open its memory");
		goto out_free;
	}
	p->state_path = ovup_xasprintf("%s/process/%d.state", state_dir(), pid);
	if (!offline) {
		char *dir = ovup_xasprintf("%s/process", state_dir()), *lock;

		ret = mkdirs(dir);
		free(dir);
		if (ret) {
			ret = ovup_err(ret, "cannot create %s/process: %s; set OVUP_STATE_DIR to a "
					    "writable directory",
				       state_dir(), strerror(-ret));
			goto out_free;
		}
		lock = ovup_xasprintf("%s/process/%d.lock", state_dir(), pid);
		p->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		free(lock);
		if (p->lockfd < 0 || flock(p->lockfd, LOCK_EX | LOCK_NB) < 0) {
			ret = errno == EWOULDBLOCK
				      ? ovup_err(-EBUSY, "pid %d: another ovup is working on this "
							 "process; try again",
						 pid)
				      : ovup_err(-errno, "cannot lock the state of pid %d: %m", pid);
			goto out_free;
		}
	}
	*out = &p->base;
	return 0;
out_free:
	proc_close(&p->base);
	return ret;
}
