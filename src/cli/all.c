// SPDX-License-Identifier: MIT
/*
 * --all: apply, revert or list on every process that qualifies.  Each
 * process is handled by a run of this same binary (`-p PID --json`), so
 * it stays all-or-none and one process's failure or crash touches no
 * other; a C patch is compiled once per build of the object (`build -p`
 * in the first process of that build) and the object applied to each.
 * Processes that start during the run are looked for again at its end;
 * one that exits is reported, not counted as a failure.
 */
#define _GNU_SOURCE
#include "all.h"
#include "json.h"
#include "../core/core.h"
#include "../elf/elf.h"
#include "../util/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum result { R_NONE, R_DONE, R_FAILED, R_OTHER, R_EXITED, R_ALREADY };
static const char *const result_name[] = { "none",        "done",   "failed",
					   "other-build", "exited", "already" };

struct proc {
	int pid;
	unsigned long long start; /* to tell it from a later one with its pid */
	char comm[64];
	char build[2 * OVUP_BUILD_ID_MAX + 1]; /* of the object it maps */
	enum result r;
	int code; /* its run's exit status */
	uint64_t pause_ns;
	char *why;  /* the reason it was not done, one line */
	char *json; /* list: its run's document */
};

struct all {
	const struct ovup_cmdline *c;
	char self[PATH_MAX];
	char *tmp;
	struct proc *p;
	size_t n;
	/* apply: what qualifies a process */
	const char *patch; /* the file given */
	char *name;        /* the patch's name in every process */
	int is_object;     /* a prebuilt object, else C */
	char want_path[PATH_MAX], want_id[2 * OVUP_BUILD_ID_MAX + 1];
	char want_base[256];          /* --object BUILD-ID: the file name of that build */
	struct ovup_info_result info; /* a prebuilt object's own record */
	/* files already read: "dev inode" -> build-id */
	char **fkeys, **fids;
	size_t nfiles;
};

static unsigned long long start_time(int pid)
{
	char path[64], *s, *p;
	unsigned long long t = 0;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = ovup_read_file(path, NULL);
	if (!s)
		return 0;
	p = strrchr(s, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(s);
	return t;
}

/* Still the process found, and not a zombie. */
static int same_process(const struct proc *p)
{
	char path[64], *s, *e;
	int alive;

	if (!p->start || start_time(p->pid) != p->start)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", p->pid);
	s = ovup_read_file(path, NULL);
	e = s ? strrchr(s, ')') : NULL;
	alive = e && e[1] == ' ' && e[2] != 'Z' && e[2] != 'X';
	free(s);
	return alive;
}

void ovup_mapped_build(int pid, const char *range, char *hex)
{
	struct ovup_elf_info info;
	char path[128];
	int fd;

	hex[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%s", pid, range);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !ovup_elf_info(fd, &info))
		ovup_hex(hex, info.build_id, info.build_id_len);
	if (fd >= 0)
		close(fd);
}

/* The build-id of the file mapped at range in pid, as hex ("" if it has
 * none), read once per file (device and inode). */
static const char *build_of(struct all *a, int pid, const char *range, const char *devino)
{
	char hex[2 * OVUP_BUILD_ID_MAX + 1];
	size_t i;

	for (i = 0; i < a->nfiles; i++)
		if (!strcmp(a->fkeys[i], devino))
			return a->fids[i];
	ovup_mapped_build(pid, range, hex);
	a->fkeys = ovup_xrealloc(a->fkeys, (a->nfiles + 1) * sizeof(*a->fkeys));
	a->fids = ovup_xrealloc(a->fids, (a->nfiles + 1) * sizeof(*a->fids));
	a->fkeys[a->nfiles] = ovup_xstrdup(devino);
	a->fids[a->nfiles] = ovup_xstrdup(hex);
	return a->fids[a->nfiles++];
}

/* One mapped file of a process: its path (without " (deleted)") and
 * build-id. */
struct mapped {
	char path[PATH_MAX];
	const char *build;
};

/* Every file pid maps, once each; NULL if its maps cannot be read. */
static struct mapped *maps_of(struct all *a, int pid, size_t *n)
{
	char path[64], *text, *line, *save = NULL;
	struct mapped *m = NULL;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	text = ovup_read_file(path, NULL);
	if (!text)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char range[64], dev[32], file[PATH_MAX], devino[64];
		unsigned long long ino;
		size_t i, len;

		file[0] = 0;
		if (sscanf(line, "%63s %*s %*s %31s %llu %4095[^\n]", range, dev, &ino, file) < 3 ||
		    file[0] != '/')
			continue;
		len = strlen(file);
		if (len > 10 && !strcmp(file + len - 10, " (deleted)"))
			file[len - 10] = 0;
		for (i = 0; i < *n && strcmp(m[i].path, file); i++)
			;
		if (i < *n)
			continue;
		snprintf(devino, sizeof(devino), "%s %llu", dev, ino);
		m = ovup_xrealloc(m, (*n + 1) * sizeof(*m));
		snprintf(m[*n].path, sizeof(m[*n].path), "%s", file);
		m[*n].build = build_of(a, pid, range, devino);
		(*n)++;
	}
	free(text);
	return m ? m : ovup_xcalloc(1, sizeof(*m));
}

static int is_build_id(const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return n >= 16 && n <= 2 * OVUP_BUILD_ID_MAX;
}

/* Whether a mapped file is the object wanted: by path, by build-id, or
 * (a prebuilt object) one it was built against, by path or file name. */
static int wanted_file(const char *path, const char *want)
{
	return !strcmp(path, want) || !strcmp(ovup_basename(path), ovup_basename(want));
}

/* apply: does p qualify, and with which build?  1 yes, 0 not at all,
 * -1 another build (why set). */
static int qualifies(struct all *a, struct proc *p, const struct mapped *m, size_t n)
{
	size_t i, k;

	if (a->is_object) {
		/* every object it was built against, with that build */
		for (k = 0; k < a->info.nobjs; k++) {
			const struct ovup_info_object *o = &a->info.objs[k];
			int seen = 0, other = -1;

			for (i = 0; i < n; i++) {
				if (!wanted_file(m[i].path, o->path))
					continue;
				if (!strcmp(m[i].build, o->build_id))
					seen = 1;
				else
					other = (int)i;
			}
			if (!seen && other < 0)
				return 0;
			if (!seen) {
				p->why = ovup_xasprintf("maps %s with build-id %s; the patch is for "
							"build-id %s",
							m[other].path, m[other].build, o->build_id);
				return -1;
			}
		}
		if (a->want_path[0] || a->want_id[0]) {
			for (i = 0; i < n; i++)
				if ((a->want_path[0] && !strcmp(m[i].path, a->want_path)) ||
				    (a->want_id[0] && !strcmp(m[i].build, a->want_id)))
					break;
			if (i == n)
				return 0;
		}
		return 1;
	}
	if (a->want_path[0]) {
		for (i = 0; i < n && strcmp(m[i].path, a->want_path); i++)
			;
		if (i == n)
			return 0;
		snprintf(p->build, sizeof(p->build), "%s", m[i].build);
		return 1;
	}
	for (i = 0; i < n && strcmp(m[i].build, a->want_id); i++)
		;
	if (i < n) {
		snprintf(p->build, sizeof(p->build), "%s", a->want_id);
		return 1;
	}
	/* the same program or library, another build of it */
	for (i = 0; a->want_base[0] && i < n; i++)
		if (!strcmp(ovup_basename(m[i].path), a->want_base)) {
			p->why = ovup_xasprintf("maps %s with build-id %s, not %s", m[i].path,
						m[i].build, a->want_id);
			return -1;
		}
	return 0;
}

/* --object BUILD-ID: the file name some process maps that build under. */
static void find_base(struct all *a)
{
	struct dirent *d;
	DIR *dh = opendir("/proc");

	while (dh && !a->want_base[0] && (d = readdir(dh))) {
		int pid = atoi(d->d_name);
		struct mapped *m;
		size_t n, i;

		if (pid <= 0 || !(m = maps_of(a, pid, &n)))
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(m[i].build, a->want_id))
				snprintf(a->want_base, sizeof(a->want_base), "%s",
					 ovup_basename(m[i].path));
		free(m);
	}
	if (dh)
		closedir(dh);
}

/* list and revert: a process with ovup's memory (of patch name, if given) */
static int has_patch(const char *pid_maps, const char *name)
{
	char want[128];

	if (!name)
		return strstr(pid_maps, "/memfd:ovup-patch:") ||
		       strstr(pid_maps, "/memfd:ovup-record");
	snprintf(want, sizeof(want), "/memfd:ovup-patch:%s ", name);
	return strstr(pid_maps, want) != NULL;
}

static int seen(const struct all *a, int pid, unsigned long long start)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->p[i].pid == pid && a->p[i].start == start)
			return 1;
	return 0;
}

/* The processes that qualify and are new since the last scan; their
 * number. */
static size_t scan(struct all *a)
{
	struct dirent *d;
	DIR *dh = opendir("/proc");
	size_t added = 0;
	char exe[PATH_MAX];

	if (!dh)
		return 0;
	while ((d = readdir(dh))) {
		int pid = atoi(d->d_name), q = 1;
		unsigned long long st;
		char path[64];
		ssize_t len;
		struct proc p = { 0 };

		if (pid <= 0 || pid == getpid())
			continue;
		/* never ovup itself: its runs here, or another one */
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		len = readlink(path, exe, sizeof(exe) - 1);
		if (len <= 0)
			continue; /* a kernel thread, or gone */
		exe[len] = 0;
		if (!strcmp(exe, a->self))
			continue;
		st = start_time(pid);
		if (!st || seen(a, pid, st))
			continue;
		p.pid = pid;
		p.start = st;
		if (strcmp(a->c->verb->name, "apply")) {
			char *maps;

			snprintf(path, sizeof(path), "/proc/%d/maps", pid);
			maps = ovup_read_file(path, NULL);
			q = maps &&
			    has_patch(maps,
				      strcmp(a->c->verb->name, "revert") ? NULL : a->c->args[0]);
			free(maps);
			/* revert --object: only the processes that map it */
			if (q && (a->want_path[0] || a->want_id[0])) {
				size_t nm, k;
				struct mapped *m = maps_of(a, pid, &nm);

				for (k = 0, q = 0; m && k < nm && !q; k++)
					q = (a->want_path[0] && !strcmp(m[k].path, a->want_path)) ||
					    (a->want_id[0] && !strcmp(m[k].build, a->want_id));
				free(m);
			}
		} else {
			size_t nm;
			struct mapped *m = maps_of(a, pid, &nm);
			char *maps;

			q = m ? qualifies(a, &p, m, nm) : 0;
			if (q < 0)
				p.r = R_OTHER;
			free(m);
			/* a patch of this name is there already: an apply would
			 * be refused; a second --all run changes nothing */
			snprintf(path, sizeof(path), "/proc/%d/maps", pid);
			maps = q > 0 ? ovup_read_file(path, NULL) : NULL;
			if (maps && has_patch(maps, a->name))
				p.r = R_ALREADY;
			free(maps);
		}
		if (!q) {
			free(p.why);
			continue;
		}
		ovup_comm(pid, p.comm, sizeof(p.comm));
		a->p = ovup_xrealloc(a->p, (a->n + 1) * sizeof(*a->p));
		a->p[a->n++] = p;
		added++;
	}
	closedir(dh);
	return added;
}

int ovup_run_self(char **argv, const char *dir, char **out, char **err)
{
	char self[PATH_MAX], *fo = NULL, *fe = NULL;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int st = 0, ret;
	pid_t pid;

	if (len <= 0)
		return 127;
	self[len] = 0;
	argv[0] = self;
	if (dir) {
		fo = ovup_xasprintf("%s/out", dir);
		fe = ovup_xasprintf("%s/err", dir);
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (dir) {
			int o = open(fo, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			int e = open(fe, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
				_exit(127);
		}
		execv(self, argv);
		_exit(127);
	}
	ret = pid < 0 ? -errno : 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (dir) {
		*out = ovup_read_file(fo, NULL);
		*err = ovup_read_file(fe, NULL);
		if (!*out)
			*out = ovup_xstrdup("");
		if (!*err)
			*err = ovup_xstrdup("");
	}
	free(fo);
	free(fe);
	if (ret)
		return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The line that says why: the last "ovup: " line of stderr (the error
 * comes last, after notes). */
static char *reason(const char *err)
{
	const char *line = err, *best = NULL, *p;
	char *s;

	for (p = err; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, "ovup: ", 6))
			best = p + 6;
		line = p;
	}
	if (!best)
		best = line && *line ? line : "no message";
	s = ovup_xstrdup(best);
	s[strcspn(s, "\n")] = 0;
	return s;
}

static uint64_t json_u64(const char *json, const char *key)
{
	char want[64];
	const char *p;

	snprintf(want, sizeof(want), "\"%s\":", key);
	p = strstr(json, want);
	return p ? strtoull(p + strlen(want), NULL, 10) : 0;
}

/* The arguments every run gets from this command line. */
static size_t common_args(struct all *a, char **argv, size_t n, char *pidbuf, const struct proc *p)
{
	static char retries[16];

	snprintf(pidbuf, 16, "%d", p->pid);
	argv[n++] = (char *)a->c->verb->name;
	argv[n++] = "-p";
	argv[n++] = pidbuf;
	argv[n++] = "--json";
	if (a->c->verbose)
		argv[n++] = "-v";
	if (strcmp(a->c->verb->name, "list")) {
		snprintf(retries, sizeof(retries), "%u", a->c->retries);
		argv[n++] = "--retries";
		argv[n++] = retries;
	}
	return n;
}

/* The object to apply to processes of p's build: compiled in p the first
 * time (`build -p`), kept in the scratch directory. */
static int object_for(struct all *a, struct proc *p, int again, char **obj)
{
	char pidbuf[16], *out, *err, *argv[64];
	size_t n = 0, i;
	int code;

	if (a->is_object) {
		*obj = ovup_xstrdup(a->patch);
		return 0;
	}
	if (again)
		*obj = ovup_xasprintf("%s/%s-%d.o", a->tmp, p->build[0] ? p->build : "nobuild",
				      p->pid);
	else
		*obj = ovup_xasprintf("%s/%s.o", a->tmp, p->build[0] ? p->build : "nobuild");
	if (!again && !access(*obj, R_OK))
		return 0;
	snprintf(pidbuf, sizeof(pidbuf), "%d", p->pid);
	argv[n++] = a->self;
	argv[n++] = "build";
	argv[n++] = "-p";
	argv[n++] = pidbuf;
	argv[n++] = "--name";
	argv[n++] = a->name;
	argv[n++] = "-o";
	argv[n++] = *obj;
	argv[n++] = (char *)a->patch;
	if (a->c->ncflags) {
		argv[n++] = "--";
		for (i = 0; i < a->c->ncflags && n < 62; i++)
			argv[n++] = a->c->cflags[i];
	}
	argv[n] = NULL;
	code = ovup_run_self(argv, a->tmp, &out, &err);
	if (code) {
		free(p->why);
		p->why = ovup_xasprintf("cannot build the patch for it: %s", reason(err));
		p->code = code;
		unlink(*obj);
	}
	free(out);
	free(err);
	return code;
}

/* One process's run: its result, pause and reason. */
static void handle(struct all *a, struct proc *p)
{
	char pidbuf[16], *out = NULL, *err = NULL, *argv[16], *obj = NULL;
	size_t n = 0;
	int code, again;

	if (p->r != R_NONE)
		return;
	argv[n++] = a->self;
	n = common_args(a, argv, n, pidbuf, p);
	if (!strcmp(a->c->verb->name, "apply")) {
		if (a->c->dry_run)
			argv[n++] = "--dry-run";
		argv[n++] = "--name";
		argv[n++] = a->name;
	} else if (!strcmp(a->c->verb->name, "revert")) {
		if (a->c->force)
			argv[n++] = "--force";
		if (a->c->nargs)
			argv[n++] = (char *)a->c->args[0];
	}
	for (again = 0; again < 2; again++) {
		size_t k = n;

		free(out);
		free(err);
		out = err = NULL;
		if (!strcmp(a->c->verb->name, "apply")) {
			free(obj);
			code = object_for(a, p, again, &obj);
			if (code) {
				p->r = same_process(p) ? R_FAILED : R_EXITED;
				break;
			}
			argv[k++] = obj;
		}
		argv[k] = NULL;
		code = ovup_run_self(argv, a->tmp, &out, &err);
		p->code = code;
		if (!code) {
			p->r = R_DONE;
			p->pause_ns = json_u64(out, "pause");
			if (!strcmp(a->c->verb->name, "list"))
				p->json = ovup_xstrdup(out);
			break;
		}
		if (!same_process(p)) {
			p->r = R_EXITED;
			break;
		}
		free(p->why);
		p->why = reason(err);
		p->r = R_FAILED;
		/* a C patch built in another process whose libraries are
		 * another build: built again in this one */
		if (a->is_object || again || !strstr(p->why, "rebuild the patch"))
			break;
	}
	free(obj);
	free(out);
	free(err);
}

static int count(const struct all *a, enum result r)
{
	int k = 0;
	size_t i;

	for (i = 0; i < a->n; i++)
		k += a->p[i].r == r;
	return k;
}

static const char *done_word(const struct all *a)
{
	return !strcmp(a->c->verb->name, "revert") ? "reverted"
	       : a->c->dry_run                     ? "planned"
						   : "applied";
}

static void print_text(const struct all *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		const struct proc *p = &a->p[i];

		printf("%7d %-15s ", p->pid, p->comm);
		switch (p->r) {
		case R_DONE:
			printf("%s (pause %" PRIu64 " us)\n", done_word(a), p->pause_ns / 1000);
			break;
		case R_OTHER:
			printf("another build, not touched: %s\n", p->why);
			break;
		case R_EXITED:
			printf("exited during the run\n");
			break;
		case R_ALREADY:
			printf("already applied (patch '%s')\n", a->name);
			break;
		default:
			printf("not %s (exit %d): %s\n", done_word(a), p->code,
			       p->why ? p->why : "?");
		}
	}
	printf("%zu process%s: %d %s, %d failed, %d another build, %d exited", a->n,
	       a->n == 1 ? "" : "es", count(a, R_DONE), done_word(a), count(a, R_FAILED),
	       count(a, R_OTHER), count(a, R_EXITED));
	if (count(a, R_ALREADY))
		printf(", %d already applied", count(a, R_ALREADY));
	printf("\n");
}

static void print_json(const struct all *a, int code)
{
	struct ovup_json j;
	size_t i;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "verb", a->c->verb->name);
	ovup_json_bool(&j, "all", 1);
	ovup_json_str(&j, "patch", a->name);
	ovup_json_array(&j, "processes");
	for (i = 0; i < a->n; i++) {
		const struct proc *p = &a->p[i];

		ovup_json_object(&j, NULL);
		ovup_json_i64(&j, "pid", p->pid);
		ovup_json_str(&j, "comm", p->comm);
		ovup_json_str(&j, "result", p->r == R_DONE ? done_word(a) : result_name[p->r]);
		ovup_json_i64(&j, "exit", p->code);
		ovup_json_u64(&j, "pause_ns", p->pause_ns);
		ovup_json_str(&j, "build_id", p->build[0] ? p->build : NULL);
		ovup_json_str(&j, "error", p->r == R_DONE ? NULL : p->why);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	ovup_json_object(&j, "summary");
	ovup_json_i64(&j, done_word(a), count(a, R_DONE));
	ovup_json_i64(&j, "failed", count(a, R_FAILED));
	ovup_json_i64(&j, "other_build", count(a, R_OTHER));
	ovup_json_i64(&j, "exited", count(a, R_EXITED));
	ovup_json_i64(&j, "already", count(a, R_ALREADY));
	ovup_json_end(&j);
	ovup_json_i64(&j, "exit", code);
	ovup_json_end(&j);
}

/* list: every process with patches, and the kernel's. */
static int list_all(struct all *a)
{
	char *kout = NULL, *kerr = NULL, *argv[6];
	struct ovup_json j;
	size_t i;
	int kcode = -1;

	for (i = 0; i < a->n; i++)
		handle(a, &a->p[i]);
	if (!access("/dev/ovup", F_OK)) {
		argv[0] = a->self;
		argv[1] = "list";
		argv[2] = "-k";
		argv[3] = a->c->json ? "--json" : NULL;
		argv[4] = NULL;
		kcode = ovup_run_self(argv, a->tmp, &kout, &kerr);
	}
	if (a->c->json) {
		ovup_json_init(&j, stdout);
		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "verb", "list");
		ovup_json_bool(&j, "all", 1);
		ovup_json_array(&j, "processes");
		for (i = 0; i < a->n; i++) {
			ovup_json_object(&j, NULL);
			ovup_json_i64(&j, "pid", a->p[i].pid);
			ovup_json_str(&j, "comm", a->p[i].comm);
			if (a->p[i].r == R_DONE)
				ovup_json_raw(&j, "list", a->p[i].json);
			else
				ovup_json_str(&j, "error",
					      a->p[i].r == R_EXITED ? "exited" : a->p[i].why);
			ovup_json_end(&j);
		}
		ovup_json_end(&j);
		if (!kcode)
			ovup_json_raw(&j, "kernel", kout);
		else
			ovup_json_null(&j, "kernel");
		ovup_json_end(&j);
	} else {
		for (i = 0; i < a->n; i++) {
			const struct proc *p = &a->p[i];
			char *txt = NULL, *err = NULL, pidbuf[16];
			char *argv2[] = { a->self, "list", "-p", pidbuf, NULL };

			if (p->r != R_DONE)
				continue;
			snprintf(pidbuf, sizeof(pidbuf), "%d", p->pid);
			if (!ovup_run_self(argv2, a->tmp, &txt, &err))
				printf("pid %d (%s): %s", p->pid, p->comm, txt);
			free(txt);
			free(err);
		}
		if (!kcode)
			printf("%s", kout);
		if (!a->n && kcode)
			printf("no process has a patch applied by ovup%s\n",
			       access("/dev/ovup", F_OK) ? " (and ovup.ko is not loaded)" : "");
	}
	free(kout);
	free(kerr);
	return OVUP_EXIT_OK;
}

/* --object: a build-id, or the path of a file processes map. */
static int want_object(struct all *a)
{
	const char *o = a->c->object;

	if (!o)
		return 0;
	if (is_build_id(o)) {
		snprintf(a->want_id, sizeof(a->want_id), "%s", o);
		return 0;
	}
	if (realpath(o, a->want_path))
		return 0;
	fprintf(stderr,
		"ovup: --object %s: %s; give the path of the program or library the patch is "
		"for, or its build-id\n",
		o, strerror(errno));
	return -1;
}

/* What qualifies a process for apply: the patch's own record (a prebuilt
 * object), --object as a path or a build-id.  0, or an exit code. */
static int prepare_apply(struct all *a)
{
	const struct ovup_cmdline *c = a->c;
	char head[4] = { 0 }, *dot;
	FILE *f;

	a->patch = c->args[0];
	f = fopen(a->patch, "r");
	if (!f) {
		fprintf(stderr, "ovup: %s: %s; give the path of a patch file\n", a->patch,
			strerror(errno));
		return OVUP_EXIT_FAIL;
	}
	a->is_object = fread(head, 1, 4, f) == 4 && !memcmp(head, "\177ELF", 4);
	fclose(f);
	a->name = ovup_xstrdup(c->name ? c->name : ovup_basename(a->patch));
	dot = c->name ? NULL : strrchr(a->name, '.');
	if (dot && dot != a->name)
		*dot = 0;
	if (want_object(a))
		return OVUP_EXIT_FAIL;
	if (a->is_object) {
		if (ovup_info_read(a->patch, &a->info)) {
			fprintf(stderr, "ovup: %s\n", ovup_err_msg());
			return OVUP_EXIT_FAIL;
		}
		if (!a->info.nobjs) {
			fprintf(stderr,
				"ovup: %s: records no program or library it was built for; build "
				"it with 'ovup build -p PID' or '--object FILE'\n",
				a->patch);
			return OVUP_EXIT_FAIL;
		}
	} else if (!c->object) {
		fprintf(stderr,
			"ovup: apply --all %s: a C patch needs --object PATH or BUILD-ID, the "
			"program or library whose processes it is for\n",
			a->patch);
		return OVUP_EXIT_USAGE;
	}
	return 0;
}

int ovup_run_all(const struct ovup_cmdline *c)
{
	struct all a = { .c = c };
	ssize_t len = readlink("/proc/self/exe", a.self, sizeof(a.self) - 1);
	int code = 0, pass;
	size_t i;

	if (len <= 0) {
		fprintf(stderr, "ovup: cannot read /proc/self/exe: %s\n", strerror(errno));
		return OVUP_EXIT_FAIL;
	}
	a.self[len] = 0;
	if (!strcmp(c->verb->name, "apply") && (code = prepare_apply(&a)))
		goto out;
	if (strcmp(c->verb->name, "apply") && want_object(&a)) {
		code = OVUP_EXIT_FAIL;
		goto out;
	}
	a.tmp = ovup_tmpdir_named("ovup-all");
	if (!a.tmp) {
		fprintf(stderr, "ovup: cannot create a temporary directory: %s\n", strerror(errno));
		code = OVUP_EXIT_FAIL;
		goto out;
	}
	if (a.want_id[0])
		find_base(&a);
	scan(&a);
	if (!strcmp(c->verb->name, "list")) {
		code = list_all(&a);
		goto out;
	}
	/* those that started meanwhile, until none does (a few passes) */
	for (pass = 0; pass < 4; pass++) {
		for (i = 0; i < a.n && !ovup_signalled; i++) {
			/* tests: the process exits just before its run */
			if (ovup_fault_n("all-kill", i + 1))
				kill(a.p[i].pid, SIGKILL), usleep(100000);
			handle(&a, &a.p[i]);
		}
		/* tests: a process started now must be found by the next pass */
		if (!pass && ovup_fault("all-sync"))
			ovup_test_sync();
		if (ovup_signalled || !scan(&a))
			break;
	}
	for (i = 0; i < a.n; i++)
		if (a.p[i].r == R_NONE) {
			a.p[i].r = R_FAILED;
			a.p[i].why = ovup_xstrdup("not tried: ovup was interrupted");
		}
	code = OVUP_EXIT_OK;
	for (i = 0; i < a.n; i++) {
		if (a.p[i].code == OVUP_EXIT_INCONSISTENT)
			code = OVUP_EXIT_INCONSISTENT;
		else if ((a.p[i].r == R_FAILED || a.p[i].r == R_OTHER) &&
			 code != OVUP_EXIT_INCONSISTENT)
			code = OVUP_EXIT_SOME;
	}
	if (!count(&a, R_DONE) && !count(&a, R_ALREADY) && code == OVUP_EXIT_OK) {
		fprintf(stderr, "ovup: %s --all: no process %s\n", c->verb->name,
			!strcmp(c->verb->name, "apply")
				? "maps what the patch is for (with that build)"
				: "has that patch applied");
		code = count(&a, R_EXITED) ? OVUP_EXIT_OK : OVUP_EXIT_FAIL;
	}
	if (c->json)
		print_json(&a, code);
	else
		print_text(&a);
out:
	for (i = 0; i < a.n; i++) {
		free(a.p[i].why);
		free(a.p[i].json);
	}
	for (i = 0; i < a.nfiles; i++) {
		free(a.fkeys[i]);
		free(a.fids[i]);
	}
	free(a.fkeys);
	free(a.fids);
	free(a.p);
	free(a.name);
	if (a.is_object)
		ovup_info_result_free(&a.info);
	if (a.tmp) {
		ovup_tmpdir_remove(a.tmp);
		free(a.tmp);
	}
	return code;
}
