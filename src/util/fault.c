// SPDX-License-Identifier: MIT
/*
 * Test hooks: OVUP_FAULT=name[:n],... makes a named step fail or abort, to
 * drive failure paths that cannot be provoked from outside (the table of
 * names is in docs/testing.md).
 */
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Is "name" (k == 0) or "name:k" one of OVUP_FAULT's comma-separated
 * entries? */
static int fault_match(const char *name, size_t k)
{
	const char *s = getenv("OVUP_FAULT");
	size_t n = strlen(name);

	for (; s && *s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL) {
		if (strncmp(s, name, n))
			continue;
		if (!k && (s[n] == 0 || s[n] == ','))
			return 1;
		if (k && s[n] == ':' && strtoul(s + n + 1, NULL, 10) == k)
			return 1;
	}
	return 0;
}

int ovup_fault(const char *name)
{
	return fault_match(name, 0);
}

int ovup_fault_n(const char *name, size_t k)
{
	return k && fault_match(name, k);
}

/* Tests: make $OVUP_TEST_SYNC.ready, then wait (60 s at most: a slow
 * guest) for $OVUP_TEST_SYNC.go, so a test can act at a chosen point of a
 * run. */
void ovup_test_sync(void)
{
	const char *base = getenv("OVUP_TEST_SYNC");
	char *ready, *go;
	int i, fd;

	if (!base)
		return;
	ready = ovup_xasprintf("%s.ready", base);
	go = ovup_xasprintf("%s.go", base);
	fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 6000 && access(go, F_OK); i++)
		usleep(10000);
	free(ready);
	free(go);
}
