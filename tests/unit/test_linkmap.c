// SPDX-License-Identifier: MIT
/* Unit tests of the loader's list read from another process
 * (target/process/linkmap.c): a fork of this test has the same objects at
 * the same addresses, so what ovup reads from the child must be what the
 * test's own loader shows it through _r_debug and the thread pointer. */
#define _GNU_SOURCE
#include "target/process/process.h"
#include "elf/elf.h"
#include "util/util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __thread int tvar = 5; /* in the executable's static TLS block */

static void find_tvar(void *arg, const struct ovup_elf_sym *s)
{
	if (!strcmp(s->name, "tvar") && s->type == OVUP_SYM_TLS)
		*(int64_t *)arg = (int64_t)s->value;
}

int main(void)
{
	struct ovup_target *t = NULL;
	struct ovup_linkmap *m = NULL;
	const struct link_map *lm;
	struct ovup_object o = { 0 };
	char *tp = __builtin_thread_pointer();
	size_t n = 0, i, libc = (size_t)-1;
	int same = 1, ret;
	pid_t child;

	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	if (child < 0)
		bail("fork: %s", strerror(errno));
	ret = ovup_target_process_open(child, OVUP_OPEN_READ, &t);
	is_int(ret, 0, "the child opens read-only");
	if (ret)
		bail("%s", ovup_err_msg());
	ret = ovup_proc_link_maps(ovup_to_proc(t), 1, &m, &n);
	is_int(ret, 0, "its list of objects is read");
	if (ret)
		diag("%s", ovup_err_msg());

	/* the same list as this process's loader has, in the same order */
	for (i = 0, lm = _r_debug.r_map; lm; lm = lm->l_next, i++) {
		if (i >= n || m[i].l_addr != lm->l_addr || strcmp(m[i].name, lm->l_name) ||
		    m[i].l_ld != (uint64_t)lm->l_ld || m[i].addr != (uint64_t)lm) {
			same = 0;
			diag("entry %zu: %s at %#lx differs", i, lm->l_name,
			     (unsigned long)lm->l_addr);
		}
		if (i < n && !strncmp(ovup_basename(m[i].name), "libc.so.", 8))
			libc = i;
	}
	ok(same && i == n && n >= 3, "%zu objects, as _r_debug lists them (l_addr, l_name, l_ld)",
	   n);
	is_str(n ? m[0].name : NULL, "", "the executable comes first, with an empty name");

	/* TLS: the executable is module 1, its block ends at the thread
	 * pointer (x86-64 puts static TLS below it) and holds tvar */
	is_int(n ? m[0].tls_modid : -2, 1, "the executable has TLS module id 1");
	ok(n && m[0].tls_offset > 0 && tp - m[0].tls_offset <= (char *)&tvar && (char *)&tvar < tp,
	   "its block [tp - l_tls_offset, tp) holds its thread-local variable");
	{
		int64_t st_value = -1;
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		ovup_elf_symbols(fd, 0, find_tvar, &st_value);
		close(fd);
		ok(st_value >= 0, "tvar is a TLS symbol, its value an offset in the block");
		is_int(st_value - (n ? m[0].tls_offset : 0), (char *)&tvar - tp,
		       "st_value - l_tls_offset is where tvar lies from the thread pointer");
	}
	ok(libc < n && m[libc].tls_modid > 1 && m[libc].tls_offset > m[0].tls_offset,
	   "libc (loaded at start) is in static TLS, below the executable's block");
	for (i = 0; i < n; i++)
		if (m[i].tls_modid == -1)
			diag("entry %zu (%s): TLS fields unknown", i, m[i].name);

	/* an object of the symbol table finds its entry by bias and name */
	o.is_main = 1;
	o.bias = n ? m[0].l_addr : 0;
	ok(n && ovup_linkmap_find(m, n, &o) == &m[0], "the main program finds the first entry");
	o.is_main = 0;
	o.bias = libc < n ? m[libc].l_addr : 0;
	o.name = "libc.so.6";
	ok(libc < n && ovup_linkmap_find(m, n, &o) == &m[libc], "libc finds its entry by bias");
	o.bias = 0x1000;
	ok(!ovup_linkmap_find(m, n, &o), "a bias no entry has finds nothing");

	ovup_linkmaps_free(m, n);
	t->ops->close(t);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return tap_done();
}
