// SPDX-License-Identifier: MIT
/*
 * What ftrace and kprobes say about a kernel function, read from tracefs
 * (available_filter_functions) and debugfs (kprobes/list).  When they are
 * not mounted, ovup mounts them in a mount namespace of its own, so the
 * system's mounts stay as they were.
 */
#define _GNU_SOURCE
#include "kfiles.h"
#include "kernel.h"
#include "../../model/symcache.h"
#include "../../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int private_ns; /* this process has its own mount namespace */

/* A private mount namespace (once): mounts made in it are this process's
 * only and vanish with it. */
static int enter_private_ns(void)
{
	if (private_ns)
		return 0;
	if (unshare(CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	private_ns = 1;
	return 0;
}

/* path (a file under a tracefs or debugfs mount), mounting fstype at dir
 * privately when it is missing. */
static int need_fs(const char *path, const char *dir, const char *fstype)
{
	int ret;

	if (!access(path, R_OK))
		return 0;
	ret = enter_private_ns();
	if (ret)
		return ovup_err(ret,
				"kernel: %s is missing and ovup cannot mount %s in a mount "
				"namespace of its own (%s); mount it: 'mount -t %s none %s'",
				path, fstype, strerror(-ret), fstype, dir);
	if (mount(fstype, dir, fstype, 0, NULL) && errno != EBUSY)
		return ovup_err(-errno, "kernel: cannot mount %s at %s: %m; ovup needs %s", fstype,
				dir, path);
	if (access(path, R_OK))
		return ovup_err(-errno, "kernel: %s: %m (a kernel without %s?)", path,
				strcmp(fstype, "tracefs") ? "CONFIG_KPROBES"
							  : "CONFIG_FUNCTION_TRACER");
	return 0;
}

static const char *tracefs_file(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "/sys/kernel/tracing/%s", name);
	if (access(buf, R_OK)) {
		char alt[256];

		/* an older habit: tracefs under debugfs */
		snprintf(alt, sizeof(alt), "/sys/kernel/debug/tracing/%s", name);
		if (!access(alt, R_OK))
			snprintf(buf, len, "%s", alt);
	}
	return buf;
}

/* ---- ftrace ---- */

static char *ftrace_list; /* available_filter_functions, read once */

/* The list as this boot last read it (kcache.c): the key on the first
 * line, then the list.  NULL if there is none of this key. */
static char *cached_list(char **file)
{
	const char *key = ovup_kcache_key(), *dir = ovup_symcache_dir();
	char *name = ovup_kcache_name("ftrace"), *text, *nl;

	*file = NULL;
	if (!name)
		return NULL;
	*file = ovup_xasprintf("%s/%s", dir, name);
	free(name);
	text = ovup_read_file(*file, NULL);
	if (!text || !(nl = strchr(text, '\n')) || (*nl = 0, strcmp(text, key))) {
		free(text);
		return NULL;
	}
	memmove(text, nl + 1, strlen(nl + 1) + 1);
	return text;
}

static int load_ftrace_list(void)
{
	char path[256], *file;
	int ret;

	if (ftrace_list)
		return 0;
	/* the kernel makes each line with a kallsyms lookup: read once a
	 * boot (and module list) */
	ftrace_list = cached_list(&file);
	if (ftrace_list) {
		free(file);
		return 0;
	}
	tracefs_file("available_filter_functions", path, sizeof(path));
	if (access(path, R_OK)) {
		snprintf(path, sizeof(path), "/sys/kernel/tracing/available_filter_functions");
		ret = need_fs(path, "/sys/kernel/tracing", "tracefs");
		if (ret)
			return ret;
	}
	ftrace_list = ovup_read_file(path, NULL);
	if (!ftrace_list) {
		free(file);
		return ovup_err(-errno, "kernel: cannot read %s: %m", path);
	}
	if (file) {
		struct ovup_buf b = { 0 };

		ovup_buf_printf(&b, "%s\n%s", ovup_kcache_key(), ftrace_list);
		if (ovup_write_file_atomic(file, b.s, b.len))
			ovup_info("kernel: cannot keep ftrace's list in %s", file);
		ovup_buf_free(&b);
		free(file);
	}
	return 0;
}

/* Lines "name" (vmlinux) or "name [module]" naming s. */
static unsigned count_listed(const char *name, const char *mod)
{
	size_t nl = strlen(name), ml = strlen(mod);
	unsigned n = 0;
	const char *p;

	for (p = ftrace_list; (p = strstr(p, name)); p += nl) {
		const char *e = p + nl;

		if (p != ftrace_list && p[-1] != '\n')
			continue;
		if (!strcmp(mod, "vmlinux") ? (*e == '\n' || !*e)
					    : (*e == ' ' && e[1] == '[' &&
					       !strncmp(e + 2, mod, ml) && e[2 + ml] == ']'))
			n++;
	}
	return n;
}

int ovup_kftrace_site(const struct ovup_symtab *st, const struct ovup_sym *s, char *why, size_t len)
{
	const char *mod = st->objs[s->obj].name;
	size_t first, n, i;
	unsigned listed, named = 0;
	int ret = load_ftrace_list();

	if (ret)
		return ret;
	listed = count_listed(s->name, mod);
	ovup_symtab_lookup(st, s->name, &first, &n);
	for (i = first; i < first + n; i++)
		named += st->syms[i].obj == s->obj && st->syms[i].type == OVUP_SYM_FUNC;
	if (!listed) {
		snprintf(why, len, "ftrace does not list it in available_filter_functions");
		return 0;
	}
	/* the list has names only (6.1 has no _addrs variant): with static
	 * functions of one name, it must list every one of them, or ovup
	 * cannot tell which ones are sites */
	if (listed < named) {
		snprintf(why, len,
			 "ftrace lists %u of the %u functions called '%s' in %s, by name "
			 "only, so ovup cannot tell whether this one is a site",
			 listed, named, s->name, mod);
		return 0;
	}
	return 1;
}

/* ---- kprobes ---- */

/* "ffffffffaec105a6  k  cmdline_proc_show+0x6    [DISABLED][OPTIMIZED]" */
static int parse_probe(char *line, struct ovup_kprobe *k)
{
	char type[8], where[160], rest[160] = "";
	char *br;

	memset(k, 0, sizeof(*k));
	if (sscanf(line, "%" SCNx64 " %7s %159s", &k->addr, type, where) != 3)
		return 0;
	snprintf(k->where, sizeof(k->where), "%s", where);
	br = strchr(line, '[');
	/* "[module]" may come before the flags */
	while (br && !strstr(br, "DISABLED") && !strstr(br, "OPTIMIZED") && !strstr(br, "FTRACE") &&
	       !strstr(br, "GONE"))
		br = strchr(br + 1, '[');
	if (br)
		snprintf(rest, sizeof(rest), "%s", br);
	rest[strcspn(rest, "\n")] = 0;
	snprintf(k->flags, sizeof(k->flags), "%s", rest);
	k->optimized = strstr(rest, "[OPTIMIZED]") != NULL;
	/* address 0: kptr_restrict hides it from this user */
	return k->addr ? 1 : -1;
}

int ovup_kprobes_in(uint64_t lo, uint64_t hi, struct ovup_kprobe *out, size_t max)
{
	const char *path = "/sys/kernel/debug/kprobes/list";
	char *text, *line, *save = NULL;
	int ret = need_fs(path, "/sys/kernel/debug", "debugfs"), n = 0;

	if (ret)
		return ret;
	text = ovup_read_file(path, NULL);
	if (!text)
		return ovup_err(-errno, "kernel: cannot read %s: %m", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ovup_kprobe k;
		/* an optimized probe is a 5-byte jump from its address */
		uint64_t end;
		int r = parse_probe(line, &k);

		if (r < 0) {
			free(text);
			return ovup_err(-EACCES,
					"kernel: %s shows the probes' addresses as 0 "
					"(kernel.kptr_restrict); run ovup as root with "
					"'sysctl kernel.kptr_restrict=1' or 0",
					path);
		}
		if (!r)
			continue;
		end = k.addr + (k.optimized ? 5 : 1);
		if (k.addr >= hi || end <= lo)
			continue;
		if ((size_t)n < max)
			out[n] = k;
		n++;
	}
	free(text);
	return n;
}
