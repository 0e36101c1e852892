// SPDX-License-Identifier: MIT
/*
 * The verb info: what an object from 'ovup build' holds, read from the
 * file alone (no target): its name and source, what it was built for
 * (.ovup.build), the functions it replaces with their selectors
 * (.ovup.meta), the symbols it uses and the sizes of its own code and data.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIG_PREFIX "__ovup_orig_"

const char *ovup_info_sec_kind(const char *name, uint64_t flags, uint32_t type)
{
	/* .ovup.meta and .ovup.build are ovup's records, never loaded */
	if (!(flags & SHF_ALLOC) || !strncmp(name, ".ovup.", 6))
		return NULL;
	if (flags & SHF_EXECINSTR)
		return "text";
	if (!(flags & SHF_WRITE))
		return "rodata";
	return type == SHT_NOBITS ? "bss" : "data";
}

static void add_sizes(const struct ovup_obj *obj, struct ovup_info_result *r)
{
	size_t i;

	for (i = 0; i < obj->nsecs; i++) {
		const struct ovup_obj_sec *s = &obj->secs[i];
		const char *k = ovup_info_sec_kind(s->name, s->flags, s->type);

		if (!k)
			continue;
		if (!strcmp(k, "text"))
			r->text += s->size;
		else if (!strcmp(k, "rodata"))
			r->rodata += s->size;
		else if (!strcmp(k, "data"))
			r->data += s->size;
		else
			r->bss += s->size;
	}
}

/* The lines of .ovup.build (build.c writes them) into r. */
static void read_build(char *build, struct ovup_info_result *r)
{
	char *line, *save = NULL;

	for (line = strtok_r(build, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp++ = 0;
		if (!strcmp(line, "target"))
			r->target = ovup_xstrdup(sp);
		else if (!strcmp(line, "patch"))
			r->patch = ovup_xstrdup(sp);
		else if (!strcmp(line, "source"))
			r->source = ovup_xstrdup(sp);
		else if (!strcmp(line, "kernel-release"))
			r->kernel_release = ovup_xstrdup(sp);
		else if (!strcmp(line, "kernel-version"))
			r->kernel_version = ovup_xstrdup(sp);
		else if (!strcmp(line, "object")) {
			char *id = strrchr(sp, ' ');
			struct ovup_info_object *o;

			if (!id)
				continue;
			*id++ = 0;
			r->objs = ovup_xrealloc(r->objs, (r->nobjs + 1) * sizeof(*r->objs));
			o = &r->objs[r->nobjs++];
			o->path = ovup_xstrdup(sp);
			o->build_id = ovup_xstrdup(id);
		}
	}
}

static struct ovup_info_func *find_func(struct ovup_info_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfuncs; i++)
		if (!strcmp(r->funcs[i].name, name))
			return &r->funcs[i];
	return NULL;
}

/* The functions replaced (defined, not static) and the symbols used
 * (undefined); a use of __ovup_orig_F is OVUP_ORIG(F), said on F. */
static void read_syms(const struct ovup_obj *obj, struct ovup_info_result *r)
{
	size_t i;

	r->funcs = ovup_xcalloc(obj->nsyms + 1, sizeof(*r->funcs));
	r->syms = ovup_xcalloc(obj->nsyms + 1, sizeof(*r->syms));
	for (i = 0; i < obj->nsyms; i++) {
		const struct ovup_obj_sym *s = &obj->syms[i];

		if (s->defined && s->bind != OVUP_BIND_LOCAL &&
		    (s->type == OVUP_SYM_FUNC || s->type == OVUP_SYM_IFUNC)) {
			r->funcs[r->nfuncs].name = ovup_xstrdup(s->name);
			r->funcs[r->nfuncs++].size = s->size;
		}
	}
	for (i = 0; i < obj->nsyms; i++) {
		const struct ovup_obj_sym *s = &obj->syms[i];
		struct ovup_info_func *f;

		if (s->defined || !strcmp(s->name, "_GLOBAL_OFFSET_TABLE_"))
			continue;
		if (!strncmp(s->name, ORIG_PREFIX, strlen(ORIG_PREFIX)) &&
		    (f = find_func(r, s->name + strlen(ORIG_PREFIX)))) {
			f->calls_orig = 1;
			continue;
		}
		r->syms[r->nsyms].name = ovup_xstrdup(s->name);
		r->syms[r->nsyms].tls = s->type == OVUP_SYM_TLS;
		r->syms[r->nsyms++].versioned = strchr(s->name, '@') != NULL;
	}
}

static int take_selector(void *arg, const char *kind, const char *name, const char *value)
{
	struct ovup_info_result *r = arg;
	struct ovup_info_func *f = find_func(r, name);
	struct ovup_info_sel *sel = f ? &f->sel : NULL;
	size_t i;

	for (i = 0; !sel && i < r->nsyms; i++)
		if (!strcmp(r->syms[i].name, name))
			sel = &r->syms[i].sel;
	if (!sel) /* a selector for a symbol the code no longer names */
		return 0;
	if (!strcmp(kind, "object")) {
		free(sel->object);
		sel->object = ovup_xstrdup(value);
	} else if (!strcmp(kind, "file")) {
		free(sel->file);
		sel->file = ovup_xstrdup(value);
	} else if (!strcmp(kind, "near")) {
		free(sel->near);
		sel->near = ovup_xstrdup(value);
	} else {
		sel->sympos = (unsigned)strtoul(value, NULL, 10);
	}
	return 0;
}

/* the patch's name when the record has none (objects built before it
 * named the patch): the file name without its extension, as apply takes it */
static char *name_from_path(const char *path)
{
	char *n = ovup_xstrdup(ovup_basename(path));
	char *dot = strrchr(n, '.');

	if (dot && dot != n)
		*dot = 0;
	return n;
}

int ovup_info_read(const char *path, struct ovup_info_result *res)
{
	struct ovup_obj obj;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = ovup_elf_obj_read(path, &obj);
	if (ret && ret != -ENOEXEC)
		return ovup_err(ret, "%s: %s", path, strerror(-ret));
	/* a .c file, any other file, or an object cc wrote: none has the
	 * build record */
	if (ret || obj.type != ET_REL || !obj.build || strncmp(obj.build, "ovup-build ", 11)) {
		if (!ret)
			ovup_elf_obj_free(&obj);
		return ovup_err(-EINVAL,
				"%s: not an object from 'ovup build'; build one with "
				"'ovup build -p PID -o PATCH.o PATCH.c' (or -k for the kernel)",
				path);
	}
	res->path = ovup_xstrdup(path);
	read_build(obj.build, res);
	if (!res->patch)
		res->patch = name_from_path(path);
	if (!res->source && obj.file)
		res->source = ovup_xstrdup(obj.file);
	if (!res->target)
		res->target = ovup_xstrdup("process");
	read_syms(&obj, res);
	add_sizes(&obj, res);
	ret = ovup_meta_each(&obj, path, take_selector, res);
	ovup_elf_obj_free(&obj);
	if (ret)
		ovup_info_result_free(res);
	return ret;
}

static void sel_free(struct ovup_info_sel *s)
{
	free(s->object);
	free(s->file);
	free(s->near);
}

void ovup_info_result_free(struct ovup_info_result *res)
{
	size_t i;

	for (i = 0; i < res->nobjs; i++) {
		free(res->objs[i].path);
		free(res->objs[i].build_id);
	}
	for (i = 0; i < res->nfuncs; i++) {
		free(res->funcs[i].name);
		sel_free(&res->funcs[i].sel);
	}
	for (i = 0; i < res->nsyms; i++) {
		free(res->syms[i].name);
		sel_free(&res->syms[i].sel);
	}
	free(res->objs);
	free(res->funcs);
	free(res->syms);
	free(res->path);
	free(res->patch);
	free(res->source);
	free(res->target);
	free(res->kernel_release);
	free(res->kernel_version);
	memset(res, 0, sizeof(*res));
}
