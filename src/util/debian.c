// SPDX-License-Identifier: MIT
/*
 * Debian package lookup: which package ships a file's debug symbols, so an
 * error can name the package to install.
 */
#define _GNU_SOURCE
#include "util.h"

#include <stdlib.h>
#include <string.h>

char *ovup_debug_package(const char *path)
{
	char *argv[] = { "dpkg-query", "-S", (char *)path, NULL }, *out = NULL, *colon;
	char *pkg = NULL;
	int ret = ovup_run(argv, &out);

	/* merged /usr: dpkg knows /lib/x.so where the process maps /usr/lib/x.so */
	if (ret && !strncmp(path, "/usr/", 5)) {
		free(out);
		out = NULL;
		argv[2] = (char *)path + 4;
		ret = ovup_run(argv, &out);
	}
	if (ret == 0 && out && (colon = strchr(out, ':'))) {
		*colon = 0;
		/* libc's debug symbols are in Debian main; others in the
		 * debug archive as -dbgsym */
		pkg = !strcmp(out, "libc6") ? ovup_xstrdup("libc6-dbg")
					    : ovup_xasprintf("%s-dbgsym", out);
	}
	free(out);
	return pkg;
}
