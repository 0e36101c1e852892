// SPDX-License-Identifier: MIT
/*
 * What ovup keeps of a kernel between its runs, and between boots: its
 * kallsyms, and its list of ftrace sites, cost the kernel hundreds of
 * millions of instructions to print (each line a kallsyms lookup), yet
 * change only with the kernel's build and its modules.  Both are kept in
 * ovup's symbol cache directory (symcache.h) under a key of the kernel's
 * build (release, version, vmlinux's build-id) and of each module loaded
 * (name, build-id, state, size); a file of another key is never read, and
 * those of other keys are removed when this key's are written.  Addresses
 * are not in the key: the symbols of a later boot (KASLR), or of a module
 * loaded again elsewhere, are the kept ones moved by how far their object
 * moved (labels.c).  A module without a build-id gives its address too.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../../elf/elf.h"
#include "../../model/symcache.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The modules of /proc/modules as the key was made: name and address. */
static struct kmod_at {
	char name[64];
	uint64_t addr;
} * mods_at;
static size_t nmods_at;

/* The GNU build-id, as hex, in a file of ELF notes the kernel shows
 * (/sys/kernel/notes, a module's .note.gnu.build-id); 0 if none. */
static int notes_build_id(const char *path, char *out, size_t len)
{
	size_t n = 0;
	uint8_t *d = (uint8_t *)ovup_read_file(path, &n);
	uint8_t id[OVUP_BUILD_ID_MAX];
	size_t idlen = d ? ovup_elf_notes_build_id(d, n, id) : 0;

	free(d);
	if (!idlen || 2 * idlen >= len)
		return 0;
	ovup_hex(out, id, idlen);
	return 1;
}

/* "kernel RELEASE VERSION image BUILD-ID modules NAME BUILD-ID STATE SIZE,
 * ..." (a module without a build-id: "@ADDRESS" for it): NULL when
 * kallsyms is a file of the tests' (OVUP_KALLSYMS), or a module's address
 * is hidden (not root). */
const char *ovup_kcache_key(void)
{
	static char *key;
	static int done;
	struct ovup_buf b = { 0 };
	struct utsname u;
	char *mods, *line, *save = NULL, id[2 * OVUP_BUILD_ID_MAX + 2];

	if (done)
		return key;
	done = 1;
	if (getenv("OVUP_KALLSYMS") || uname(&u))
		return NULL;
	mods = ovup_read_file("/proc/modules", NULL);
	if (!mods)
		return NULL;
	if (!notes_build_id("/sys/kernel/notes", id, sizeof(id)))
		snprintf(id, sizeof(id), "none");
	ovup_buf_printf(&b, "kernel %s %s image %s modules", u.release, u.version, id);
	/* "name size refs users state addr": the references come and go */
	for (line = strtok_r(mods, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], state[32], path[128];
		unsigned long long size, addr;

		if (sscanf(line, "%63s %llu %*s %*s %31s %llx", name, &size, state, &addr) != 4 ||
		    !addr) {
			ovup_buf_free(&b);
			b.s = NULL;
			break;
		}
		mods_at = ovup_xrealloc(mods_at, (nmods_at + 1) * sizeof(*mods_at));
		snprintf(mods_at[nmods_at].name, sizeof(mods_at[nmods_at].name), "%s", name);
		mods_at[nmods_at++].addr = addr;
		snprintf(path, sizeof(path), "/sys/module/%s/notes/.note.gnu.build-id", name);
		if (!notes_build_id(path, id, sizeof(id)))
			snprintf(id, sizeof(id), "@%llx", addr);
		ovup_buf_printf(&b, " %s %s %s %llu,", name, id, state, size);
	}
	free(mods);
	key = b.s;
	return key;
}

int ovup_kcache_module_addr(const char *name, uint64_t *addr)
{
	size_t i;

	if (!ovup_kcache_key())
		return -1;
	for (i = 0; i < nmods_at; i++)
		if (!strcmp(mods_at[i].name, name)) {
			*addr = mods_at[i].addr;
			return 0;
		}
	return -1;
}

/* kernel-HASH-what, the name of a file of this key in the cache
 * directory; NULL without a key or a cache directory. */
char *ovup_kcache_name(const char *what)
{
	const char *key = ovup_kcache_key(), *dir = ovup_symcache_dir();

	if (!key || !dir)
		return NULL;
	return ovup_xasprintf("kernel-%016llx-%s", (unsigned long long)ovup_sym_hash(key), what);
}

/* Removes the files of other keys (other builds, other module lists). */
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
