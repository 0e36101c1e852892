// SPDX-License-Identifier: MIT
/*
 * The kernel target: the running Linux kernel, reached through the ioctls
 * of ovup.ko on /dev/ovup (the paper's alloc, copyin, chgprot, pawrite),
 * with labels from /proc/kallsyms and patches compiled by kbuild for the
 * installed headers.  The module does the stop (stop_machine), the stack
 * check and keeps the record of applied patches.  This file holds the ops
 * table and opens the target; kernel.h says which file answers each op.
 */
#define _GNU_SOURCE
#include "kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

static void kern_close(struct ovup_target *t)
{
	struct kern_target *k = ovup_to_kern(t);

	/* closing the fd gives the writer slot up too */
	if (k->fd >= 0)
		close(k->fd);
	free(k->kb_o);
	free(k->kb_s);
	free(k->kb_dir);
	free(k);
}

static const struct ovup_target_ops kernel_ops = {
	.kind = "kernel",
	.traits = OVUP_TRAIT_STATICS_NEAR | OVUP_TRAIT_INSTALLED_HEADERS | OVUP_TRAIT_COMPILES_ASM,
	.labels = ovup_kern_labels,
	.compile = ovup_kern_compile,
	.compile_prepare = ovup_kern_compile_prepare,
	.site = ovup_kern_site,
	.classify = ovup_kern_classify,
	.alloc = ovup_kern_alloc,
	.free = ovup_kern_free,
	.copyin = ovup_kern_copyin,
	.chgprot = ovup_kern_chgprot,
	.read = ovup_kern_read,
	.stop = ovup_kern_stop,
	.pawrite = ovup_kern_pawrite,
	.resume = ovup_kern_resume,
	.records_load = ovup_kern_records_load,
	.retired = ovup_kern_retired,
	.hooked = ovup_kern_hooked,
	.verify_entry = ovup_kern_verify_entry,
	.text_extra = ovup_kern_text_extra,
	.fixup = ovup_kern_fixup,
	.mapfile_keep_ro = ovup_kern_mapfile_keep_ro,
	.mapfile_keep_text = ovup_kern_mapfile_keep_text,
	.mapfile_discard = ovup_kern_mapfile_discard,
	.reject_hint = ovup_kern_reject_hint,
	.close = kern_close,
	.no_site_hint = " (no ftrace NOP5: notrace or assembly)",
	.keeps_records = 1,
	.build_compiles_only = 1,
	.needs_build_info = 1,
	.callers_assume_clobbers = 0, /* -pg: no -fipa-ra in the kernel */
};

/* build: for the installed headers, not the running kernel */
static int open_for_build(struct kern_target *k)
{
	int ret = ovup_kern_find_kver(k);

	if (ret)
		return ret;
	ovup_kern_header_identity(k);
	snprintf(k->base.desc, sizeof(k->base.desc), "kernel %.50s", k->kver);
	return 0;
}

int ovup_target_kernel_open(enum ovup_open_mode offline, struct ovup_target **out)
{
	struct kern_target *k = ovup_xcalloc(1, sizeof(*k));
	struct utsname u;
	int ret;

	ovup_kern_sections_init();
	k->base.ops = &kernel_ops;
	k->base.offline = offline;
	k->dev = getenv("OVUP_DEVICE") ? getenv("OVUP_DEVICE") : "/dev/ovup";
	k->fd = -1;
	uname(&u);
	snprintf(k->base.desc, sizeof(k->base.desc), "kernel %.50s", u.release);
	if (offline == OVUP_OPEN_HEADERS) {
		ret = open_for_build(k);
	} else {
		snprintf(k->base.release, sizeof(k->base.release), "%s", u.release);
		snprintf(k->base.version, sizeof(k->base.version), "%s", u.version);
		/* offline, a missing module leaves fd -1: symbols needs only
		 * /proc/kallsyms */
		ret = ovup_kern_device_open(k);
	}
	if (ret) {
		kern_close(&k->base);
		return ret;
	}
	*out = &k->base;
	return 0;
}
