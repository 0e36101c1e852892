// SPDX-License-Identifier: MIT
/*
 * Patches that come back: `install` keeps an object from `build` in
 * ovup's library ($OVUP_LIB_DIR, default /var/lib/ovup), under what it was
 * built for (kernel/RELEASE/, or process/BUILD-ID/ of the first object it
 * records); `uninstall` removes it; `apply --installed` applies those
 * built for the running kernel (-k: what the boot service runs) or for
 * the running processes (--all); `watch` applies them to each process
 * that starts later, from the kernel's process connector.
 */
#define _GNU_SOURCE
#include "installed.h"
#include "all.h"
#include "../core/core.h"
#include "../elf/elf.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *lib_dir(void)
{
	const char *d = getenv("OVUP_LIB_DIR");

	return d && *d ? d : "/var/lib/ovup";
}

static int mkdirs(const char *path)
{
	char *d = ovup_xstrdup(path), *s;
	int ret = 0;

	for (s = d + 1; (s = strchr(s, '/')); *s++ = '/') {
		*s = 0;
		mkdir(d, 0755);
	}
	if (mkdir(d, 0700) < 0 && errno != EEXIST)
		ret = -errno;
	free(d);
	return ret;
}

/* One installed patch. */
struct inst {
	char *path; /* the object in the library */
	char *name; /* its file name without .o */
	struct ovup_info_result info;
	int kernel;
};

static int inst_cmp(const void *a, const void *b)
{
	const struct inst *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Every object under dir/kind/KEY/, in the order of their names. */
static struct inst *read_lib(const char *kind, size_t *n)
{
	char *top = ovup_xasprintf("%s/%s", lib_dir(), kind);
	struct inst *v = NULL;
	struct dirent *k, *f;
	DIR *dk = opendir(top), *df;

	*n = 0;
	while (dk && (k = readdir(dk))) {
		char *sub;

		if (k->d_name[0] == '.')
			continue;
		sub = ovup_xasprintf("%s/%s", top, k->d_name);
		df = opendir(sub);
		while (df && (f = readdir(df))) {
			size_t len = strlen(f->d_name);
			struct inst *in;

			if (len < 3 || strcmp(f->d_name + len - 2, ".o"))
				continue;
			v = ovup_xrealloc(v, (*n + 1) * sizeof(*v));
			in = &v[(*n)++];
			memset(in, 0, sizeof(*in));
			in->path = ovup_xasprintf("%s/%s", sub, f->d_name);
			in->name = ovup_xstrdup(f->d_name);
			in->name[len - 2] = 0;
			in->kernel = !strcmp(kind, "kernel");
			if (ovup_info_read(in->path, &in->info))
				ovup_err_clear(); /* reported when used */
		}
		if (df)
			closedir(df);
		free(sub);
	}
	if (dk)
		closedir(dk);
	free(top);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), inst_cmp);
	return v;
}

static void free_lib(struct inst *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].name);
		ovup_info_result_free(&v[i].info);
	}
	free(v);
}

int ovup_run_install(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_info_result r;
	char *dir, *dst, *name, *dot, *data;
	size_t len;
	int ret;

	(void)t;
	ret = ovup_info_read(c->args[0], &r);
	if (ret)
		return ret;
	if (!r.kernel_release && !r.nobjs) {
		ovup_info_result_free(&r);
		return ovup_err(-EINVAL,
				"%s: records nothing it was built for; build it with 'ovup build' "
				"(-p PID, --object FILE or -k)",
				c->args[0]);
	}
	name = ovup_xstrdup(c->name ? c->name : r.patch ? r.patch : ovup_basename(c->args[0]));
	dot = strrchr(name, '.');
	if (!c->name && dot && !strcmp(dot, ".o"))
		*dot = 0;
	if (r.kernel_release)
		dir = ovup_xasprintf("%s/kernel/%s", lib_dir(), r.kernel_release);
	else
		dir = ovup_xasprintf("%s/process/%s", lib_dir(), r.objs[0].build_id);
	dst = ovup_xasprintf("%s/%s.o", dir, name);
	data = ovup_read_file(c->args[0], &len);
	ret = mkdirs(dir);
	if (!ret && !data)
		ret = -errno;
	if (!ret)
		ret = ovup_write_file_atomic(dst, data, len);
	if (ret)
		ret = ovup_err(ret, "cannot install %s as %s: %s", c->args[0], dst, strerror(-ret));
	else
		printf("installed '%s' for %s%s: %s\n", name, r.kernel_release ? "kernel " : "",
		       r.kernel_release ? r.kernel_release : r.objs[0].path, dst);
	free(data);
	free(dst);
	free(dir);
	free(name);
	ovup_info_result_free(&r);
	return ret;
}

int ovup_run_uninstall(struct ovup_target *t, const struct ovup_cmdline *c)
{
	const char *kinds[] = { "kernel", "process" };
	size_t n, i, k, gone = 0;

	(void)t;
	for (k = 0; k < 2; k++) {
		struct inst *v = read_lib(kinds[k], &n);

		for (i = 0; i < n; i++)
			if (!strcmp(v[i].name, c->args[0]) && !unlink(v[i].path)) {
				printf("uninstalled '%s': %s\n", v[i].name, v[i].path);
				gone++;
			}
		free_lib(v, n);
	}
	if (!gone)
		return ovup_err(-ENOENT,
				"no installed patch '%s' in %s; 'ls -R %s' shows what is installed",
				c->args[0], lib_dir(), lib_dir());
	return 0;
}

/* apply --installed -k: each kernel patch installed for this kernel, in
 * the order of their names; those for another kernel are named, never
 * applied. */
static int apply_kernel(const struct ovup_cmdline *c)
{
	struct utsname u;
	size_t n, i, applied = 0, skipped = 0, failed = 0;
	struct inst *v = read_lib("kernel", &n);
	int code = OVUP_EXIT_OK;

	uname(&u);
	for (i = 0; i < n; i++) {
		char *argv[8] = { NULL, "apply", "-k", "--name", v[i].name, NULL, NULL, NULL };
		const struct ovup_info_result *r = &v[i].info;
		int k = 5, st;

		if (!r->kernel_release || strcmp(r->kernel_release, u.release) ||
		    (r->kernel_version && strcmp(r->kernel_version, u.version))) {
			printf("%s: skipped: built for kernel %s, this is %s\n", v[i].name,
			       r->kernel_release ? r->kernel_release : "(unknown)", u.release);
			skipped++;
			continue;
		}
		if (c->dry_run)
			argv[k++] = "--dry-run";
		argv[k++] = v[i].path;
		st = ovup_run_self(argv, NULL, NULL, NULL);
		if (st) {
			failed++;
			code = st == OVUP_EXIT_INCONSISTENT ? st : OVUP_EXIT_SOME;
		} else {
			applied++;
		}
	}
	printf("%zu installed kernel patch%s: %zu applied, %zu failed, %zu for another kernel\n", n,
	       n == 1 ? "" : "es", applied, failed, skipped);
	free_lib(v, n);
	return code;
}

/* apply --installed --all: each process patch to every process running
 * the builds it records. */
static int apply_processes(const struct ovup_cmdline *c)
{
	size_t n, i;
	struct inst *v = read_lib("process", &n);
	int code = OVUP_EXIT_OK;

	for (i = 0; i < n; i++) {
		char *argv[8] = { NULL, "apply", "--all", "--name", v[i].name, NULL, NULL, NULL };
		int k = 5, st;

		if (c->dry_run)
			argv[k++] = "--dry-run";
		argv[k++] = v[i].path;
		printf("%s:\n", v[i].name);
		st = ovup_run_self(argv, NULL, NULL, NULL);
		/* no process of that build running is no failure here */
		if (st && st != OVUP_EXIT_FAIL)
			code = st == OVUP_EXIT_INCONSISTENT ? st : OVUP_EXIT_SOME;
	}
	if (!n)
		printf("no process patch is installed in %s/process\n", lib_dir());
	free_lib(v, n);
	return code;
}

int ovup_run_installed(const struct ovup_cmdline *c)
{
	return c->kernel ? apply_kernel(c) : apply_processes(c);
}

/* ---- watch ---- */

struct pending {
	int pid;
	uint64_t exec_ns, deadline;
	size_t next;      /* the installed patch it is being matched against */
	uint64_t maps;    /* a hash of its maps when last looked at */
	uint64_t settled; /* since when they have not changed */
};

/* The dynamic loader maps a program's libraries after its exec, and a
 * patch's symbols are resolved in them: a process is patched once its
 * maps have not changed for this long. */
#define SETTLE_NS 15000000ull

static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Does pid map every object patch in was built against, with its build?
 * 1 yes, 0 not (yet), -1 one of them is another build. */
static int maps_builds(int pid, const struct inst *in, char *why, size_t len)
{
	char path[64], *maps;
	size_t k;
	int ret = 1;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = ovup_read_file(path, NULL);
	if (!maps)
		return 0;
	for (k = 0; k < in->info.nobjs && ret == 1; k++) {
		const char *want = in->info.objs[k].path, *p;
		char range[64] = "", hex[2 * OVUP_BUILD_ID_MAX + 1] = "";

		/* the same path, else the same file name */
		p = strstr(maps, want);
		if (!p) {
			p = strstr(maps, ovup_basename(want));
			while (p && p[-1] != '/')
				p = strstr(p + 1, ovup_basename(want));
		}
		if (!p) {
			ret = 0;
			break;
		}
		while (p > maps && p[-1] != '\n')
			p--;
		sscanf(p, "%63s", range);
		ovup_mapped_build(pid, range, hex);
		if (strcmp(hex, in->info.objs[k].build_id)) {
			snprintf(why, len, "maps %s with build-id %s; '%s' is for %s", want,
				 hex[0] ? hex : "(none)", in->name, in->info.objs[k].build_id);
			ret = -1;
		}
	}
	free(maps);
	return ret;
}

/* Tries pending entry e against the installed patches: 1 when it is done
 * with (applied, refused, another build, gone), 0 to look again. */
static int try_pending(struct pending *e, const struct inst *v, size_t n, uint64_t now)
{
	char why[512] = "", comm[64], pidbuf[16];

	char exe[PATH_MAX], self[PATH_MAX];
	ssize_t a, b;

	if (kill(e->pid, 0) < 0)
		return 1;
	/* never ovup itself: the runs watch starts are execs too */
	snprintf(why, sizeof(why), "/proc/%d/exe", e->pid);
	a = readlink(why, exe, sizeof(exe) - 1);
	b = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (a > 0 && b > 0 && a == b && !memcmp(exe, self, (size_t)a))
		return 1;
	/* until the loader is done */
	snprintf(why, sizeof(why), "/proc/%d/maps", e->pid);
	{
		char *maps = ovup_read_file(why, NULL);
		uint64_t h = text_hash(maps);

		free(maps);
		if (h != e->maps) {
			e->maps = h;
			e->settled = now;
		}
		if (now - e->settled < SETTLE_NS && now < e->deadline)
			return 0;
	}
	why[0] = 0;
	for (; e->next < n; e->next++) {
		const struct inst *in = &v[e->next];
		char *argv[10] = { NULL, "apply", "-q", "-p", pidbuf, "--name", in->name, NULL };
		int m = in->info.nobjs ? maps_builds(e->pid, in, why, sizeof(why)) : -1, st;

		if (m == 0 && now < e->deadline)
			return 0; /* the loader may not have mapped it yet */
		ovup_comm(e->pid, comm, sizeof(comm));
		if (m < 0 && in->info.nobjs) {
			printf("pid %d (%s): '%s' skipped: %s\n", e->pid, comm, in->name, why);
			continue;
		}
		if (m <= 0)
			continue;
		snprintf(pidbuf, sizeof(pidbuf), "%d", e->pid);
		argv[7] = in->path;
		st = ovup_run_self(argv, NULL, NULL, NULL);
		if (!st)
			printf("pid %d (%s): applied '%s', %.1f ms after its exec\n", e->pid, comm,
			       in->name, (double)(mono_ns() - e->exec_ns) / 1e6);
		else
			printf("pid %d (%s): '%s' not applied (exit %d; the reason is above)\n",
			       e->pid, comm, in->name, st);
		fflush(stdout);
	}
	return 1;
}

static int connector(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	struct {
		struct nlmsghdr h;
		struct cn_msg c;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) m;
	int s = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);

	if (s < 0)
		return -errno;
	sa.nl_pid = (uint32_t)getpid();
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(s);
		return -e;
	}
	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = sizeof(m);
	m.h.nlmsg_type = NLMSG_DONE;
	m.h.nlmsg_pid = (uint32_t)getpid();
	m.c.id.idx = CN_IDX_PROC;
	m.c.id.val = CN_VAL_PROC;
	m.c.len = sizeof(m.op);
	m.op = PROC_CN_MCAST_LISTEN;
	if (send(s, &m, sizeof(m), 0) < 0) {
		int e = errno;

		close(s);
		return -e;
	}
	return s;
}

int ovup_run_watch(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct pending *pend = NULL;
	size_t npend = 0, n = 0, i;
	struct inst *v = NULL;
	int s, ret = 0;

	(void)t;
	ovup_signals_init();              /* SIGINT, SIGTERM: stop between two processes */
	setvbuf(stdout, NULL, _IOLBF, 0); /* a log: each line as it comes */
	s = connector();
	if (s < 0)
		return ovup_err(s,
				"watch: cannot listen to the kernel's process events (netlink "
				"connector): %s; run it as root",
				strerror(-s));
	/* tests: a receive buffer a burst of execs overflows */
	if (ovup_fault("watch-small-buffer")) {
		int one = 1;

		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	}
	printf("watching for new processes; installed process patches in %s/process\n", lib_dir());
	/* the processes already running first */
	ret = apply_processes(c);
	(void)ret;
	fflush(stdout);
	while (!ovup_signalled) {
		struct pollfd pf = { .fd = s, .events = POLLIN };
		char buf[8192];
		uint64_t now;
		int r = poll(&pf, 1, npend ? 2 : 1000);

		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			ssize_t got = recv(s, buf, sizeof(buf), 0);
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			/* a burst of execs the socket could not hold: which
			 * processes started is lost, so every one is looked at */
			if (got < 0 && errno == ENOBUFS) {
				printf("watch: the kernel dropped process events (a burst of execs); "
				       "looking at every process again\n");
				apply_processes(c);
				continue;
			}

			for (; got > 0 && NLMSG_OK(h, (size_t)got); h = NLMSG_NEXT(h, got)) {
				struct cn_msg *cm = NLMSG_DATA(h);
				struct proc_event *e = (struct proc_event *)cm->data;

				if (e->what != PROC_EVENT_EXEC ||
				    e->event_data.exec.process_pid !=
					    e->event_data.exec.process_tgid)
					continue;
				pend = ovup_xrealloc(pend, (npend + 1) * sizeof(*pend));
				pend[npend].pid = e->event_data.exec.process_pid;
				pend[npend].exec_ns = e->timestamp_ns;
				pend[npend].deadline = mono_ns() + 1000000000ull;
				pend[npend].next = 0;
				pend[npend].maps = 0;
				pend[npend].settled = mono_ns();
				npend++;
			}
		}
		if (!npend)
			continue;
		/* the library as it is now: an install or uninstall counts at
		 * the next exec */
		free_lib(v, n);
		v = read_lib("process", &n);
		now = mono_ns();
		for (i = 0; i < npend;)
			if (try_pending(&pend[i], v, n, now))
				pend[i] = pend[--npend];
			else
				i++;
	}
	printf("watch: stopped\n");
	free_lib(v, n);
	free(pend);
	close(s);
	return 0;
}
