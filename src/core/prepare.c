// SPDX-License-Identifier: MIT
/*
 * The first steps apply and build share: the patch file and its name,
 * steps 1 and 2 (labels, size), and the check that an object from
 * `ovup build` was built for the binaries this target runs.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ovup_record *ovup_record_find(struct ovup_records *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].name, name))
			return &rs->r[i];
	return NULL;
}

struct ovup_record *ovup_record_latest(struct ovup_records *rs)
{
	struct ovup_record *best = NULL;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!best || rs->r[i].seq > best->seq)
			best = &rs->r[i];
	return best;
}

char *ovup_patch_name(const struct ovup_apply_opts *o)
{
	char *name, *dot;

	if (o->name)
		return ovup_xstrdup(o->name);
	name = ovup_xstrdup(ovup_basename(o->patch));
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = 0;
	return name;
}

static int valid_name(const char *name)
{
	const char *s;

	if (!*name || strlen(name) >= 64)
		return 0;
	for (s = name; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || *s == '+' ||
		      (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

/* .ovup.build, written by `ovup build`: refuse a patch built for other
 * binaries than the ones running. */
static int check_build(struct ovup_plan *p)
{
	char *copy, *line, *save = NULL;
	int ret = 0;

	if (!p->obj.build && p->t->ops->needs_build_info && !strcmp(p->objpath, p->source))
		return ovup_err(-EINVAL,
				"%s: has no .ovup.build section, so nothing says which %s it "
				"was compiled for; build it with 'ovup build -k' (or give "
				"the .c file)",
				p->source, p->t->ops->kind);
	if (!p->obj.build)
		return 0;
	copy = ovup_xstrdup(p->obj.build);
	for (line = strtok_r(copy, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char path[4096], id[160], have[160];
		size_t i, k;

		if (!strncmp(line, "target ", 7)) {
			if (strcmp(line + 7, p->t->ops->kind))
				ret = ovup_err(-EINVAL, "%s: built for a %s target, not a %s",
					       p->source, line + 7, p->t->ops->kind);
			continue;
		}
		if (!strncmp(line, "kernel-release ", 15) && strcmp(line + 15, p->t->release)) {
			ret = ovup_err(-EINVAL,
				       "%s: built for kernel %s, but the running kernel is %s; "
				       "rebuild it with that kernel's headers",
				       p->source, line + 15, p->t->release);
			continue;
		}
		if (!strncmp(line, "kernel-version ", 15) && strcmp(line + 15, p->t->version)) {
			ret = ovup_err(-EINVAL,
				       "%s: built for kernel build '%s', but the running "
				       "kernel is build '%s'; rebuild it with that kernel's "
				       "headers",
				       p->source, line + 15, p->t->version);
			continue;
		}
		if (sscanf(line, "object %4095s %159s", path, id) != 2)
			continue;
		/* the same path, else the same file name elsewhere */
		for (i = 0; i < p->st.nobjs && strcmp(p->st.objs[i].path, path); i++)
			;
		for (k = 0; i == p->st.nobjs && k < p->st.nobjs; k++)
			if (!strcmp(p->st.objs[k].name, ovup_basename(path)))
				i = k;
		if (i == p->st.nobjs) {
			ret = ovup_err(-EINVAL,
				       "%s: built for %s (build-id %s), which %s has not "
				       "loaded; rebuild the patch against this target",
				       p->source, path, id, p->t->desc);
			break;
		}
		ovup_hex(have, p->st.objs[i].build_id, p->st.objs[i].build_id_len);
		if (strcmp(have, id))
			ret = ovup_err(-EINVAL,
				       "%s: built for %s with build-id %s, but %s runs "
				       "build-id %s; rebuild the patch for this build",
				       p->source, path, id, p->t->desc, have);
	}
	free(copy);
	return ret;
}

int ovup_prepare_files(struct ovup_plan *p)
{
	p->source = ovup_xstrdup(p->o->patch);
	p->name = ovup_patch_name(p->o);
	if (!valid_name(p->name))
		return ovup_err(-EINVAL,
				"patch name '%s': use at most 63 letters, digits, '.', '_', "
				"'-' or '+' (--name)",
				p->name);
	if (access(p->source, R_OK) < 0)
		return ovup_err(-errno, "%s: %s; give the path of a patch file", p->source,
				strerror(errno));
	p->tmp = ovup_tmpdir();
	if (!p->tmp)
		return ovup_err(-errno, "cannot create a temporary directory: %m");
	return 0;
}

/* The patch, compiled if it is C and read, before the labels: the target's
 * symbols it needs are those of the names it has.  (A patch made from a
 * diff is built from the labels.) */
static int read_first(struct ovup_plan *p)
{
	size_t i;
	int ret;

	if (p->o->diff)
		return 0;
	ret = ovup_plan_read_patch(p);
	if (ret)
		return ret;
	p->obj_read = 1;
	for (i = 0; i < p->obj.nsyms; i++)
		ovup_symtab_want(&p->st, p->obj.syms[i].name);
	/* a selector's anchor: the global its function is found near */
	for (i = 0; i < p->nsels; i++)
		if (p->sels[i].near)
			ovup_symtab_want(&p->st, p->sels[i].near);
	return 0;
}

int ovup_prepare(struct ovup_plan *p, uint64_t *ns)
{
	uint64_t t0, read_ns;
	int ret;

	ret = ovup_prepare_files(p);
	if (ret)
		return ret;
	t0 = ovup_now_ns();
	ret = read_first(p);
	read_ns = ovup_now_ns() - t0;
	if (ret)
		return ret;
	t0 = ovup_now_ns();
	ret = ovup_step_labels(p);
	ns[0] = ovup_now_ns() - t0;
	if (ret)
		return ret;
	t0 = ovup_now_ns() - read_ns;
	ret = ovup_step_resolve(p);
	if (!ret && p->diff)
		ovup_diff_check_flags(p);
	if (!ret)
		ret = ovup_step_size(p);
	if (!ret)
		ret = check_build(p);
	ns[1] = ovup_now_ns() - t0;
	return ret;
}
