// SPDX-License-Identifier: MIT
/*
 * The verb build: compile a patch (and, for a process, resolve it against
 * the target) into an object that records the build-ids it was made for,
 * which apply checks before it changes anything.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A kernel patch is built on a build machine: compile it with the
 * headers' flags now, resolve it on the target at apply. */
static int compile_only(struct ovup_plan *p, size_t *nfuncs)
{
	size_t s;
	int ret;

	ret = ovup_prepare_files(p);
	if (!ret && p->t->ops->build_reads_labels)
		ret = p->t->ops->labels(p->t, &p->st);
	if (ret)
		return ret;
	if (p->o->diff) {
		ret = ovup_diff_build(p);
	} else {
		p->objpath = ovup_xasprintf("%s/patch.o", p->tmp);
		ret = p->t->ops->compile(p->t, p->source, p->objpath, p->o->cflags, p->o->ncflags);
	}
	if (!ret)
		ret = ovup_elf_obj_read(p->objpath, &p->obj);
	/* what apply would refuse in the object, refused now */
	if (!ret)
		ret = ovup_plan_check_sections(p);
	if (ret)
		return ret;
	for (s = 0; s < p->obj.nsyms; s++)
		*nfuncs += p->obj.syms[s].defined && p->obj.syms[s].bind != OVUP_BIND_LOCAL &&
			   p->obj.syms[s].type == OVUP_SYM_FUNC;
	return 0;
}

/* the build record: which binaries the patch was resolved against */
static void build_record(const struct ovup_plan *p, struct ovup_buf *rec)
{
	const struct ovup_target *t = p->t;
	char hex[2 * OVUP_BUILD_ID_MAX + 1];
	char *abs = realpath(p->source, NULL);
	size_t i, k;

	ovup_buf_printf(rec, "ovup-build 1\ntarget %s\n", t->ops->kind);

	/* for 'ovup info'; apply skips lines it does not know.  A path with
	 * a newline would add a line of its own: info then takes the
	 * object's STT_FILE name instead. */
	ovup_buf_printf(rec, "patch %s\n", p->name);
	if (!strchr(abs ? abs : p->source, '\n'))
		ovup_buf_printf(rec, "source %s\n", abs ? abs : p->source);
	free(abs);
	if (t->release[0])
		ovup_buf_printf(rec, "kernel-release %s\n", t->release);
	if (t->version[0])
		ovup_buf_printf(rec, "kernel-version %s\n", t->version);
	for (i = 0; i < p->st.nobjs; i++) {
		const struct ovup_object *ob = &p->st.objs[i];
		int used = 0;

		/* a program or library file (--object): the patch is for it */
		used = t->ops->build_reads_labels;
		for (k = 0; k < p->nfuncs; k++)
			used |= p->funcs[k].old->obj == i;
		if (!used || !ob->build_id_len)
			continue;
		ovup_hex(hex, ob->build_id, ob->build_id_len);
		ovup_buf_printf(rec, "object %s %s\n", ob->path, hex);
	}
}

/* The object with the build record added as section .ovup.build. */
static int write_object(const struct ovup_plan *p, const char *out)
{
	struct ovup_buf rec = { 0 };
	char *recpath, *addsec, *output = NULL;
	int ret;

	build_record(p, &rec);
	recpath = ovup_xasprintf("%s/build.txt", p->tmp);
	addsec = ovup_xasprintf(".ovup.build=%s", recpath);
	ret = ovup_write_file_atomic(recpath, rec.s, rec.len);
	if (ret) {
		ret = ovup_err(ret, "cannot write %s", recpath);
		goto out;
	}
	{
		char *argv[] = { "objcopy",
				 "--add-section",
				 addsec,
				 "--set-section-flags",
				 ".ovup.build=readonly,contents",
				 p->objpath,
				 (char *)out,
				 NULL };

		ret = ovup_run(argv, &output);
	}
	if (ret) {
		if (output)
			fputs(output, stderr); /* objcopy's own reason, before ours */
		ret = ovup_err(ret < 0 ? ret : -EIO, "%s: objcopy could not write the object", out);
	}
out:
	free(output);
	free(addsec);
	free(recpath);
	ovup_buf_free(&rec);
	return ret;
}

int ovup_build(struct ovup_target *t, const struct ovup_apply_opts *o, const char *out,
	       struct ovup_build_result *res)
{
	struct ovup_plan p;
	uint64_t ns[OVUP_NSTEPS] = { 0 };
	size_t nfuncs = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	ovup_plan_init(&p, t, o);
	if (t->ops->build_compiles_only) {
		ret = compile_only(&p, &nfuncs);
	} else {
		ret = ovup_prepare(&p, ns);
		nfuncs = p.nfuncs;
	}
	if (!ret && !o->dry_run)
		ret = write_object(&p, out);
	if (!ret) {
		snprintf(res->target, sizeof(res->target), "%s", t->desc);
		res->patch = ovup_xstrdup(p.name);
		res->output = out ? ovup_xstrdup(out) : NULL;
		res->dry_run = o->dry_run;
		res->nfuncs = nfuncs;
		res->diff = p.diff;
		p.diff = NULL;
	}
	ovup_plan_release(&p);
	return ret;
}

void ovup_build_result_free(struct ovup_build_result *res)
{
	free(res->patch);
	free(res->output);
	ovup_diff_found_free(res->diff);
	memset(res, 0, sizeof(*res));
}
