// SPDX-License-Identifier: MIT
/*
 * The process target: a running Linux process reached through ptrace and
 * /proc/PID/mem.  alloc/chgprot/free are syscalls injected into one stopped
 * thread (inject.c); copyin and pawrite write through /proc/PID/mem (which,
 * like the paper's ov_pawrite, writes past the page protection); the record
 * of applied patches lives in the process itself (journal.c).  A process is
 * its thread-group leader, locked with flock() on its /proc/PID/mem.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../arch/arch.h"
#include "../compile.h"
#include "../../elf/elf.h"

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
		return denied(p, what);
	return ovup_err(err, "pid %d: cannot %s: %s", p->pid, what, strerror(-err));
}

/* ---- /proc/PID/maps ---------------------------------------------------- */

static int map_cmp(const void *a, const void *b)
{
	const struct ovup_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int ovup_proc_read_maps(struct proc_target *p, struct ovup_map **m, size_t *n)
{
	char path[64], *text;
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	text = ovup_read_file(path, NULL);
	if (!text)
		return ovup_proc_gone(p);
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
	struct proc_target *p = ovup_to_proc(t);
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
	ret = ovup_proc_read_maps(p, &m, &n);
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

/* The executable file mapping that holds [addr, addr+len), opened
 * through map_files: the very file mapped, even if replaced on disk
 * since.  The fd, or -ENOENT. */
static int open_code(struct proc_target *p, uint64_t addr, uint64_t len, struct ovup_map *out)
{
	struct ovup_map *m;
	size_t n, i;
	int fd = -ENOENT;

	if (ovup_proc_read_maps(p, &m, &n))
		return -ENOENT;
	for (i = 0; i < n; i++) {
		char path[128];

		if (addr < m[i].start || addr + len > m[i].end || m[i].perms[2] != 'x' ||
		    m[i].path[0] != '/')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, p->pid,
			 m[i].start, m[i].end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -ENOENT;
		*out = m[i];
		out->path = NULL;
		break;
	}
	ovup_maps_free(m, n);
	return fd;
}

static int proc_original(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct proc_target *p = ovup_to_proc(t);
	struct ovup_map m;
	int fd = open_code(p, addr, len, &m), ret;

	if (fd < 0)
		return fd;
	ret = pread(fd, buf, len, (off_t)(m.offset + addr - m.start)) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return ret;
}

static int proc_code_at(struct ovup_target *t, uint64_t addr, uint8_t **buf, uint64_t *start,
			size_t *len)
{
	struct proc_target *p = ovup_to_proc(t);
	struct ovup_map m;
	int fd = open_code(p, addr, 1, &m);
	ssize_t got;

	if (fd < 0)
		return fd;
	*len = (size_t)(m.end - m.start);
	*buf = ovup_xmalloc(*len);
	*start = m.start;
	/* the mapping may run past the end of the file: the rest is zeros */
	memset(*buf, 0, *len);
	got = pread(fd, *buf, *len, (off_t)m.offset);
	close(fd);
	if (got < 0) {
		free(*buf);
		*buf = NULL;
		return -EIO;
	}
	return 0;
}

static int proc_site(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep)
{
	(void)t;
	*keep = (uint32_t)ovup_arch_entry_keep(entry, n);
	return 0;
}

static int proc_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct proc_target *p = ovup_to_proc(t);
	ssize_t n = pread(p->memfd, buf, len, (off_t)addr);

	if (n == (ssize_t)len)
		return 0;
	if (ovup_proc_dead(p->pid))
		return ovup_proc_gone(p);
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

static int proc_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len)
{
	struct proc_target *p = ovup_to_proc(t);
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
	if (ovup_proc_dead(p->pid))
		return ovup_proc_gone(p);
	return ovup_err(n < 0 ? -errno : -EIO, "pid %d: cannot write %zu bytes at 0x%" PRIx64 ": %s",
			p->pid, len, addr, n < 0 ? strerror(errno) : "short write");
}

/* ---- stop, check, write, resume ----------------------------------------- */

void ovup_proc_thread_comm(int pid, int tid, char *buf, size_t len)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	s = ovup_read_file(path, NULL);
	snprintf(buf, len, "%s", s ? s : "?");
	buf[strcspn(buf, "\n")] = 0;
	free(s);
}

int ovup_proc_stop(struct ovup_target *t)
{
	struct proc_target *p = ovup_to_proc(t);
	int ret = ovup_ptrace_stop_all(&p->threads);

	if (ret) {
		ovup_ptrace_resume_all(&p->threads);
		return ovup_proc_ptrace_err(p, ret, "stop its threads with ptrace");
	}
	return 0;
}

static int proc_resume(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = ovup_to_proc(t);
	uint64_t t0 = p->threads.t_first_stop;
	int ret = ovup_ptrace_resume_all(&p->threads);

	if (t0)
		txn->pause_ns = ovup_now_ns() - t0;
	return ret ? ovup_proc_ptrace_err(p, ret, "resume its threads") : 0;
}

/* A thread may sit at a site (it then takes the jump), never inside the
 * bytes being replaced; a thread stopped in a syscall may also go back to
 * the syscall instruction, which the kernel re-executes on a restart. */
static int busy_thread(struct proc_target *p, const struct ovup_range *r, size_t nr,
		       struct ovup_busy *busy)
{
	size_t i, k, j;

	for (i = 0; i < p->threads.n; i++) {
		struct ovup_thread *th = &p->threads.t[i];
		uint64_t pcs[2];
		size_t npc = ovup_arch_regs_resume_pcs(&th->regs, pcs);

		for (j = 0; j < npc; j++) {
			for (k = 0; k < nr; k++) {
				if (pcs[j] >= r[k].start && pcs[j] < r[k].end) {
					busy->tid = th->tid;
					busy->addr = pcs[j];
					ovup_proc_thread_comm(p->pid, th->tid, busy->comm,
							      sizeof(busy->comm));
					return -EBUSY;
				}
			}
		}
	}
	return 0;
}

static int proc_pawrite(struct ovup_target *t, struct ovup_txn *txn)
{
	struct proc_target *p = ovup_to_proc(t);
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

void ovup_proc_start_brk(struct proc_target *p, uint64_t *brk)
{
	static const int brk_fields[] = { 47 /* start_brk */ };

	read_stat_fields(p->pid, brk_fields, brk, 1);
}

static void proc_close(struct ovup_target *t)
{
	struct proc_target *p = ovup_to_proc(t);

	ovup_ptrace_release(&p->threads);
	ovup_seccomp_release(&p->seccomp);
	if (p->memfd >= 0)
		close(p->memfd); /* and with it the lock */
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
	.alloc = ovup_proc_alloc,
	.free = ovup_proc_free,
	.blocks = ovup_proc_blocks,
	.copyin = proc_copyin,
	.chgprot = ovup_proc_chgprot,
	.read = proc_read,
	.stop = ovup_proc_stop,
	.pawrite = proc_pawrite,
	.resume = proc_resume,
	.records_load = ovup_proc_records_load,
	.records_store = ovup_proc_records_store,
	.pristine = proc_pristine,
	.original = proc_original,
	.code_at = proc_code_at,
	.close = proc_close,
	.links_got = 1,
	.callers_assume_clobbers = 1,
};

/* The thread-group leader of tid: a process is patched as a whole. */
static int leader_of(int tid)
{
	char path[64], *s, *tg;
	int tgid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	s = ovup_read_file(path, NULL);
	if (s && (tg = strstr(s, "\nTgid:")))
		tgid = (int)strtol(tg + 6, NULL, 10);
	free(s);
	return tgid;
}

int ovup_target_process_open(int pid, enum ovup_open_mode offline, struct ovup_target **out)
{
	struct proc_target *p;
	char path[64];
	int ret, tgid;

	if (pid <= 0)
		return ovup_err(-EINVAL, "invalid pid %d", pid);
	tgid = leader_of(pid);
	if (tgid <= 0)
		return ovup_err(-ESRCH, "pid %d: no such process; check the pid (ps -p %d)", pid, pid);
	if (tgid != pid)
		ovup_note("pid %d is a thread of process %d: working on the process", pid, tgid);
	p = ovup_xcalloc(1, sizeof(*p));
	p->base.ops = &process_ops;
	snprintf(p->base.desc, sizeof(p->base.desc), "pid %d", tgid);
	p->pid = tgid;
	p->base.offline = offline;
	p->memfd = -1;
	p->threads.pid = tgid;
	snprintf(path, sizeof(path), "/proc/%d/mem", tgid);
	p->memfd = open(path, (offline ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (p->memfd < 0) {
		ret = errno == ENOENT	   ? ovup_err(-ESRCH, "pid %d: no such process", tgid)
		      : ovup_proc_dead(tgid) ? ovup_err(-ESRCH, "pid %d: the process has exited (a "
							  "zombie); nothing to patch",
						  tgid)
				       : denied(p, "open its memory");
		goto out_free;
	}
	/* One ovup at a time per process, whoever runs it and wherever: the
	 * lock is on the process's own /proc entry, and dies with ovup. */
	if (!offline && flock(p->memfd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK
			      ? ovup_err(-EBUSY, "pid %d: another ovup is working on this process; "
						 "try again",
					 tgid)
			      : ovup_err(-errno, "pid %d: cannot lock it: %m", tgid);
		goto out_free;
	}
	*out = &p->base;
	return 0;
out_free:
	proc_close(&p->base);
	return ret;
}
