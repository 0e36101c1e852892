// SPDX-License-Identifier: MIT
/*
 * The paper's procedure, one function per step: labels, size, alloc,
 * mapfile, link, load, protect, branch.  ovup_apply() runs them in order;
 * every step after alloc undoes what came before it when it fails, so a
 * failed apply leaves the target as it found it.  docs/procedure.md has the
 * same steps in prose.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../arch/arch.h"
#include "../target/target.h"
#include "../util/util.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ull
#define ORIG_PREFIX "__ovup_orig_" /* include/ovup.h's OVUP_ORIG */
#define REACH (1ull << 31) /* what a jmp rel32 reaches */

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

static struct ovup_selector *selector_for(struct ovup_plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nsels; i++)
		if (!strcmp(p->sels[i].name, name))
			return &p->sels[i];
	p->sels = ovup_xrealloc(p->sels, (p->nsels + 1) * sizeof(*p->sels));
	memset(&p->sels[p->nsels], 0, sizeof(p->sels[0]));
	p->sels[p->nsels].name = ovup_symtab_intern(&p->st, name);
	return &p->sels[p->nsels++];
}

/* .ovup.meta holds NUL-separated "object|file|sympos NAME VALUE" entries
 * written by the macros of include/ovup.h. */
static int parse_meta(struct ovup_plan *p)
{
	size_t off = 0;

	while (off < p->obj.metalen) {
		const char *e = p->obj.meta + off;
		size_t len = strnlen(e, p->obj.metalen - off);
		char kind[16], name[256], value[1024];
		struct ovup_selector *sel;

		off += len + 1;
		if (!len)
			continue;
		if (sscanf(e, "%15s %255s %1023[^\n]", kind, name, value) != 3)
			return ovup_err(-EINVAL, "%s: malformed .ovup.meta entry '%s'", p->source, e);
		sel = selector_for(p, name);
		if (!strcmp(kind, "object")) {
			sel->object = ovup_symtab_intern(&p->st, value);
		} else if (!strcmp(kind, "file")) {
			sel->file = ovup_symtab_intern(&p->st, value);
		} else if (!strcmp(kind, "sympos")) {
			sel->pos = (unsigned)strtoul(value, NULL, 10);
			if (!sel->pos)
				return ovup_err(-EINVAL, "%s: OVUP_SYMPOS(%s, %s): positions start at 1",
						p->source, name, value);
		} else {
			return ovup_err(-EINVAL, "%s: unknown .ovup.meta entry '%s'", p->source, e);
		}
	}
	return 0;
}

static void add_label(struct ovup_plan *p, const char *name, uint64_t addr, long obj)
{
	p->labels = ovup_xrealloc(p->labels, (p->nlabels + 1) * sizeof(*p->labels));
	p->labels[p->nlabels].name = ovup_symtab_intern(&p->st, name);
	p->labels[p->nlabels].addr = addr;
	p->labels[p->nlabels].obj = obj;
	p->nlabels++;
}

/* ---- step 1: labels ---- */

int ovup_step_labels(struct ovup_plan *p)
{
	int ret = p->t->ops->labels(p->t, &p->st);

	if (ret)
		return ret;
	if (!p->st.nsyms)
		return ovup_err(-ENOENT, "%s: found no symbols at all", p->t->desc);
	return 0;
}

/* ---- step 2: size ---- */

static int compile(struct ovup_plan *p)
{
	int elf = is_elf_file(p->source);
	int ret;

	if (elf < 0)
		return ovup_err(elf, "%s: %s; give a patch file (.c) or an object from 'ovup build'",
				p->source, strerror(-elf));
	if (elf) {
		p->objpath = ovup_xstrdup(p->source);
		return 0;
	}
	if (strlen(p->source) < 2 || strcmp(p->source + strlen(p->source) - 2, ".c"))
		return ovup_err(-EINVAL, "%s: neither C (a .c file) nor an ELF object (it does not "
					 "start with \\x7fELF); give a patch file (.c) or an object "
					 "from 'ovup build'",
				p->source);
	if (has_nul(p->source))
		return ovup_err(-EINVAL, "%s: binary data, neither C nor an ELF object (it does not "
					 "start with \\x7fELF); give a patch file (.c) or an object "
					 "from 'ovup build'",
				p->source);
	p->objpath = ovup_xasprintf("%s/patch.o", p->tmp);
	ret = p->t->ops->compile(p->t, p->source, p->objpath, p->o->cflags, p->o->ncflags);
	return ret;
}

static int check_sections(struct ovup_plan *p)
{
	size_t i;

	if (p->obj.type != ET_REL)
		return ovup_err(-EINVAL, "%s: not a relocatable object; give the .c file or the "
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
			return ovup_err(-ENOTSUP, "%s: section %s: thread-local variables cannot be "
						  "added by a patch; use a global instead",
					p->source, s->name);
		if (strstr(s->name, "init_array") || strstr(s->name, "fini_array") ||
		    strstr(s->name, "ctors") || strstr(s->name, "dtors"))
			return ovup_err(-ENOTSUP, "%s: section %s: constructors and destructors are "
						  "never run by ovup; remove them from the patch",
					p->source, s->name);
		return ovup_err(-ENOTSUP, "%s: section '%s' is not supported in a %s patch%s",
				p->source, s->name, p->t->ops->kind,
				p->t->ops->reject_hint ? p->t->ops->reject_hint(s->name) : "");
	}
	if (p->obj.has_tls_relocs)
		return ovup_err(-ENOTSUP, "%s: the patch accesses thread-local variables directly; "
					  "that is not supported yet",
				p->source);
	return 0;
}

/* Replacing an IFUNC's symbol would replace its resolver, which already
 * ran: replace the implementation the target's loader selected. */
static int resolve_ifunc_target(struct ovup_plan *p, const char *name, const struct ovup_sym **old)
{
	const struct ovup_object *o = &p->st.objs[(*old)->obj];
	const struct ovup_sym *impl = NULL;
	uint64_t addr = 0;
	int ret;

	ret = p->t->ops->resolve_ifunc ? p->t->ops->resolve_ifunc(p->t, &p->st, *old, &addr)
				       : -ENOTSUP;
	if (ret)
		return ovup_err(-ENOTSUP, "function '%s' in %s is an IFUNC and the implementation "
					  "this process selected cannot be found; replacing the "
					  "resolver would change nothing",
				name, o->name);
	impl = ovup_symtab_by_addr(&p->st, addr);
	if (!impl || impl->addr != addr || !impl->size) {
		char *pkg = ovup_debug_package(o->path);

		ret = ovup_err(-ENOTSUP, "function '%s' in %s is an IFUNC; this process selected "
					  "the implementation at 0x%" PRIx64 ", which has no symbol "
					  "with a size; install %s's debug symbols%s%s%s%s%s",
				name, o->name, addr, o->name, o->debug_hint ? " (" : "",
				o->debug_hint ? o->debug_hint : "", pkg ? ", package " : "", pkg ? pkg : "",
				o->debug_hint ? ")" : "");
		free(pkg);
		return ret;
	}
	ovup_info("%s: '%s' is an IFUNC: replacing the implementation it selected, '%s'",
		  p->t->desc, name, impl->name);
	*old = impl;
	return 0;
}

/* DWARF may show the function also inlined elsewhere: those copies keep
 * the old code, which the user must hear before the switch. */
static void warn_inlined(struct ovup_plan *p, const char *name, const struct ovup_sym *old)
{
	char **callers = NULL;
	size_t n = 0, i;
	struct ovup_buf b = { 0 };

	if (!p->t->ops->inlined || p->t->ops->inlined(p->t, &p->st, old, &callers, &n) || !n)
		goto out;
	for (i = 0; i < n && i < 10; i++)
		ovup_buf_printf(&b, "%s%s", i ? ", " : "", callers[i]);
	if (n > 10)
		ovup_buf_printf(&b, " and %zu more", n - 10);
	ovup_warn("%s: function '%s' is also inlined into %s; those copies keep running the old "
		  "code: replace them in the patch too",
		  p->t->desc, name, b.s);
out:
	for (i = 0; i < n; i++)
		free(callers[i]);
	free(callers);
	ovup_buf_free(&b);
}

static int plan_functions(struct ovup_plan *p)
{
	size_t i, k;
	long scope = -2;
	int ret;

	for (i = 0; i < p->obj.nsyms; i++) {
		struct ovup_obj_sym *s = &p->obj.syms[i];
		const struct ovup_sym *old;
		struct ovup_pfunc *f;

		if (!s->defined || s->bind == OVUP_BIND_LOCAL)
			continue;
		if (s->type == OVUP_SYM_OBJECT) {
			size_t first, n;

			ovup_symtab_lookup(&p->st, s->name, &first, &n);
			if (n)
				return ovup_err(-EEXIST,
						"%s: variable '%s' is defined by the patch and also "
						"exists in the target; declare it 'extern' to use the "
						"target's, or 'static' for a new one",
						p->source, s->name);
			continue;
		}
		if (s->type == OVUP_SYM_IFUNC)
			return ovup_err(-ENOTSUP, "%s: '%s' is an IFUNC (a resolver): ovup runs no "
						  "resolvers; define the implementation itself",
					p->source, s->name);
		if (s->type != OVUP_SYM_FUNC)
			continue;
		ret = ovup_symtab_resolve_func(&p->st, selector_for(p, s->name), &old);
		if (ret)
			return ret;
		if (old->type == OVUP_SYM_IFUNC) {
			ret = resolve_ifunc_target(p, s->name, &old);
			if (ret)
				return ret;
		}
		warn_inlined(p, s->name, old);
		for (k = 0; k < p->nfuncs; k++)
			if (p->funcs[k].old->addr == old->addr)
				return ovup_err(-EINVAL, "%s: '%s' and '%s' are the same function in "
							 "the target; define only one",
						p->source, p->funcs[k].name, s->name);
		p->funcs = ovup_xrealloc(p->funcs, (p->nfuncs + 1) * sizeof(*p->funcs));
		f = &p->funcs[p->nfuncs++];
		memset(f, 0, sizeof(*f));
		f->name = ovup_symtab_intern(&p->st, s->name);
		f->old = old;
		scope = scope == -2 || scope == (long)old->obj ? (long)old->obj : -1;
	}
	if (!p->nfuncs)
		return ovup_err(-EINVAL, "%s: the patch defines no function to replace (each "
					 "non-static function replaces the target's function of the "
					 "same name)",
				p->source);
	p->scope = scope < 0 ? -1 : scope;
	/* OVUP_ORIG(fn) leaves an undefined __ovup_orig_fn behind */
	for (i = 0; i < p->obj.nsyms; i++) {
		const char *n = p->obj.syms[i].name;

		if (p->obj.syms[i].defined || strncmp(n, ORIG_PREFIX, strlen(ORIG_PREFIX)))
			continue;
		for (k = 0; k < p->nfuncs; k++)
			if (!strcmp(p->funcs[k].name, n + strlen(ORIG_PREFIX)))
				break;
		if (k == p->nfuncs)
			return ovup_err(-EINVAL, "%s: OVUP_ORIG(%s): the patch does not replace '%s', "
						 "so there is no original to call",
					p->source, n + strlen(ORIG_PREFIX), n + strlen(ORIG_PREFIX));
		p->funcs[k].want_orig = 1;
	}
	return 0;
}

static int plan_refs(struct ovup_plan *p)
{
	size_t i, k;
	int ret;

	for (i = 0; i < p->obj.nsyms; i++) {
		struct ovup_obj_sym *s = &p->obj.syms[i];
		const struct ovup_sym *ref;
		uint64_t addr;

		if (s->defined || !strcmp(s->name, "_GLOBAL_OFFSET_TABLE_") ||
		    !strncmp(s->name, ORIG_PREFIX, strlen(ORIG_PREFIX)))
			continue;
		for (k = 0; k < p->nlabels; k++)
			if (!strcmp(p->labels[k].name, s->name))
				break;
		if (k < p->nlabels)
			continue;
		ret = ovup_symtab_resolve_ref(&p->st, selector_for(p, s->name), p->scope, &ref);
		if (ret)
			return ret;
		addr = ref->addr;
		if (ref->type == OVUP_SYM_IFUNC) {
			/* calling the resolver would return a pointer, not do
			 * the work: use what the target's loader selected */
			ret = p->t->ops->resolve_ifunc
				      ? p->t->ops->resolve_ifunc(p->t, &p->st, ref, &addr)
				      : -ENOTSUP;
			if (ret)
				return ovup_err(ret, "symbol '%s' used by the patch is an IFUNC in %s "
						     "and the implementation the target selected "
						     "cannot be found",
						s->name, p->st.objs[ref->obj].name);
		}
		add_label(p, s->name, addr, (long)ref->obj);
	}
	return 0;
}

/* The old function's bytes (up to 64 KiB), for the decoder. */
static int read_function(struct ovup_plan *p, struct ovup_pfunc *f)
{
	f->ncode = (size_t)OVUP_MIN(f->old->size, 65536);
	f->code = ovup_xmalloc(f->ncode);
	return p->t->ops->read(p->t, f->old->addr, f->code, f->ncode);
}

#define MAX_CANDIDATES 64

/* Code elsewhere in the object (inline asm, hand-written assembly) that
 * branches into the bytes the jump replaces would land in the middle of
 * it.  A byte scan of the object's code finds every place that could be
 * such a branch; each is decoded with the function around it.  Where no
 * symbol says which function that is, ovup cannot tell, and refuses. */
static int check_foreign_branches(struct ovup_plan *p, struct ovup_pfunc *f)
{
	uint64_t cand[MAX_CANDIDATES], start, from;
	uint8_t *code = NULL;
	size_t len, n, i;
	int ret = 0;

	if (!p->t->ops->code_at || p->t->ops->code_at(p->t, f->site, &code, &start, &len))
		return 0;
	n = ovup_arch_branch_candidates(code, len, start, f->site, f->site + f->cover, cand,
					MAX_CANDIDATES);
	for (i = 0; i < n && i < MAX_CANDIDATES && !ret; i++) {
		const struct ovup_sym *s = ovup_symtab_by_addr(&p->st, cand[i]);

		if (cand[i] >= f->old->addr && cand[i] < f->old->addr + f->old->size)
			continue; /* the function's own code: decoded already */
		if (s && s->size && cand[i] >= s->addr && cand[i] < s->addr + s->size &&
		    s->addr >= start && s->addr + s->size <= start + len) {
			if (ovup_arch_branch_into(code + (s->addr - start), (size_t)s->size, s->addr,
						  f->site, f->site + f->cover, &from) == 1)
				ret = ovup_err(-ENOTSUP, "%s: function '%s': the branch at %s+0x%" PRIx64
							 " lands inside the %u bytes the jump "
							 "replaces; ovup cannot patch it safely",
					       p->t->desc, f->name, s->name, from - s->addr, f->cover);
			continue;
		}
		ret = ovup_err(-ENOTSUP, "%s: function '%s': the bytes at 0x%" PRIx64 ", in no known "
					 "function, may be a branch into the %u bytes the jump "
					 "replaces; ovup cannot tell, and does not patch it",
			       p->t->desc, f->name, cand[i], f->cover);
	}
	if (!ret && n > MAX_CANDIDATES)
		ret = ovup_err(-ENOTSUP, "%s: function '%s': %zu places may branch into the bytes the "
					 "jump replaces; ovup does not patch it",
			       p->t->desc, f->name, n);
	free(code);
	return ret;
}

/* The branch replaces whole instructions (cover >= 5 bytes); nothing in
 * the function may branch into them, and OVUP_ORIG needs them moved. */
static int check_displaced(struct ovup_plan *p, struct ovup_pfunc *f)
{
	const uint8_t *at = f->code + f->keep;
	size_t left = f->ncode - f->keep;
	uint64_t from;
	char why[256] = "";
	uint8_t tramp[OVUP_ARCH_TRAMP_MAX];
	size_t covered = 0;
	int len;

	f->cover = (uint32_t)ovup_arch_insn_cover(at, left, f->site, f->len);
	if (!f->cover)
		return ovup_err(-EINVAL, "%s: function '%s': its first bytes do not decode as "
					 "x86-64 instructions",
				p->t->desc, f->name);
	if (ovup_arch_branch_into(f->code, f->ncode, f->old->addr, f->site, f->site + f->cover,
				  &from) == 1)
		return ovup_err(-ENOTSUP, "%s: function '%s': the branch at %s+0x%" PRIx64 " lands "
					  "inside the %u bytes the jump replaces; ovup cannot patch it "
					  "safely",
				p->t->desc, f->name, f->name, from - f->old->addr, f->cover);
	len = check_foreign_branches(p, f);
	if (len)
		return len;
	if (!f->want_orig)
		return 0;
	/* an endbr64 kept at the entry starts the trampoline too */
	if (f->keep && ovup_arch_entry_keep(f->code, f->keep) == f->keep) {
		memcpy(f->prefix, f->code, f->keep);
		f->nprefix = f->keep;
	}
	len = ovup_arch_relocate(at, left, f->site, f->len, f->prefix, f->nprefix, f->site, tramp,
				 sizeof(tramp), &covered, why, sizeof(why));
	if (len < 0)
		return ovup_err(len, "%s: OVUP_ORIG(%s): the instructions the jump displaces cannot "
				     "be moved: %s",
				p->t->desc, f->name, why);
	f->tramp_len = (uint32_t)len;
	return 0;
}

/* Whether a record says ovup's own jump is in the function. */
static int stacked(const struct ovup_records *rs, uint64_t func)
{
	size_t i, k;

	for (i = 0; i < rs->n; i++)
		for (k = 0; k < rs->r[i].nfuncs; k++)
			if (rs->r[i].funcs[k].old_addr == func)
				return 1;
	return 0;
}

/* Reads each function's first bytes and decides where its branch goes,
 * refusing sites another tool (or a debugger) has changed. */
static int plan_sites(struct ovup_plan *p)
{
	size_t i;
	int ret;

	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		const struct ovup_rec_func *rf = NULL;
		const struct ovup_record *top;
		const struct ovup_object *o = &p->st.objs[f->old->obj];
		uint8_t entry[32], pristine[32];
		size_t n = sizeof(entry);
		char hex[3 * 32];

		if (f->old->size && f->old->size < n)
			n = (size_t)f->old->size;
		ret = p->t->ops->read(p->t, f->old->addr, entry, n);
		if (ret)
			return ret;
		if (p->t->ops->verify_entry) {
			ret = p->t->ops->verify_entry(p->t, &p->st, f->old, entry, n,
						      stacked(&p->rs, f->old->addr));
			if (ret)
				return ret;
		}
		ret = p->t->ops->site(p->t, entry, n, &f->keep);
		if (ret)
			return ovup_err(ret, "%s: function '%s' in %s: its entry has no patch site "
					     "ovup can use%s",
					p->t->desc, f->name, o->name,
					p->t->ops->no_site_hint ? p->t->ops->no_site_hint : "");
		f->len = ovup_arch_jump_len;
		if (!f->old->size)
			return ovup_err(-EINVAL, "%s: function '%s' in %s has no size in the symbol "
						 "table, so ovup cannot tell that the %u-byte jump fits",
					p->t->desc, f->name, o->name, f->len);
		if (f->old->size < f->keep + f->len)
			return ovup_err(-EINVAL, "%s: function '%s' in %s is %" PRIu64 " bytes, shorter "
						 "than the %u-byte jump (plus %u kept); replace its "
						 "callers instead",
					p->t->desc, f->name, o->name, f->old->size, f->len, f->keep);
		ret = read_function(p, f);
		if (ret)
			return ret;
		/* what OVUP_ORIG moves must be the bytes just verified */
		if (memcmp(f->code, entry, OVUP_MIN(n, f->ncode)))
			return ovup_err(-EBUSY, "%s: function '%s' changed while ovup read it (a "
						"probe or another tool at work); try again",
					p->t->desc, f->name);
		f->site = f->old->addr + f->keep;
		memcpy(f->cur, entry + f->keep, f->len);
		ret = check_displaced(p, f);
		if (ret)
			return ret;
		top = ovup_records_top(&p->rs, f->site, &rf);
		if (top) {
			/* stacking on an earlier patch: it must still be there */
			f->under = ovup_symtab_intern(&p->st, top->name);
			if (memcmp(f->cur, rf->jump, f->len))
				return ovup_err(-ESTALE, "%s: function '%s': the branch written by patch "
							 "'%s' is no longer at 0x%" PRIx64 "; the "
							 "target was changed behind ovup",
						p->t->desc, f->name, f->under, f->site);
			continue;
		}
		if (p->t->ops->pristine &&
		    !p->t->ops->pristine(p->t, &p->st, f->old, f->old->addr, pristine,
					 f->keep + f->len)) {
			if (memcmp(pristine, entry, f->keep + f->len)) {
				ovup_hex_spaced(hex, entry, f->keep + f->len);
				return ovup_err(-EEXIST, "%s: function '%s' at 0x%" PRIx64 " starts with "
							 "%s, not what %s holds: another tool's hook "
							 "or a debugger's breakpoint is there; "
							 "refusing to overwrite it",
						p->t->desc, f->name, f->old->addr, hex, o->path);
			}
		} else if (p->t->ops->hooked) {
			char why[256];

			if (p->t->ops->hooked(p->t, &p->st, f->site, f->cur, why, sizeof(why))) {
				ovup_hex_spaced(hex, f->cur, f->len);
				return ovup_err(-EEXIST, "%s: function '%s' at 0x%" PRIx64 " is already "
							 "hooked by someone else: %s (%s at its "
							 "patch site); refusing to overwrite it",
						p->t->desc, f->name, f->site, why, hex);
			}
		}
	}
	return 0;
}

/* An upper bound of what a class of sections needs once ld lays them out
 * in any order: every section may need its full alignment as padding. */
static uint64_t sum_class(const struct ovup_obj *o, enum ovup_sec_class cls)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < o->nsecs; i++)
		if (o->secs[i].cls == cls)
			total += o->secs[i].size + o->secs[i].align - 1;
	return total;
}

int ovup_step_size(struct ovup_plan *p)
{
	size_t i;
	int ret;

	ret = compile(p);
	if (ret)
		return ret;
	ret = ovup_elf_obj_read(p->objpath, &p->obj);
	if (ret == -ENOEXEC)
		return ovup_err(ret, "%s: not a whole ELF object (truncated or corrupt); build it "
				     "again with 'ovup build'",
				p->objpath);
	if (ret)
		return ovup_err(ret, "%s: cannot read it as an ELF object: %s", p->objpath,
				strerror(-ret));
	ret = check_sections(p);
	if (!ret)
		ret = parse_meta(p);
	if (!ret)
		ret = plan_functions(p);
	if (!ret)
		ret = plan_refs(p);
	if (!ret)
		ret = plan_sites(p);
	if (ret)
		return ret;
	/* The sizes come from the compiled object, as in the paper; the one
	 * thing ld adds is the GOT, at most one slot per symbol plus its
	 * reserved header.  The link step checks the image fits. */
	p->text_size = sum_class(&p->obj, OVUP_SEC_TEXT);
	p->ro_size = sum_class(&p->obj, OVUP_SEC_RO);
	if (p->t->ops->links_got)
		p->ro_size += 8 * (p->obj.nsyms + 4) + 8;
	p->rw_size = sum_class(&p->obj, OVUP_SEC_RW) + sum_class(&p->obj, OVUP_SEC_BSS);
	/* trampolines for OVUP_ORIG go after the code */
	p->code_size = OVUP_ALIGN_UP(p->text_size, 16);
	p->text_size = p->code_size;
	for (i = 0; i < p->nfuncs; i++)
		if (p->funcs[i].want_orig)
			p->text_size += OVUP_ALIGN_UP(OVUP_ARCH_TRAMP_MAX, 16);
	/* and a wrapper's slot per function where callers may rely on more
	 * than the ABI: whether one is needed shows only after the link */
	p->wrap_base = p->text_size;
	if (p->t->ops->callers_assume_clobbers)
		p->text_size += p->nfuncs * OVUP_ALIGN_UP(OVUP_ARCH_WRAP_MAX, 16);
	if (!p->text_size)
		return ovup_err(-EINVAL, "%s: the patch has no code", p->source);
	return 0;
}

/* ---- step 3: alloc ---- */

int ovup_step_alloc(struct ovup_plan *p, int dry_run)
{
	uint64_t lo = 0, hi = UINT64_MAX, dsize, near;
	size_t i;
	int ret;

	for (i = 0; i < p->nfuncs; i++) {
		uint64_t from = p->funcs[i].site + p->funcs[i].len;

		lo = OVUP_MAX(lo, from > REACH - PAGE ? from - REACH + PAGE : 0);
		/* kernel addresses sit at the top: saturate, do not wrap */
		hi = OVUP_MIN(hi, from > UINT64_MAX - REACH ? UINT64_MAX : from + REACH - PAGE);
	}
	if (lo >= hi || hi - lo < p->text_size)
		return ovup_err(-ERANGE, "%s: the replaced functions lie more than 4 GiB apart, so "
					 "no block is within a 5-byte jump of all of them; split "
					 "the patch (one per object)",
				p->t->desc);
	near = p->funcs[0].site; /* close to the code it replaces */
	ret = p->t->ops->alloc(p->t, OVUP_BLOCK_TEXT, p->name, p->text_size, lo, hi, near, dry_run,
			       &p->text);
	if (ret)
		return ret;
	p->have_text = !dry_run;
	dsize = OVUP_ALIGN_UP(p->ro_size, PAGE) + OVUP_ALIGN_UP(p->rw_size, PAGE);
	if (!dsize)
		return 0;
	/* data within +-2 GiB of the code that addresses it PC-relatively */
	lo = p->text.addr + p->text.size > REACH ? p->text.addr + p->text.size - REACH + PAGE : 0;
	hi = p->text.addr > UINT64_MAX - REACH ? UINT64_MAX : p->text.addr + REACH - PAGE;
	ret = p->t->ops->alloc(p->t, OVUP_BLOCK_DATA, p->name, dsize, lo, hi, p->text.addr, dry_run,
			       &p->data);
	if (ret)
		return ret;
	p->have_data = !dry_run;
	return 0;
}

/* ---- step 4: mapfile ---- */

/* Called once per apply, after alloc: the trampolines of OVUP_ORIG get
 * their addresses here, after the patch's code, and the wrappers' slots
 * after them. */
int ovup_step_mapfile(struct ovup_plan *p)
{
	uint64_t rob = p->data.addr ? p->data.addr : p->text.addr + OVUP_ALIGN_UP(p->text_size, PAGE);
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
		snprintf(name, sizeof(name), ORIG_PREFIX "%s", f->name);
		add_label(p, name, f->tramp_addr, -1);
	}
	for (i = 0; i < p->nfuncs && p->t->ops->callers_assume_clobbers; i++)
		p->funcs[i].wrap_addr = p->text.addr + p->wrap_base +
					i * OVUP_ALIGN_UP(OVUP_ARCH_WRAP_MAX, 16);
	in.title = p->name;
	in.text_base = p->text.addr;
	in.ro_base = rob;
	in.rw_base = rob + OVUP_ALIGN_UP(p->ro_size, PAGE);
	in.labels = p->labels;
	in.nlabels = p->nlabels;
	in.keep_ro = p->t->ops->mapfile_keep_ro;
	in.discard = p->t->ops->mapfile_discard;
	p->mapfile = ovup_mapfile(&in);
	path = ovup_xasprintf("%s/mapfile.ld", p->tmp);
	ret = ovup_write_file_atomic(path, p->mapfile, strlen(p->mapfile));
	free(path);
	if (ret)
		return ovup_err(ret, "cannot write the mapfile in %s: %s", p->tmp, strerror(-ret));
	return 0;
}

/* ---- step 5: link ---- */

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
		size_t covered;
		int len;

		if (!f->want_orig)
			continue;
		len = ovup_arch_relocate(f->code + f->keep, f->ncode - f->keep, f->site, f->len,
					 f->prefix, f->nprefix, f->tramp_addr, buf, sizeof(buf), &covered,
					 why, sizeof(why));
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

int ovup_step_link(struct ovup_plan *p)
{
	char *map = ovup_xasprintf("%s/mapfile.ld", p->tmp);
	char *out = ovup_xasprintf("%s/patch.elf", p->tmp);
	char *ld = getenv("OVUP_LD") && *getenv("OVUP_LD") ? getenv("OVUP_LD") : "ld";
	char *argv[] = {
		ld, "-o", out, "-T", map, "-e", "0",
		/* keep every GOT slot: relaxing a GOT load to an immediate
		 * would assume the target's addresses fit in 32 bits */
		"--no-relax", "-nostdlib", "--build-id=none", "-z", "noexecstack",
		"-z", "norelro", "--no-warn-rwx-segments", "--orphan-handling=error",
		p->objpath, NULL,
	};
	char *output = NULL;
	size_t i;
	int ret;

	ret = ovup_run(argv, &output);
	if (ret) {
		if (output && *output)
			fputs(output, stderr);
		ret = ret < 0 ? ovup_err(ret, "cannot run the linker '%s': %s; install binutils", ld,
					 strerror(-ret))
			      : ovup_err(-EINVAL, "%s: ld failed to link the patch (messages above)",
					 p->source);
		goto out;
	}
	ret = ovup_elf_img_read(out, &p->img);
	if (ret) {
		ret = ovup_err(ret, "%s: cannot read the linked image", out);
		goto out;
	}
	for (i = 0; i < p->img.nsecs; i++) {
		const struct ovup_img_sec *s = &p->img.secs[i];

		/* nothing relocates the image after ld: it must need no PLT
		 * and no run-time relocation */
		if (s->size && (!strcmp(s->name, ".plt") || !strcmp(s->name, ".rela.dyn"))) {
			ret = ovup_err(-ENOTSUP, "%s: the linked patch needs %s (run-time "
						 "relocation), which ovup does not do; is an IFUNC "
						 "defined in the patch?",
				       p->source, s->name);
			goto out;
		}
	}
	if (p->t->ops->fixup) {
		ret = p->t->ops->fixup(p->t, &p->img, &p->st);
		if (ret)
			goto out;
	}
	ret = build_trampolines(p);
	if (ret)
		goto out;
	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		size_t k;

		for (k = 0; k < p->img.nsyms; k++)
			if (p->img.syms[k].bind != OVUP_BIND_LOCAL &&
			    !strcmp(p->img.syms[k].name, f->name))
				break;
		if (k == p->img.nsyms) {
			ret = ovup_err(-ENOENT, "%s: '%s' is missing from the linked image", p->source,
				       f->name);
			goto out;
		}
		f->new_addr = p->img.syms[k].value;
	}
	ret = ovup_plan_contracts(p);
	if (ret)
		goto out;
	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		/* callers reach the new code through its wrapper, if any */
		uint64_t to = f->wrap_len ? f->wrap_addr : f->new_addr;

		if (ovup_arch_jump(f->site, to, f->jump) < 0) {
			ret = ovup_err(-ERANGE, "%s: function '%s': 0x%" PRIx64 " is out of the "
						"jump's reach from 0x%" PRIx64,
				       p->t->desc, f->name, to, f->site);
			goto out;
		}
	}
out:
	free(output);
	free(map);
	free(out);
	return ret;
}

/* ---- step 6: load ---- */

static int in_block(const struct ovup_block *b, uint64_t a, uint64_t n)
{
	return b->size && a >= b->addr && a + n <= b->addr + b->size;
}

int ovup_step_load(struct ovup_plan *p)
{
	size_t i;
	int ret;

	for (i = 0; i < p->img.nsecs; i++) {
		const struct ovup_img_sec *s = &p->img.secs[i];

		if (!in_block(&p->text, s->addr, s->size) && !in_block(&p->data, s->addr, s->size))
			return ovup_err(-EFAULT, "%s: section %s (0x%" PRIx64 ", %" PRIu64 " bytes) "
						 "falls outside the allocated blocks",
					p->source, s->name, s->addr, s->size);
		if (s->nobits)
			continue; /* blocks start zero-filled */
		ret = p->t->ops->copyin(p->t, s->addr, s->data, s->size);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- step 7: protect ---- */

/* Only what is not already right: a block mapped r-x stays untouched, so
 * a process whose filter forbids any mprotect() to PROT_EXEC (systemd's
 * MemoryDenyWriteExecute) can still be patched. */
static int protect(struct ovup_plan *p, const struct ovup_block *b, uint64_t off, uint64_t len,
		   enum ovup_prot prot)
{
	if (!len || b->prot == prot)
		return 0;
	return p->t->ops->chgprot(p->t, b->addr + off, len, prot);
}

int ovup_step_protect(struct ovup_plan *p)
{
	uint64_t ro = OVUP_ALIGN_UP(p->ro_size, PAGE), rw = OVUP_ALIGN_UP(p->rw_size, PAGE);
	int ret;

	ret = protect(p, &p->text, 0, p->text.size, OVUP_PROT_READ_EXEC);
	if (!ret)
		ret = protect(p, &p->data, 0, ro, OVUP_PROT_READ);
	if (!ret)
		ret = protect(p, &p->data, ro, rw, OVUP_PROT_READ_WRITE);
	return ret;
}

/* ---- step 8: branch ---- */

/* Runs a transaction with bounded retries while a thread is in the way. */
int ovup_switch(struct ovup_target *t, struct ovup_txn *txn, unsigned retries,
		const struct ovup_symtab *st)
{
	unsigned attempt, delay = 200;
	int ret;

	for (attempt = 0;; attempt++) {
		memset(&txn->busy, 0, sizeof(txn->busy));
		ret = t->ops->stop(t);
		if (ret)
			return ret;
		ret = t->ops->pawrite(t, txn);
		{
			int r2 = t->ops->resume(t, txn);

			if (!ret && r2)
				ret = r2;
		}
		if (ret != -EBUSY || attempt >= retries || ovup_signalled)
			break; /* busy: nothing was switched, stopping is free */
		ovup_sleep_us(delay);
		delay = OVUP_MIN(delay * 2, 50000u);
	}
	if (ret == -EBUSY && ovup_signalled)
		return ovup_check_signal("nothing was switched");
	/* busy for a reason of the target's own, which it has said */
	if (ret == -EBUSY && !txn->busy.tid && !txn->busy.addr && ovup_err_msg())
		return ret;
	if (ret == -EBUSY) {
		char where[256];
		const struct ovup_sym *s = st ? ovup_symtab_by_addr(st, txn->busy.addr) : NULL;

		if (s)
			snprintf(where, sizeof(where), "%s+0x%" PRIx64, s->name, txn->busy.addr - s->addr);
		else
			snprintf(where, sizeof(where), "0x%" PRIx64, txn->busy.addr);
		return ovup_err(-EBUSY, "%s: thread %d (%s) %s at %s after %u attempts; try again",
				t->desc, txn->busy.tid, txn->busy.comm,
				txn->busy.unwind_failed ? "has a stack ovup cannot unwind"
				: txn->busy.returns	? "sleeps in a call that returns into the bytes "
							  "to be changed"
							: "is executing the bytes to be changed",
				where, attempt + 1);
	}
	return ret;
}

static void fill_record(struct ovup_plan *p, struct ovup_record *r, uint64_t seq)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->name = ovup_xstrdup(p->name);
	r->source = ovup_xstrdup(p->source);
	r->seq = seq;
	r->time = (int64_t)time(NULL);
	r->state = OVUP_REC_PENDING;
	r->blocks = ovup_xcalloc(2, sizeof(*r->blocks));
	if (p->text.size)
		r->blocks[r->nblocks++] = (struct ovup_rec_block){ p->text.addr, p->text.size, p->text.kind };
	if (p->data.size)
		r->blocks[r->nblocks++] = (struct ovup_rec_block){ p->data.addr, p->data.size, p->data.kind };
	r->funcs = ovup_xcalloc(p->nfuncs, sizeof(*r->funcs));
	r->nfuncs = p->nfuncs;
	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_rec_func *f = &r->funcs[i];

		f->name = ovup_xstrdup(p->funcs[i].name);
		f->object = ovup_xstrdup(p->st.objs[p->funcs[i].old->obj].path);
		f->old_addr = p->funcs[i].old->addr;
		f->old_size = p->funcs[i].old->size;
		f->site = p->funcs[i].site;
		f->new_addr = p->funcs[i].new_addr;
		f->len = p->funcs[i].len;
		memcpy(f->saved, p->funcs[i].cur, f->len);
		memcpy(f->jump, p->funcs[i].jump, f->len);
	}
}

/* One address in each object, other than the main one, that a label was
 * resolved in: the objects the patch's code or data refers to. */
static struct ovup_dep *plan_deps(const struct ovup_plan *p, size_t *n)
{
	struct ovup_dep *deps = ovup_xcalloc(p->nlabels + 1, sizeof(*deps));
	size_t i, k;

	*n = 0;
	for (i = 0; i < p->nlabels; i++) {
		const struct ovup_label *l = &p->labels[i];

		if (l->obj < 0 || p->st.objs[l->obj].is_main)
			continue;
		for (k = 0; k < i; k++)
			if (p->labels[k].obj == l->obj)
				break;
		if (k < i)
			continue;
		deps[*n].addr = l->addr;
		deps[(*n)++].object = p->st.objs[l->obj].name;
	}
	return deps;
}

int ovup_step_branch(struct ovup_plan *p)
{
	struct ovup_txn txn = { 0 };
	struct ovup_site *sites = ovup_xcalloc(p->nfuncs, sizeof(*sites));
	struct ovup_range *ranges = ovup_xcalloc(p->nfuncs, sizeof(*ranges));
	struct ovup_block blocks[2];
	struct ovup_record *rec;
	struct ovup_dep *deps;
	uint64_t seq = 1;
	char *text = NULL, *blob;
	size_t i, nb = 0;
	int ret;

	for (i = 0; i < p->rs.n; i++)
		seq = OVUP_MAX(seq, p->rs.r[i].seq + 1);
	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];

		sites[i].addr = f->site;
		sites[i].func = f->old->addr;
		sites[i].len = f->len;
		memcpy(sites[i].expect, f->cur, f->len);
		memcpy(sites[i].write, f->jump, f->len);
		if (ovup_fault_n("stale-site", i + 1))
			sites[i].expect[0] ^= 0xff; /* test hook: as if the site changed */
		/* a thread may sit at the site (it will take the jump), never
		 * inside the bytes being replaced */
		ranges[i].start = f->site + 1;
		ranges[i].end = f->site + OVUP_MAX(f->len, f->cover);
	}
	if (p->text.size)
		blocks[nb++] = p->text;
	if (p->data.size)
		blocks[nb++] = p->data;
	/* the undo data goes to the record before the target changes */
	p->rs.r = ovup_xrealloc(p->rs.r, (p->rs.n + 1) * sizeof(*p->rs.r));
	rec = &p->rs.r[p->rs.n++];
	fill_record(p, rec, seq);
	if (p->t->ops->records_store) {
		text = ovup_records_format(&p->rs);
		ret = p->t->ops->records_store(p->t, text);
		free(text);
		if (ret)
			goto out_unrecord;
	}
	if (ovup_fault("crash-before-branch"))
		abort(); /* test hook: die with the record saying "pending" */
	rec->state = OVUP_REC_APPLIED;
	blob = ovup_record_format_one(rec);
	txn.name = p->name;
	txn.sites = sites;
	txn.nsites = p->nfuncs;
	txn.ranges = ranges;
	txn.nranges = p->nfuncs;
	txn.blocks = blocks;
	txn.nblocks = nb;
	txn.blob = blob;
	deps = plan_deps(p, &txn.ndeps);
	txn.deps = deps;
	txn.failed_dep = -1;
	ret = ovup_switch(p->t, &txn, p->o->retries, &p->st);
	free(deps);
	free(blob);
	if (ret == -ESTALE) {
		i = txn.failed_site >= 0 ? (size_t)txn.failed_site : 0;
		ret = ovup_err(-ESTALE, "%s: function '%s': the bytes at 0x%" PRIx64 " changed while "
					"the patch was prepared; nothing was switched, try again",
			       p->t->desc, p->funcs[i].name, p->funcs[i].site);
	}
	p->pause_ns = txn.pause_ns;
	p->pause_tasks = txn.stop_tasks;
	p->pause_rechecked = txn.stop_rechecked;
	if (ret && ovup_err_inconsistent()) {
		/* a restore failed: some site may still jump into the blocks.
		 * The record stays pending and keeps them; the next run rolls
		 * the patch back from the bytes it finds. */
		rec->state = OVUP_REC_PENDING;
		p->have_text = p->have_data = 0;
		goto out;
	}
	if (ret)
		goto out_unrecord;
	if (ovup_fault("crash-after-branch"))
		abort(); /* test hook: switched, but the record still says pending */
	if (p->t->ops->records_store) {
		text = ovup_records_format(&p->rs);
		ret = p->t->ops->records_store(p->t, text);
		free(text);
		if (ret) {
			/* applied, but the record still says pending: the next
			 * run confirms it from the target's bytes */
			ovup_warn("%s", ovup_err_msg());
			ovup_err_clear();
			ret = 0;
		}
	}
	p->have_text = p->have_data = 0; /* the record owns them now */
	goto out;
out_unrecord:
	ovup_record_free(rec);
	p->rs.n--;
	if (p->t->ops->records_store) {
		text = ovup_records_format(&p->rs);
		p->t->ops->records_store(p->t, text);
		free(text);
	}
out:
	free(sites);
	free(ranges);
	return ret;
}

/* ---- the plan ---- */

void ovup_plan_init(struct ovup_plan *p, struct ovup_target *t, const struct ovup_apply_opts *o)
{
	memset(p, 0, sizeof(*p));
	p->t = t;
	p->o = o;
	p->scope = -1;
}

void ovup_plan_release(struct ovup_plan *p)
{
	if (p->have_text || p->have_data) {
		struct ovup_block b[2];
		struct ovup_busy busy;
		size_t n = 0;

		if (p->have_text)
			b[n++] = p->text;
		if (p->have_data)
			b[n++] = p->data;
		int ret = p->t->ops->free(p->t, b, n, &busy);

		if (ret && ret != -ESRCH) /* a dead target needs no cleanup */
			ovup_warn("%s: could not release ovup's memory at 0x%" PRIx64 "", p->t->desc,
				  b[0].addr);
	}
	ovup_elf_obj_free(&p->obj);
	ovup_elf_img_free(&p->img);
	ovup_symtab_free(&p->st);
	ovup_records_free(&p->rs);
	if (p->tmp)
		ovup_tmpdir_remove(p->tmp);
	free(p->tmp);
	free(p->objpath);
	for (size_t i = 0; i < p->nfuncs; i++)
		free(p->funcs[i].code);
	free(p->funcs);
	free(p->labels);
	free(p->sels);
	free(p->mapfile);
	free(p->name);
	free(p->source);
}
