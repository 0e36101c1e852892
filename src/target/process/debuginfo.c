// SPDX-License-Identifier: MIT
/*
 * The separate debug file of an object without .symtab, found the ways a
 * distribution provides it: by build-id under the debug directory
 * ($OVUP_DEBUG_ROOT, else /usr/lib/debug), by .gnu_debuglink, and else
 * from the debuginfod servers of $DEBUGINFOD_URLS (libdebuginfod, with
 * its cache as the user set it up).  A file is used only if it is ELF,
 * has a .symtab and the object's build-id: another build's symbols would
 * give wrong addresses.
 */
#define _GNU_SOURCE
#include "process.h"
#include "../../elf/elf.h"

#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libdebuginfod waits 90 s for a server that accepted and sends nothing
 * (less than 100 KiB in that time), and tries twice more: ovup asks while
 * it holds no target stopped, but a user waiting minutes takes it for a
 * hang.  With these, a silent server costs 2 x 10 s, once per run (the
 * first failure ends the queries).  The user's own settings win; a slow
 * but steady download is not cut (DEBUGINFOD_MAXTIME, unset, would). */
#define DEFAULT_TIMEOUT_S "10"
#define DEFAULT_RETRY_LIMIT "1"

/* libdebuginfod is opened when a server is first asked, not linked:
 * with curl, TLS, Kerberos and LDAP behind it, loading it at every start
 * cost more than half of ovup's start-up, for a library most runs never
 * call. */
#define LIBDEBUGINFOD "libdebuginfod.so.1"
static struct {
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *c);
	void (*set_user_data)(debuginfod_client *c, void *data);
	void *(*get_user_data)(debuginfod_client *c);
	void (*set_progressfn)(debuginfod_client *c, debuginfod_progressfn_t fn);
	int (*find_debuginfo)(debuginfod_client *c, const unsigned char *id, int len, char **path);
	const char *(*get_url)(debuginfod_client *c);
} dbg;

/* 0, or -ENOENT with *why saying what is missing */
static int load_debuginfod(char **why)
{
	void *h;

	if (dbg.begin)
		return 0;
	h = dlopen(LIBDEBUGINFOD, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*why = ovup_xasprintf("%s cannot be loaded (%s): apt-get install libdebuginfod1",
				      LIBDEBUGINFOD, dlerror());
		return -ENOENT;
	}
	*(void **)&dbg.begin = dlsym(h, "debuginfod_begin");
	*(void **)&dbg.end = dlsym(h, "debuginfod_end");
	*(void **)&dbg.set_user_data = dlsym(h, "debuginfod_set_user_data");
	*(void **)&dbg.get_user_data = dlsym(h, "debuginfod_get_user_data");
	*(void **)&dbg.set_progressfn = dlsym(h, "debuginfod_set_progressfn");
	*(void **)&dbg.find_debuginfo = dlsym(h, "debuginfod_find_debuginfo");
	*(void **)&dbg.get_url = dlsym(h, "debuginfod_get_url");
	if (!dbg.begin || !dbg.end || !dbg.set_user_data || !dbg.get_user_data ||
	    !dbg.set_progressfn || !dbg.find_debuginfo || !dbg.get_url) {
		*why = ovup_xasprintf("%s lacks a function ovup calls: install the "
				      "libdebuginfod1 of this release",
				      LIBDEBUGINFOD);
		dbg.begin = NULL;
		dlclose(h);
		return -ENOENT;
	}
	return 0;
}

struct proc_debug {
	debuginfod_client *client;
	/* a server failed (not "has no such file"): asking again for the
	 * next object would only wait again; what later objects are told */
	char *broken;
	const char *obj;  /* for the progress line */
	const char *hex;  /* its build-id */
	int progress_tty; /* the line is shown: stderr is a terminal */
	int progress_shown;
};

static const char *debug_root(void)
{
	const char *d = getenv("OVUP_DEBUG_ROOT");

	return d && *d ? d : "/usr/lib/debug";
}

static const char *urls(void)
{
	const char *u = getenv("DEBUGINFOD_URLS");

	return u && *u ? u : NULL;
}

struct proc_debug *ovup_proc_debug_begin(void)
{
	struct proc_debug *d = ovup_xcalloc(1, sizeof(*d));

	d->progress_tty = isatty(STDERR_FILENO) && !ovup_quiet;
	return d;
}

void ovup_proc_debug_end(struct proc_debug *d)
{
	if (!d)
		return;
	if (d->client)
		dbg.end(d->client);
	free(d->broken);
	free(d);
}

/* Does the file at fd hold the symbols of the object described by info? */
static int matches(int fd, const struct ovup_elf_info *info, const char **why)
{
	struct ovup_elf_info di;

	if (ovup_elf_info(fd, &di)) {
		*why = "it is not an ELF file";
		return 0;
	}
	if (!di.has_symtab) {
		*why = "it has no .symtab";
		return 0;
	}
	if (info->build_id_len && (di.build_id_len != info->build_id_len ||
				   memcmp(di.build_id, info->build_id, di.build_id_len))) {
		*why = "its build-id differs";
		return 0;
	}
	return 1;
}

/* The local candidates: the build-id path, then the debuglink beside the
 * object under the debug root and in its .debug directory. */
static int open_local(const struct ovup_elf_info *info, const char *path, char **found, char **hint)
{
	char hex[2 * OVUP_BUILD_ID_MAX + 1];
	char *cand[3] = { NULL, NULL, NULL };
	const char *why;
	size_t i;
	int fd = -1;

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
		if (!cand[i])
			continue;
		fd = open(cand[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!matches(fd, info, &why)) {
			ovup_info("%s: not the debug file of %s: %s", cand[i], path, why);
			close(fd);
			fd = -1;
			continue;
		}
		*found = ovup_xstrdup(cand[i]);
	}
	*hint = cand[0] ? ovup_xstrdup(cand[0]) : cand[1] ? ovup_xstrdup(cand[1]) : NULL;
	for (i = 0; i < 3; i++)
		free(cand[i]);
	return fd;
}

static void progress_clear(struct proc_debug *d)
{
	if (d->progress_shown)
		fputs("\r\033[K", stderr);
	d->progress_shown = 0;
}

/* a: bytes so far (a count of polls until a server answers), b: the
 * size when the server told it, else 0.  Nonzero stops the transfer: a
 * signal asks ovup to stop. */
static int progress(debuginfod_client *c, long a, long b)
{
	struct proc_debug *d = dbg.get_user_data(c);

	if (ovup_signalled)
		return 1;
	if (!d->progress_tty || b <= 0)
		return 0;
	fprintf(stderr, "\rovup: downloading debug symbols of %s (build-id %s): %ld/%ld KiB\033[K",
		d->obj, d->hex, a / 1024, b / 1024);
	d->progress_shown = 1;
	return 0;
}

static int client(struct proc_debug *d, char **why)
{
	int ret;

	if (d->client)
		return 0;
	ret = load_debuginfod(why);
	if (ret)
		return ret;
	setenv("DEBUGINFOD_TIMEOUT", DEFAULT_TIMEOUT_S, 0);
	setenv("DEBUGINFOD_RETRY_LIMIT", DEFAULT_RETRY_LIMIT, 0);
	d->client = dbg.begin();
	if (!d->client) {
		*why = ovup_xasprintf("libdebuginfod could not start: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	dbg.set_user_data(d->client, d);
	dbg.set_progressfn(d->client, progress);
	return 0;
}

/* Asks the servers of DEBUGINFOD_URLS; *note says what came of it for the
 * hint when nothing did. */
static int open_debuginfod(struct proc_debug *d, const char *name, const struct ovup_elf_info *info,
			   char **found, char **note)
{
	char hex[2 * OVUP_BUILD_ID_MAX + 1];
	const char *why, *url;
	char *cached = NULL;
	int fd, ret;

	if (d->broken) {
		*note = ovup_xstrdup(d->broken);
		return -1;
	}
	ovup_hex(hex, info->build_id, info->build_id_len);
	ret = client(d, note);
	if (ret)
		return -1;
	d->obj = name;
	d->hex = hex;
	fd = dbg.find_debuginfo(d->client, info->build_id, (int)info->build_id_len, &cached);
	progress_clear(d);
	if (fd == -ENOENT) {
		ovup_info("debuginfod: no debug file for %s (build-id %s) at %s", name, hex,
			  urls());
		*note = ovup_xasprintf(
			"the debuginfod servers of DEBUGINFOD_URLS (%s) do not have it", urls());
		return -1;
	}
	if (fd < 0) {
		char *err = fd == -ETIME
				    ? ovup_xasprintf("%s (nothing within DEBUGINFOD_TIMEOUT=%s s)",
						     strerror(-fd), getenv("DEBUGINFOD_TIMEOUT"))
				    : ovup_xstrdup(strerror(-fd));

		ovup_warn("debuginfod: cannot get the debug file of %s (build-id %s) from "
			  "DEBUGINFOD_URLS=%s: %s; going on with its .dynsym, and asking no more",
			  name, hex, urls(), err);
		d->broken = ovup_xasprintf(
			"the debuginfod servers of DEBUGINFOD_URLS (%s) failed: %s", urls(), err);
		free(err);
		*note = ovup_xstrdup(d->broken);
		return -1;
	}
	if (!matches(fd, info, &why)) {
		url = dbg.get_url(d->client);
		ovup_warn(
			"debuginfod: the file sent for %s (build-id %s) by %s (DEBUGINFOD_URLS=%s) is "
			"not its debug file: %s; ignored and removed from the cache (%s)",
			name, hex, url ? url : "a server", urls(), why, cached);
		/* or it would be used again, without asking, until it expires */
		unlink(cached);
		free(cached);
		close(fd);
		*note = ovup_xasprintf("the debuginfod servers of DEBUGINFOD_URLS (%s) sent a file "
				       "that is not its debug file (%s)",
				       urls(), why);
		return -1;
	}
	ovup_info("debuginfod: debug file of %s (build-id %s): %s", name, hex, cached);
	*found = cached;
	return fd;
}

int ovup_proc_debug_open(struct proc_debug *d, const char *name, const char *path,
			 const struct ovup_elf_info *info, char **found, char **hint, char **note)
{
	int fd;

	*found = NULL;
	*hint = NULL;
	*note = NULL;
	fd = open_local(info, path, found, hint);
	/* a server can only be asked by build-id */
	if (fd >= 0 || !urls() || info->build_id_len < 2)
		return fd;
	return open_debuginfod(d, name, info, found, note);
}
