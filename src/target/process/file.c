// SPDX-License-Identifier: MIT
/*
 * A program or library on disk as the target of 'build' (--object PATH),
 * or no target at all ('build --diff --dry-run'): a process's patch is
 * compiled, and a diff's functions found, against the file's symbols
 * rather than a running process's; nothing is resolved or linked (apply
 * does that, for each process that runs the file).
 */
#define _GNU_SOURCE
#include "process.h"
#include "../compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct file_target {
	struct ovup_target base;
	char *path; /* NULL: no file, no symbols */
};

static int file_labels(struct ovup_target *t, struct ovup_symtab *st)
{
	struct file_target *f = ovup_container_of(t, struct file_target, base);

	if (!f->path) {
		ovup_symtab_finish(st);
		return 0;
	}
	return ovup_file_labels(f->path, st);
}

static void file_close(struct ovup_target *t)
{
	struct file_target *f = ovup_container_of(t, struct file_target, base);

	free(f->path);
	free(f);
}

static const struct ovup_target_ops file_ops = {
	.kind = "process",
	.labels = file_labels,
	.compile = ovup_cc_compile,
	.classify = ovup_classify_user,
	.close = file_close,
	.build_compiles_only = 1,
	.build_reads_labels = 1,
};

int ovup_target_file_open(const char *path, struct ovup_target **out)
{
	struct file_target *f = ovup_xcalloc(1, sizeof(*f));

	f->base.ops = &file_ops;
	f->base.offline = OVUP_OPEN_READ;
	f->path = path ? ovup_xstrdup(path) : NULL;
	snprintf(f->base.desc, sizeof(f->base.desc), "%s",
		 path ? ovup_basename(path) : "no target");
	*out = &f->base;
	return 0;
}
