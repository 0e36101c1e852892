// SPDX-License-Identifier: MIT
/*
 * Reading the patch for the resolve step: compile it (or take the object
 * 'ovup build' wrote), read the ELF object, refuse sections no target can
 * load, and read the selectors of .ovup.meta.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../util/util.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_elf_file(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	int ret;

	if (!f)
		return -errno;
	ret = fread(magic, 1, 4, f) == 4 && !memcmp(magic, ELFMAG, SELFMAG);
	fclose(f);
	return ret;
}

/* C source is text: a NUL byte says the file is something else. */
static int has_nul(const char *path)
{
	size_t len;
	char *text = ovup_read_file(path, &len);
	int ret = text && memchr(text, 0, len) != NULL;

	free(text);
	return ret;
}

/* .ovup.meta holds NUL-separated "object|file|sympos|near NAME VALUE"
 * entries written by the macros of include/ovup.h (near: by diff.c); fn sees each one split.  source
 * names the patch in the messages. */
int ovup_meta_each(const struct ovup_obj *obj, const char *source,
		   int (*fn)(void *arg, const char *kind, const char *name, const char *value),
		   void *arg)
{
	size_t off = 0;
	int ret;

	while (off < obj->metalen) {
		const char *e = obj->meta + off;
		size_t len = strnlen(e, obj->metalen - off);
		char kind[16], name[256], value[1024];

		off += len + 1;
		if (!len)
			continue;
		if (sscanf(e, "%15s %255s %1023[^\n]", kind, name, value) != 3)
			return ovup_err(-EINVAL, "%s: malformed .ovup.meta entry '%s'", source, e);
		if (strcmp(kind, "object") && strcmp(kind, "file") && strcmp(kind, "sympos") &&
		    strcmp(kind, "near"))
			return ovup_err(-EINVAL, "%s: unknown .ovup.meta entry '%s'", source, e);
		if (!strcmp(kind, "sympos") && !strtoul(value, NULL, 10))
			return ovup_err(-EINVAL, "%s: OVUP_SYMPOS(%s, %s): positions start at 1",
					source, name, value);
		ret = fn(arg, kind, name, value);
		if (ret)
			return ret;
	}
	return 0;
}

static int take_selector(void *arg, const char *kind, const char *name, const char *value)
{
	struct ovup_plan *p = arg;
	struct ovup_selector *sel = ovup_plan_selector(p, name);

	if (!strcmp(kind, "object"))
		sel->object = ovup_symtab_intern(&p->st, value);
	else if (!strcmp(kind, "file"))
		sel->file = ovup_symtab_intern(&p->st, value);
	else if (!strcmp(kind, "near")) {
		/* "ANCHOR BYTES" (diff.c) */
		char anchor[256];
		unsigned long long dist;

		if (sscanf(value, "%255s %llu", anchor, &dist) != 2)
			return ovup_err(-EINVAL, "%s: malformed .ovup.meta entry 'near %s %s'",
					p->source, name, value);
		sel->near = ovup_symtab_intern(&p->st, anchor);
		sel->dist = dist;
	} else
		sel->pos = (unsigned)strtoul(value, NULL, 10);
	return 0;
}

static int parse_meta(struct ovup_plan *p)
{
	return ovup_meta_each(&p->obj, p->source, take_selector, p);
}

static int compile(struct ovup_plan *p)
{
	int elf, ret;

	if (p->o->diff)
		return ovup_diff_build(p);
	elf = is_elf_file(p->source);
	if (elf < 0)
		return ovup_err(elf,
				"%s: %s; give a patch file (.c) or an object from 'ovup build'",
				p->source, strerror(-elf));
	if (elf) {
		p->objpath = ovup_xstrdup(p->source);
		return 0;
	}
	if (strlen(p->source) < 2 || strcmp(p->source + strlen(p->source) - 2, ".c"))
		return ovup_err(-EINVAL,
				"%s: neither C (a .c file) nor an ELF object (it does not "
				"start with \\x7fELF); give a patch file (.c) or an object "
				"from 'ovup build'",
				p->source);
	if (has_nul(p->source))
		return ovup_err(-EINVAL,
				"%s: binary data, neither C nor an ELF object (it does not "
				"start with \\x7fELF); give a patch file (.c) or an object "
				"from 'ovup build'",
				p->source);
	p->objpath = ovup_xasprintf("%s/patch.o", p->tmp);
	ret = p->t->ops->compile(p->t, p->source, p->objpath, p->o->cflags, p->o->ncflags);
	return ret;
}

/* A thread-local variable the patch defines: every thread that exists
 * got its TLS block when it started, and none has room for a new one. */
static int refuse_own_tls(const struct ovup_plan *p, const struct ovup_obj_sec *s)
{
	size_t i;

	for (i = 0; i < p->obj.nsyms; i++)
		if (p->obj.syms[i].defined && p->obj.syms[i].type == OVUP_SYM_TLS)
			return ovup_err(-ENOTSUP,
					"%s: '%s' is a thread-local variable of the patch: "
					"ovup cannot add one (the threads already running "
					"have no room for it in their TLS blocks); use a "
					"global, or 'extern __thread' for one of the "
					"target's",
					p->source, p->obj.syms[i].name);
	return ovup_err(-ENOTSUP,
			"%s: section %s: thread-local variables cannot be added by a patch; "
			"use a global instead",
			p->source, s->name);
}

/* Every section of the patch has a place in the target, or the patch is
 * refused naming the section and why.  Apply checks it, and build already
 * (the same message), so a patch the target cannot take is not shipped. */
int ovup_plan_check_sections(struct ovup_plan *p)
{
	size_t i;

	if (p->obj.type != ET_REL)
		return ovup_err(-EINVAL,
				"%s: not a relocatable object; give the .c file or the "
				"output of 'ovup build'",
				p->source);
	if (p->obj.machine != EM_X86_64)
		return ovup_err(-EINVAL, "%s: built for another machine (e_machine %d)", p->source,
				p->obj.machine);
	for (i = 0; i < p->obj.nsecs; i++) {
		struct ovup_obj_sec *s = &p->obj.secs[i];

		s->cls = p->t->ops->classify(s->name, s->flags, s->type);
		if (s->cls != OVUP_SEC_REJECT)
			continue;
		if (s->flags & SHF_TLS)
			return refuse_own_tls(p, s);
		if (strstr(s->name, "init_array") || strstr(s->name, "fini_array") ||
		    strstr(s->name, "ctors") || strstr(s->name, "dtors"))
			return ovup_err(-ENOTSUP,
					"%s: section %s: constructors and destructors are "
					"never run by ovup; remove them from the patch",
					p->source, s->name);
		return ovup_err(-ENOTSUP, "%s: section '%s' is not supported in a %s patch%s",
				p->source, s->name, p->t->ops->kind,
				p->t->ops->reject_hint ? p->t->ops->reject_hint(s->name) : "");
	}
	if (p->obj.has_tls_relocs && !p->t->ops->tls_offset)
		return ovup_err(-ENOTSUP,
				"%s: the patch uses thread-local variables, which a %s "
				"target does not have",
				p->source, p->t->ops->kind);
	/* the other models need the loader (__tls_get_addr) or assume the
	 * patch is the executable; ovup compiles with initial-exec */
	if (p->obj.tls_other_model)
		return ovup_err(-ENOTSUP,
				"%s: thread-local variable '%s' is accessed with the %s "
				"model; ovup links only initial-exec accesses: compile "
				"with -ftls-model=initial-exec (as 'ovup apply' and "
				"'ovup build' do)",
				p->source, p->obj.tls_other_sym, p->obj.tls_other_model);
	return 0;
}

/* The first part of the resolve step: the patch as an object ovup can
 * load, with its selectors. */
int ovup_plan_read_patch(struct ovup_plan *p)
{
	int ret;

	ret = compile(p);
	if (ret)
		return ret;
	ret = ovup_elf_obj_read(p->objpath, &p->obj);
	if (ret == -ENOEXEC)
		return ovup_err(ret,
				"%s: not a whole ELF object (truncated or corrupt); build it "
				"again with 'ovup build'",
				p->objpath);
	if (ret)
		return ovup_err(ret, "%s: cannot read it as an ELF object: %s", p->objpath,
				strerror(-ret));
	ret = ovup_plan_check_sections(p);
	if (!ret)
		ret = parse_meta(p);
	return ret;
}
