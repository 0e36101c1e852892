// SPDX-License-Identifier: MIT
/*
 * Steps 4 and 5, mapfile and link: the linker script that places the patch
 * at its blocks (the text itself is mapfile.c's), ld, the trampolines of
 * OVUP_ORIG, the register contracts (contract.c) and each function's jump.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file of the scratch directory: nothing reads it after a crash, so
 * it needs no fsync. */
static int write_scratch(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), ret = 0;
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/* Step 4, mapfile: the linker script, written to the scratch directory.
 * Called once per apply, after alloc: the trampolines of OVUP_ORIG get
 * their addresses here, after the patch's code, and the wrappers' slots
 * after them. */
int ovup_step_mapfile(struct ovup_plan *p)
{
	uint64_t rob = p->data.addr ? p->data.addr
				    : p->text.addr + OVUP_ALIGN_UP(p->text_size, OVUP_PAGE);
	uint64_t tramp = p->text.addr + p->code_size;
	struct ovup_mapfile_in in = { 0 };
	char *path;
	size_t i;
	int ret;

	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		char name[512];

		if (!f->want_orig)
			continue;
		f->tramp_addr = tramp;
		tramp += OVUP_ALIGN_UP(OVUP_ARCH_TRAMP_MAX, 16);
		snprintf(name, sizeof(name), OVUP_ORIG_PREFIX "%s", f->name);
		ovup_plan_add_label(p, name, f->tramp_addr, -1);
	}
	for (i = 0; i < p->nfuncs && p->t->ops->callers_assume_clobbers; i++)
		p->funcs[i].wrap_addr = p->text.addr + p->wrap_base +
					i * OVUP_ALIGN_UP(OVUP_ARCH_WRAP_MAX, 16);
	in.title = p->name;
	in.text_base = p->text.addr;
	in.ro_base = p->ro_base = rob;
	in.rw_base = p->rw_base = rob + OVUP_ALIGN_UP(p->ro_size, OVUP_PAGE);
	in.labels = p->labels;
	in.nlabels = p->nlabels;
	in.tls = p->tls;
	in.ntls = p->ntls;
	in.keep_ro = p->t->ops->mapfile_keep_ro;
	in.discard = p->t->ops->mapfile_discard;
	in.keep_text = p->t->ops->mapfile_keep_text;
	p->mapfile = ovup_mapfile(&in);
	path = ovup_xasprintf("%s/mapfile.ld", p->tmp);
	ret = write_scratch(path, p->mapfile);
	free(path);
	if (ret)
		return ovup_err(ret, "cannot write the mapfile in %s: %s", p->tmp, strerror(-ret));
	return 0;
}

/* The trampolines OVUP_ORIG calls, relocated for their final address and
 * loaded with the image. */
static int build_trampolines(struct ovup_plan *p)
{
	size_t i;

	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		struct ovup_img_sec *s;
		uint8_t buf[OVUP_ARCH_TRAMP_MAX];
		char why[256] = "";
		struct ovup_reloc_in in = { .code = f->code + f->keep,
					    .len = f->ncode - f->keep,
					    .site = f->site,
					    .min_len = f->len,
					    .prefix = f->prefix,
					    .nprefix = f->nprefix,
					    .to = f->tramp_addr };
		struct ovup_reloc_out out = { .buf = buf,
					      .max = sizeof(buf),
					      .why = why,
					      .whylen = sizeof(why) };
		int len;

		if (!f->want_orig)
			continue;
		len = ovup_arch_relocate(&in, &out);
		if (len < 0)
			return ovup_err(len, "%s: OVUP_ORIG(%s): %s", p->t->desc, f->name, why);
		p->img.secs = ovup_xrealloc(p->img.secs, (p->img.nsecs + 1) * sizeof(*p->img.secs));
		s = &p->img.secs[p->img.nsecs++];
		memset(s, 0, sizeof(*s));
		s->name = ovup_xasprintf("ovup.orig.%s", f->name);
		s->addr = f->tramp_addr;
		s->size = (uint64_t)len;
		s->data = ovup_xmalloc((size_t)len);
		memcpy(s->data, buf, (size_t)len);
	}
	return 0;
}

/* The object ld links: the patch's own, or a copy whose initial-exec
 * accesses read the slots of the mapfile (see ovup_elf_obj_tls_slots):
 * ld itself would refuse a TLS access of a symbol the mapfile defines,
 * and turn a GOT slot's offset into a different one, its own. */
static int link_object(struct ovup_plan *p, char **obj)
{
	size_t n = 0;
	int ret;

	*obj = ovup_xstrdup(p->objpath);
	if (!p->ntls)
		return 0;
	free(*obj);
	*obj = ovup_xasprintf("%s/patch-tls.o", p->tmp);
	ret = ovup_elf_obj_tls_slots(p->objpath, *obj, &n);
	if (ret)
		return ovup_err(ret,
				"%s: cannot point its thread-local accesses at their slots: %s",
				p->source, strerror(-ret));
	ovup_info("%s: %zu initial-exec access(es) of %zu thread-local variable(s)", p->source, n,
		  p->ntls);
	return 0;
}

/* ld, with the mapfile: an image that needs no relocation at run time. */
static int run_ld(struct ovup_plan *p, const char *map, const char *obj, const char *out)
{
	char *ld = getenv("OVUP_LD") && *getenv("OVUP_LD") ? getenv("OVUP_LD") : "ld";
	char *argv[] = {
		ld,
		"-o",
		(char *)out,
		"-T",
		(char *)map,
		"-e",
		"0",
		/* keep every GOT slot: relaxing a GOT load to an immediate
		 * would assume the target's addresses fit in 32 bits */
		"--no-relax",
		"-nostdlib",
		"--build-id=none",
		"-z",
		"noexecstack",
		"-z",
		"norelro",
		"--no-warn-rwx-segments",
		"--orphan-handling=error",
		(char *)obj,
		NULL,
	};
	char *output = NULL;
	int ret;

	ret = ovup_run(argv, &output);
	if (ret) {
		if (output && *output)
			fputs(output, stderr);
		ret = ret < 0 ? ovup_err(ret, "cannot run the linker '%s': %s; install binutils",
					 ld, strerror(-ret))
			      : ovup_err(-EINVAL,
					 "%s: ld failed to link the patch (messages above)",
					 p->source);
	}
	free(output);
	return ret;
}

/* The linked image, which must need no PLT and no run-time relocation:
 * nothing relocates it after ld. */
static int read_image(struct ovup_plan *p, const char *out, struct ovup_img *img)
{
	size_t i;
	int ret;

	ret = ovup_elf_img_read(out, img);
	if (ret)
		return ovup_err(ret, "%s: cannot read the linked image", out);
	for (i = 0; i < img->nsecs; i++) {
		const struct ovup_img_sec *s = &img->secs[i];

		if (s->size && (!strcmp(s->name, ".plt") || !strcmp(s->name, ".rela.dyn")))
			return ovup_err(-ENOTSUP,
					"%s: the linked patch needs %s (run-time "
					"relocation), which ovup does not do; is an "
					"IFUNC defined in the patch?",
					p->source, s->name);
	}
	return 0;
}

/* Each replaced function's new code, as the image has it. */
static int find_new_code(struct ovup_plan *p)
{
	size_t i, k;

	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];

		for (k = 0; k < p->img.nsyms; k++)
			if (p->img.syms[k].bind != OVUP_BIND_LOCAL &&
			    !strcmp(p->img.syms[k].name, f->name))
				break;
		if (k == p->img.nsyms)
			return ovup_err(-ENOENT, "%s: '%s' is missing from the linked image",
					p->source, f->name);
		f->new_addr = p->img.syms[k].value;
	}
	return 0;
}

/* The jump each site will hold. */
static int make_jumps(struct ovup_plan *p)
{
	size_t i;

	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		/* callers reach the new code through its wrapper, if any */
		uint64_t to = f->wrap_len ? f->wrap_addr : f->new_addr;

		if (ovup_arch_jump(f->site, to, f->jump) < 0)
			return ovup_err(-ERANGE,
					"%s: function '%s': 0x%" PRIx64 " is out of the "
					"jump's reach from 0x%" PRIx64,
					p->t->desc, f->name, to, f->site);
	}
	return 0;
}

/* The mapfile's layout, labels and slots, for ovup's own link. */
static struct ovup_link_sym *link_in(const struct ovup_plan *p, struct ovup_link_in *in)
{
	struct ovup_link_sym *v = ovup_xcalloc(p->nlabels + p->ntls + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < p->nlabels; i++)
		v[i] = (struct ovup_link_sym){ p->labels[i].name, p->labels[i].addr };
	for (i = 0; i < p->ntls; i++)
		v[p->nlabels + i] = (struct ovup_link_sym){ p->tls[i].name, p->tls[i].addr };
	memset(in, 0, sizeof(*in));
	in->text_base = p->text.addr;
	in->ro_base = p->ro_base;
	in->rw_base = p->rw_base;
	in->labels = v;
	in->nlabels = p->nlabels;
	in->tls = v + p->nlabels;
	in->ntls = p->ntls;
	in->keep_text = p->t->ops->mapfile_keep_text;
	in->keep_ro = p->t->ops->mapfile_keep_ro;
	in->discard = p->t->ops->mapfile_discard;
	return v;
}

/* ld's image of the patch, from the mapfile. */
static int ld_link(struct ovup_plan *p, struct ovup_img *img)
{
	char *map = ovup_xasprintf("%s/mapfile.ld", p->tmp);
	char *out = ovup_xasprintf("%s/patch.elf", p->tmp);
	char *obj = NULL;
	int ret;

	ret = link_object(p, &obj);
	if (!ret)
		ret = run_ld(p, map, obj, out);
	if (!ret)
		ret = read_image(p, out, img);
	free(obj);
	free(map);
	free(out);
	return ret;
}

/* The link itself: ovup's own where the target allows and it can link
 * the object as ld would (elf/link.c), else ld with the mapfile.
 * OVUP_LINK=ld always runs ld; OVUP_LINK=both runs both and refuses to go
 * on unless their images mean the same (tests/proc/24-link.t). */
static int link_image(struct ovup_plan *p)
{
	const char *mode = getenv("OVUP_LINK") ? getenv("OVUP_LINK") : "";
	struct ovup_link_in in;
	struct ovup_link_sym *v;
	struct ovup_img ld = { 0 };
	char why[512];
	int ret;

	if (!p->t->ops->own_link || !strcmp(mode, "ld"))
		return ld_link(p, &p->img);
	v = link_in(p, &in);
	ret = ovup_elf_link(p->objpath, &in, &p->img, why, sizeof(why));
	if (ret == -EOPNOTSUPP) {
		ovup_info("%s: linked by ld: ovup's link does not do %s", p->source, why);
		ret = ld_link(p, &p->img);
	} else if (ret) {
		ret = ovup_err(ret, "%s: cannot link it: %s", p->objpath, strerror(-ret));
	} else if (!strcmp(mode, "both")) {
		ret = ld_link(p, &ld);
		if (!ret)
			ret = ovup_elf_link_compare(p->objpath, &in, &p->img, &ld, why,
						    sizeof(why));
		if (ret)
			ret = ovup_err(ret ? ret : -EINVAL,
				       "%s: OVUP_LINK=both: ovup's link and ld's differ: %s",
				       p->source, why);
		else
			ovup_info("%s: OVUP_LINK=both: ovup's link and ld's agree: %s", p->source,
				  why);
		ovup_elf_img_free(&ld);
	}
	free(v);
	return ret;
}

/* Step 5, link: the patch placed as the mapfile says; then the target's
 * fixups, the trampolines, the register contracts (contract.c) and the
 * jumps. */
int ovup_step_link(struct ovup_plan *p)
{
	int ret;

	ret = link_image(p);
	if (!ret && p->t->ops->fixup)
		ret = p->t->ops->fixup(p->t, &p->img, &p->st);
	if (!ret)
		ret = build_trampolines(p);
	if (!ret)
		ret = find_new_code(p);
	if (!ret)
		ret = ovup_plan_contracts(p);
	if (!ret)
		ret = make_jumps(p);
	return ret;
}
