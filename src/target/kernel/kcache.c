// SPDX-License-Identifier: MIT
/*
 * What one boot of the kernel keeps: its kallsyms changes only when a
 * module is loaded or unloaded, and its list of ftrace sites with it, yet
 * reading either costs the kernel hundreds of millions of instructions
 * (each line a kallsyms lookup).  Both are kept in ovup's symbol cache
 * directory (symcache.h) under a key of the kernel, the boot and the
 * modules loaded where; a file of another key is never read, and those
 * of earlier boots are removed when this boot's are written.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../../model/symcache.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* "kernel RELEASE VERSION boot ID modules NAME SIZE STATE ADDR, ...":
 * NULL when kallsyms is a file of the tests' (OVUP_KALLSYMS), or a
 * module's address is hidden (not root). */
const char *ovup_kcache_key(void)
{
	static char *key;
	static int done;
	struct ovup_buf b = { 0 };
	struct utsname u;
	char *boot, *mods, *line, *save = NULL;

	if (done)
		return key;
	done = 1;
	if (getenv("OVUP_KALLSYMS") || uname(&u))
		return NULL;
	boot = ovup_read_file("/proc/sys/kernel/random/boot_id", NULL);
	mods = ovup_read_file("/proc/modules", NULL);
	if (!boot || !mods) {
		free(boot);
		free(mods);
		return NULL;
	}
	boot[strcspn(boot, "\n")] = 0;
	ovup_buf_printf(&b, "kernel %s %s boot %s modules", u.release, u.version, boot);
	/* "name size refs users state addr": the references come and go */
	for (line = strtok_r(mods, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[256], state[32];
		unsigned long long size, addr;

		if (sscanf(line, "%255s %llu %*s %*s %31s %llx", name, &size, state, &addr) != 4 ||
		    !addr) {
			ovup_buf_free(&b);
			b.s = NULL;
			break;
		}
		ovup_buf_printf(&b, " %s %llu %s %llx,", name, size, state, addr);
	}
	free(boot);
	free(mods);
	key = b.s;
	return key;
}

/* kernel-HASH-what, the name of a file of this boot's key in the cache
 * directory; NULL without a key or a cache directory. */
char *ovup_kcache_name(const char *what)
{
	const char *key = ovup_kcache_key(), *dir = ovup_symcache_dir();

	if (!key || !dir)
		return NULL;
	return ovup_xasprintf("kernel-%016llx-%s", (unsigned long long)ovup_sym_hash(key), what);
}

/* Removes the files of other keys (earlier boots, other module lists). */
void ovup_kcache_prune(void)
{
	const char *key = ovup_kcache_key(), *dir = ovup_symcache_dir();
	char mine[64];
	struct dirent *d;
	DIR *dh;

	if (!key || !dir || !(dh = opendir(dir)))
		return;
	snprintf(mine, sizeof(mine), "kernel-%016llx-", (unsigned long long)ovup_sym_hash(key));
	while ((d = readdir(dh)))
		if (!strncmp(d->d_name, "kernel-", 7) && strncmp(d->d_name, mine, strlen(mine)) &&
		    !strstr(d->d_name, ".tmp.")) {
			char *p = ovup_xasprintf("%s/%s", dir, d->d_name);

			unlink(p);
			free(p);
		}
	closedir(dh);
}
