// SPDX-License-Identifier: MIT
/* Unit tests of the debug file search without a server (the victims'
 * build-id tree under OVUP_DEBUG_ROOT: found, and refused when it belongs
 * to another build), and of the hint's wording for an object with only
 * .dynsym in each case: build-id or not, package or not, debug file or
 * not, debuginfod asked or not. */
#include "model/symtab.h"
#include "target/process/process.h"
#include "util/util.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef OVUP_TEST_VICTIMS
#define OVUP_TEST_VICTIMS "build/tests/victims/"
#endif
#define VICTIMS OVUP_TEST_VICTIMS

static int info_of(const char *path, struct ovup_elf_info *info)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		bail("cannot open %s (make victims)", path);
	ret = ovup_elf_info(fd, info);
	close(fd);
	return ret;
}

static void search(void)
{
	struct ovup_elf_info info, other;
	char *found, *hint, *note;
	struct proc_debug *d;
	int fd;

	unsetenv("DEBUGINFOD_URLS");
	setenv("OVUP_DEBUG_ROOT", VICTIMS "debug", 1);
	is_int(info_of(VICTIMS "victim-stripped", &info), 0, "victim-stripped is ELF");
	ok(!info.has_symtab && info.build_id_len == 20, "... without .symtab, with a build-id");
	d = ovup_proc_debug_begin();
	fd = ovup_proc_debug_open(d, "victim-stripped", VICTIMS "victim-stripped", &info, &found,
				  &hint, &note);
	ok(fd >= 0, "its debug file is found by build-id under OVUP_DEBUG_ROOT");
	has_str(found ? found : "", "/.build-id/", "... at the build-id path");
	ok(!note, "... no server was asked");
	if (fd >= 0)
		close(fd);
	free(found);
	free(hint);

	/* the same file offered for another build must be refused */
	is_int(info_of(VICTIMS "victim-pie", &other), 0, "victim-pie is ELF");
	memcpy(other.build_id, info.build_id, info.build_id_len);
	other.build_id[0] ^= 0xff;
	other.has_symtab = 0;
	fd = ovup_proc_debug_open(d, "victim-pie", VICTIMS "victim-pie", &other, &found, &hint,
				  &note);
	ok(fd < 0 && !found, "a build-id with no debug file: none found");
	ok(hint && strstr(hint, "/.build-id/") && strstr(hint, ".debug"),
	   "... the hint is the path it would have");
	ok(!note, "... without DEBUGINFOD_URLS no server is asked");
	free(hint);

	setenv("DEBUGINFOD_URLS", "", 1);
	fd = ovup_proc_debug_open(d, "victim-pie", VICTIMS "victim-pie", &other, &found, &hint,
				  &note);
	ok(fd < 0 && !note, "an empty DEBUGINFOD_URLS asks no server either");
	free(hint);
	unsetenv("DEBUGINFOD_URLS");

	/* the victim's debug file where another build-id's would be: refused */
	{
		char dir[] = "/tmp/ovup-unit-dbg.XXXXXX", hex[41], *top, *sub, *link, *target;

		if (!mkdtemp(dir))
			bail("mkdtemp");
		ovup_hex(hex, other.build_id, other.build_id_len);
		sub = ovup_xasprintf("%s/.build-id/%.2s", dir, hex);
		link = ovup_xasprintf("%s/%s.debug", sub, hex + 2);
		ovup_hex(hex, info.build_id, info.build_id_len);
		target = ovup_xasprintf("%sdebug/.build-id/%.2s/%s.debug",
					VICTIMS[0] == '/' ? VICTIMS : "../../../" VICTIMS, hex,
					hex + 2);
		top = ovup_xasprintf("%s/.build-id", dir);
		ok(!mkdir(top, 0700) && !mkdir(sub, 0700) && !symlink(target, link),
		   "a debug root with the victim's debug file under another build-id");
		setenv("OVUP_DEBUG_ROOT", dir, 1);
		fd = ovup_proc_debug_open(d, "victim-pie", VICTIMS "victim-pie", &other, &found,
					  &hint, &note);
		ok(fd < 0 && !found, "... refused: its build-id differs");
		is_str(hint, link, "... the hint is still the path a right file would have");
		other.build_id_len = 0;
		memcpy(other.build_id, info.build_id, info.build_id_len);
		free(hint);
		unlink(link);
		rmdir(sub);
		free(link);
		free(sub);
		free(target);
		rmdir(top);
		free(top);
		rmdir(dir);
	}
	/* no build-id: the debuglink is the hint */
	setenv("OVUP_DEBUG_ROOT", "/nonexistent", 1);
	strcpy(other.debuglink, "victim-pie.debug");
	fd = ovup_proc_debug_open(d, "victim-pie", "/x/victim-pie", &other, &found, &hint, &note);
	ok(fd < 0, "no build-id, debuglink to nothing: none found");
	is_str(hint, "/nonexistent/x/victim-pie.debug", "... the hint is the debuglink path");
	free(hint);
	ovup_proc_debug_end(d);
}

static char *hint_for(const char *path, int bid, const char *debug_hint, const char *debuginfod)
{
	struct ovup_object o = { 0 };

	o.path = (char *)path;
	if (bid) {
		memset(o.build_id, 0xab, 4);
		o.build_id_len = 4;
	}
	o.debug_hint = (char *)debug_hint;
	o.debuginfod = (char *)debuginfod;
	return ovup_object_symbols_hint(&o);
}

static void wording(void)
{
	char *h;

	h = hint_for("victim", 1, "/d/.build-id/ab/abab.debug", NULL);
	is_str(h,
	       "has only .dynsym, no symbol table (build-id abababab); install its debug file "
	       "/d/.build-id/ab/abab.debug, or set DEBUGINFOD_URLS to a debuginfod server",
	       "build-id, debug file, no package: names the file and DEBUGINFOD_URLS");
	free(h);
	h = hint_for("victim", 1, "/d/.build-id/ab/abab.debug",
		     "the servers failed: Timer expired");
	is_str(h,
	       "has only .dynsym, no symbol table (build-id abababab); install its debug file "
	       "/d/.build-id/ab/abab.debug; the servers failed: Timer expired",
	       "debuginfod asked: says what came of it instead of suggesting it");
	free(h);
	h = hint_for("victim", 0, NULL, NULL);
	is_str(h, "has only .dynsym, no symbol table (no build-id); install its debug symbols",
	       "no build-id, no debuglink: no server can help, none is suggested");
	free(h);
	/* dpkg knows libc: its debug package is libc6-dbg (Debian main) */
	if (access("/usr/bin/dpkg-query", X_OK) == 0 &&
	    access("/usr/lib/x86_64-linux-gnu/libc.so.6", R_OK) == 0) {
		h = hint_for("/usr/lib/x86_64-linux-gnu/libc.so.6", 1, "/d/x.debug", NULL);
		has_str(h, "install libc6-dbg or its debug file /d/x.debug, or set DEBUGINFOD_URLS",
			"a packaged file: the package first, then the file");
		free(h);
	} else {
		ok(1, "# SKIP no dpkg-query or no libc.so.6 where Debian puts it");
	}
}

int main(void)
{
	search();
	wording();
	return tap_done();
}
