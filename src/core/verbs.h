/* SPDX-License-Identifier: MIT */
/*
 * What the verbs share inside core: finding a record by name, and the
 * first steps apply and build both take (the patch file, labels, size,
 * the build check).  Internal to core.
 */
#ifndef OVUP_VERBS_H
#define OVUP_VERBS_H

#include "procedure.h"

struct ovup_record *ovup_record_find(struct ovup_records *rs, const char *name);
struct ovup_record *ovup_record_latest(struct ovup_records *rs);
/* the record a revert or forget (verb) works on: NAME, or the latest;
 * refused if it is not on top of every function it patched */
int ovup_record_choose(struct ovup_target *t, struct ovup_records *rs, const char *name,
		       const char *verb, struct ovup_record **out);
/* --diff: the patch object from the diff's changed functions (diff.c) */
int ovup_diff_build(struct ovup_plan *p);
/* after resolving: notes where the target's recorded compiler switches
 * (DW_AT_producer) differ from the patch's */
void ovup_diff_check_flags(struct ovup_plan *p);
/* the patch's name: --name, or the file name without its extension */
char *ovup_patch_name(const struct ovup_apply_opts *o);
/* the patch file, its name and a scratch directory */
int ovup_prepare_files(struct ovup_plan *p);
/* the above, then steps 1 and 2 and the build check, timed into ns[0..1] */
int ovup_prepare(struct ovup_plan *p, uint64_t *ns);

#endif
