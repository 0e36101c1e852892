// SPDX-License-Identifier: MIT
/*
 * Step 1, labels (the target's symbols), and the resolve step: every
 * function the patch defines found in the target, every symbol it uses
 * resolved to an address, and each function's patch site planned
 * (sites.c), after the patch was read (patch.c).  What ovup refuses to
 * patch, it refuses here, before anything is allocated.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Step 1, labels: every symbol of the target, with its address. */
int ovup_step_labels(struct ovup_plan *p)
{
	int ret = p->t->ops->labels(p->t, &p->st);

	if (ret)
		return ret;
	if (!ovup_symtab_total(&p->st))
		return ovup_err(-ENOENT, "%s: found no symbols at all", p->t->desc);
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
		return ovup_err(-ENOTSUP,
				"function '%s' in %s is an IFUNC and the implementation "
				"this process selected cannot be found; replacing the "
				"resolver would change nothing",
				name, o->name);
	impl = ovup_symtab_by_addr(&p->st, addr);
	if (!impl || impl->addr != addr || !impl->size) {
		char *hint = o->full ? NULL : ovup_object_symbols_hint(o);

		ret = ovup_err(-ENOTSUP,
			       "function '%s' in %s is an IFUNC; this process selected "
			       "the implementation at 0x%" PRIx64 ", which has no symbol "
			       "with a size%s%s%s%s",
			       name, o->name, addr, hint ? "; " : "", hint ? o->name : "",
			       hint ? " " : "", hint ? hint : "");
		free(hint);
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

/* A variable the patch defines is a new one: the target's own would be a
 * second variable of the same name. */
static int check_variable(struct ovup_plan *p, const struct ovup_obj_sym *s)
{
	size_t first, n;

	ovup_symtab_lookup(&p->st, s->name, &first, &n);
	if (n)
		return ovup_err(-EEXIST,
				"%s: variable '%s' is defined by the patch and also "
				"exists in the target; declare it 'extern' to use the "
				"target's, or 'static' for a new one",
				p->source, s->name);
	return 0;
}

/* Nothing chosen silently: the same-named functions left alone. */
static void note_namesakes(struct ovup_plan *p, const struct ovup_sym *old)
{
	char others[2048], d[512];

	ovup_symtab_namesakes(&p->st, old, others, sizeof(others));
	if (!others[0])
		return;
	ovup_sym_describe(&p->st, old, d, sizeof(d));
	ovup_note("%s: '%s' replaces %s; not replaced: %s", p->t->desc, old->name, d, others);
}

/* The target's function that the patch's function s replaces; *scope
 * narrows to its object, or -1 once two objects are involved. */
static int add_function(struct ovup_plan *p, const struct ovup_obj_sym *s, long *scope)
{
	const struct ovup_sym *old;
	struct ovup_pfunc *f;
	size_t k;
	int ret;

	ret = ovup_symtab_resolve_func(&p->st, ovup_plan_selector(p, s->name), &old);
	if (ret)
		return ret;
	note_namesakes(p, old);
	if (old->type == OVUP_SYM_IFUNC) {
		ret = resolve_ifunc_target(p, s->name, &old);
		if (ret)
			return ret;
	}
	warn_inlined(p, s->name, old);
	for (k = 0; k < p->nfuncs; k++)
		if (p->funcs[k].old->addr == old->addr)
			return ovup_err(-EINVAL,
					"%s: '%s' and '%s' are the same function in "
					"the target; define only one",
					p->source, p->funcs[k].name, s->name);
	p->funcs = ovup_xrealloc(p->funcs, (p->nfuncs + 1) * sizeof(*p->funcs));
	f = &p->funcs[p->nfuncs++];
	memset(f, 0, sizeof(*f));
	f->name = ovup_symtab_intern(&p->st, s->name);
	f->old = old;
	*scope = *scope == -2 || *scope == (long)old->obj ? (long)old->obj : -1;
	return 0;
}

/* OVUP_ORIG(fn) leaves an undefined __ovup_orig_fn behind: fn needs a
 * trampoline, and must be a function the patch replaces. */
static int mark_orig(struct ovup_plan *p)
{
	const size_t np = strlen(OVUP_ORIG_PREFIX);
	size_t i, k;

	for (i = 0; i < p->obj.nsyms; i++) {
		const char *n = p->obj.syms[i].name;

		if (p->obj.syms[i].defined || strncmp(n, OVUP_ORIG_PREFIX, np))
			continue;
		for (k = 0; k < p->nfuncs; k++)
			if (!strcmp(p->funcs[k].name, n + np))
				break;
		if (k == p->nfuncs)
			return ovup_err(-EINVAL,
					"%s: OVUP_ORIG(%s): the patch does not replace '%s', "
					"so there is no original to call",
					p->source, n + np, n + np);
		p->funcs[k].want_orig = 1;
	}
	return 0;
}

/* Each non-static function of the patch replaces the target's function
 * of the same name. */
static int plan_functions(struct ovup_plan *p)
{
	long scope = -2;
	size_t i;
	int ret = 0;

	for (i = 0; i < p->obj.nsyms && !ret; i++) {
		const struct ovup_obj_sym *s = &p->obj.syms[i];

		if (!s->defined || s->bind == OVUP_BIND_LOCAL)
			continue;
		if (s->type == OVUP_SYM_OBJECT)
			ret = check_variable(p, s);
		else if (s->type == OVUP_SYM_IFUNC)
			ret = ovup_err(-ENOTSUP,
				       "%s: '%s' is an IFUNC (a resolver): ovup runs no "
				       "resolvers; define the implementation itself",
				       p->source, s->name);
		else if (s->type == OVUP_SYM_FUNC)
			ret = add_function(p, s, &scope);
	}
	if (ret)
		return ret;
	if (!p->nfuncs)
		return ovup_err(-EINVAL,
				"%s: the patch defines no function to replace (each "
				"non-static function replaces the target's function of the "
				"same name)",
				p->source);
	p->scope = scope < 0 ? -1 : scope;
	return mark_orig(p);
}

/* A thread-local variable of the target the patch uses: a slot holding
 * its offset from the thread pointer (mapfile.c), which the patch's
 * initial-exec code reads as it would read its GOT entry.  Both sides
 * must agree that it is thread-local: the code accesses it one way or
 * the other. */
static int add_tls(struct ovup_plan *p, const struct ovup_obj_sym *s, const struct ovup_sym *ref)
{
	const char *obj = p->st.objs[ref->obj].name;
	int64_t tpoff = 0;
	int ret;

	if (s->type != OVUP_SYM_TLS)
		return ovup_err(-EINVAL,
				"%s: '%s' is a thread-local variable in %s; declare it "
				"'extern __thread' in the patch",
				p->source, s->name, obj);
	if (ref->type != OVUP_SYM_TLS)
		return ovup_err(-EINVAL,
				"%s: '%s' is declared __thread in the patch but is not "
				"thread-local in %s; declare it as the target does",
				p->source, s->name, obj);
	if (!p->t->ops->tls_offset)
		return ovup_err(-ENOTSUP, "%s: '%s': a %s target has no thread-local variables",
				p->source, s->name, p->t->ops->kind);
	ret = p->t->ops->tls_offset(p->t, &p->st, ref, &tpoff);
	if (ret)
		return ret;
	p->tls = ovup_xrealloc(p->tls, (p->ntls + 1) * sizeof(*p->tls));
	p->tls[p->ntls].name = ovup_symtab_intern(&p->st, s->name);
	p->tls[p->ntls].addr = (uint64_t)tpoff;
	p->tls[p->ntls].obj = (long)ref->obj;
	p->ntls++;
	return 0;
}

/* Every symbol the patch uses and does not define, as a label: its
 * address in the target. */
static int plan_refs(struct ovup_plan *p)
{
	size_t i, k;
	int ret;

	for (i = 0; i < p->obj.nsyms; i++) {
		struct ovup_obj_sym *s = &p->obj.syms[i];
		const struct ovup_sym *ref;
		uint64_t addr;

		if (s->defined || !strcmp(s->name, "_GLOBAL_OFFSET_TABLE_") ||
		    !strncmp(s->name, OVUP_ORIG_PREFIX, strlen(OVUP_ORIG_PREFIX)))
			continue;
		for (k = 0; k < p->nlabels; k++)
			if (!strcmp(p->labels[k].name, s->name))
				break;
		if (k < p->nlabels)
			continue;
		ret = ovup_symtab_resolve_ref(&p->st, ovup_plan_selector(p, s->name), p->scope,
					      &ref);
		if (ret)
			return ret;
		if (s->type == OVUP_SYM_TLS || ref->type == OVUP_SYM_TLS) {
			ret = add_tls(p, s, ref);
			if (ret)
				return ret;
			continue;
		}
		addr = ref->addr;
		if (ref->type == OVUP_SYM_IFUNC) {
			/* calling the resolver would return a pointer, not do
			 * the work: use what the target's loader selected */
			ret = p->t->ops->resolve_ifunc
				      ? p->t->ops->resolve_ifunc(p->t, &p->st, ref, &addr)
				      : -ENOTSUP;
			if (ret)
				return ovup_err(ret,
						"symbol '%s' used by the patch is an IFUNC in %s "
						"and the implementation the target selected "
						"cannot be found: %s has no slot of its own for "
						"it, and no object of the target has called it "
						"yet (the dynamic linker selects at the first "
						"call); name an implementation with OVUP_OBJECT, "
						"or apply once the target has called it",
						s->name, p->st.objs[ref->obj].name,
						p->st.objs[ref->obj].name);
		}
		ovup_plan_add_label(p, s->name, addr, (long)ref->obj);
	}
	return 0;
}

/* The resolve step, between the paper's steps 1 and 2 (labels and size):
 * the patch read, its functions and symbols resolved in the target, and
 * each function's patch site planned and checked.  Nothing has touched
 * the target yet, so a refusal here costs nothing to undo. */
int ovup_step_resolve(struct ovup_plan *p)
{
	int ret;

	ret = p->obj_read ? 0 : ovup_plan_read_patch(p);
	if (!ret)
		ret = plan_functions(p);
	if (!ret)
		ret = plan_refs(p);
	if (!ret)
		ret = ovup_plan_sites(p);
	return ret;
}
