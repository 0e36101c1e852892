// SPDX-License-Identifier: MIT
/*
 * Private scratch directories: created per run, removed at its end (or
 * kept with OVUP_KEEP_TMP), and those of killed runs swept by the next.
 */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static const char *tmp_base(void)
{
	const char *base = getenv("TMPDIR");

	return base && *base ? base : "/tmp";
}

/* Scratch directories of ovup runs that were killed: ours (same owner,
 * a real directory, not a link), named after a pid that no longer runs,
 * and not kept on purpose (OVUP_KEEP_TMP). */
static void sweep_tmp(const char *base)
{
	struct dirent *de;
	DIR *d = opendir(base);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path, *kept;
		struct stat st;
		long pid;

		int all = 0;

		if ((sscanf(de->d_name, "ovup.%ld.", &pid) != 1 &&
		     !(all = sscanf(de->d_name, "ovup-all.%ld.", &pid) == 1)) ||
		    pid <= 0 || (kill((pid_t)pid, 0) < 0 ? errno != ESRCH : 1))
			continue;
		path = ovup_xasprintf("%s/%s", base, de->d_name);
		kept = ovup_xasprintf("%s/.kept", path);
		/* an --all run's: its runs may outlive it (each finishes the
		 * process it was given) and read the object there: ten
		 * minutes on */
		if (!lstat(path, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		    access(kept, F_OK) < 0 && (!all || st.st_mtime + 600 < time(NULL)))
			nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(kept);
		free(path);
	}
	closedir(d);
}

/* the six characters mkdtemp replaces with unique ones */
#define MKDTEMP_TEMPLATE "XXXXXX"

char *ovup_tmpdir(void)
{
	return ovup_tmpdir_named("ovup");
}

char *ovup_tmpdir_named(const char *prefix)
{
	const char *base = tmp_base();
	char *dir = ovup_xasprintf("%s/%s.%d." MKDTEMP_TEMPLATE, base, prefix, (int)getpid());

	sweep_tmp(base);
	if (!mkdtemp(dir)) {
		int e = errno;

		free(dir);
		errno = e;
		return NULL;
	}
	return dir;
}

void ovup_tmpdir_remove(const char *dir)
{
	if (!dir)
		return;
	if (getenv("OVUP_KEEP_TMP") && *getenv("OVUP_KEEP_TMP")) {
		char *kept = ovup_xasprintf("%s/.kept", dir);

		ovup_write_file_atomic(kept, "", 0);
		free(kept);
		fprintf(stderr, "ovup: kept the scratch directory %s (OVUP_KEEP_TMP)\n", dir);
		return;
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
