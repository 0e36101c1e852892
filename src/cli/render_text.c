// SPDX-License-Identifier: MIT
/*
 * The text form of each verb's result (render.h).  Tests grep it: change
 * it only together with them.
 */
#define _GNU_SOURCE
#include "render.h"
#include "../util/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* What keeping the register contract took, in words; "" if unchecked. */
static void contract_text(const struct ovup_apply_func *f, char *out, size_t len)
{
	char full[256] = "";

	if (f->why_new[0])
		snprintf(full, sizeof(full), "; the new code may write any of them: %s",
			 f->why_new);
	switch (f->contract) {
	case OVUP_CONTRACT_UNCHECKED:
		snprintf(out, len, "%s", "");
		break;
	case OVUP_CONTRACT_KEPT:
		snprintf(out, len, "registers: the new code writes none its callers may rely on");
		break;
	case OVUP_CONTRACT_WRAPPED:
		snprintf(out, len,
			 "wrapper at 0x%" PRIx64 " saves %s (the old code left them intact; "
			 "callers in %s may rely on that%s)",
			 f->wrap_addr, f->regs_extra, f->object_name, full);
		break;
	case OVUP_CONTRACT_INTERPOSABLE:
		snprintf(out, len,
			 "no wrapper: the new code also writes %s, but '%s' is a global of "
			 "%s that another object could interpose, so its callers assume "
			 "every call-clobbered register changes",
			 f->regs_extra, f->impl ? f->impl : f->name, f->object_name);
		break;
	case OVUP_CONTRACT_FAULT:
		snprintf(out, len,
			 "no wrapper (OVUP_FAULT=no-wrapper): the new code also writes %s, "
			 "which callers in %s may rely on",
			 f->regs_extra, f->object_name);
		break;
	}
}

/* One function of a dry run's plan. */
static void plan_func(const struct ovup_apply_func *f, const char *hex, const char *contract)
{
	printf("  %s (%s)%s%s\n", f->name, f->object,
	       f->impl ? ", an IFUNC: replacing its selected implementation " : "",
	       f->impl ? f->impl : "");
	printf("    old 0x%" PRIx64 ", %" PRIu64 " bytes; branch at 0x%" PRIx64 "%s\n", f->old_addr,
	       f->old_size, f->site, f->after_entry ? " (after the kept entry bytes)" : "");
	printf("    new 0x%" PRIx64 "\n    jump %s\n", f->new_addr, hex);
	if (f->under)
		printf("    stacks on patch '%s'\n", f->under);
	if (contract[0])
		printf("    %s\n", contract);
}

/* One function switched by an apply. */
static void applied_func(const struct ovup_apply_func *f, const char *contract)
{
	char shown[256];

	snprintf(shown, sizeof(shown), "%s%s%s", f->name, f->impl ? "=" : "",
		 f->impl ? f->impl : "");
	printf("  %-24s %s 0x%" PRIx64 " -> 0x%" PRIx64 "%s%s%s\n", shown, f->object_name,
	       f->old_addr, f->new_addr, f->under ? " (over '" : "", f->under ? f->under : "",
	       f->under ? "')" : "");
	if (ovup_verbose && contract[0])
		printf("    %s: %s\n", f->name, contract);
}

/* -v: the time of every step, on stderr */
static void timing(const struct ovup_apply_result *r)
{
	size_t i;

	fprintf(stderr, "ovup: timing:");
	for (i = 0; i < OVUP_NSTEPS; i++)
		fprintf(stderr, " %s %.2f ms", ovup_step_names[i], (double)r->step_ns[i] / 1e6);
	fprintf(stderr, ", pause %.1f us, longest hold %.1f us, total %.2f ms\n",
		(double)r->pause_ns / 1e3, (double)r->hold_ns / 1e3, (double)r->total_ns / 1e6);
}

void ovup_render_text_apply(const struct ovup_apply_result *r)
{
	char hex[64], contract[1024];
	size_t i;

	if (r->dry_run) {
		printf("plan for '%s' on %s (dry run: the target is not touched)\n", r->patch,
		       r->target);
		printf("  code at 0x%" PRIx64 " (%" PRIu64 " bytes, r-x)", r->text_addr,
		       r->text_size);
		if (r->data_size)
			printf(", data at 0x%" PRIx64 " (%" PRIu64 " bytes: r-- %" PRIu64
			       ", rw- %" PRIu64 ")",
			       r->data_addr, r->data_size, OVUP_ALIGN_UP(r->ro_size, 4096),
			       OVUP_ALIGN_UP(r->rw_size, 4096));
		printf("\n");
	} else {
		printf("applied '%s' to %s in %.1f ms (pause %.0f us)\n", r->patch, r->target,
		       (double)r->total_ns / 1e6, (double)r->pause_ns / 1e3);
	}
	for (i = 0; i < r->nfuncs; i++) {
		ovup_hex_spaced(hex, r->funcs[i].jump, r->funcs[i].len);
		contract_text(&r->funcs[i], contract, sizeof(contract));
		if (r->dry_run)
			plan_func(&r->funcs[i], hex, contract);
		else
			applied_func(&r->funcs[i], contract);
	}
	if (ovup_verbose)
		timing(r);
}

void ovup_render_text_build(const struct ovup_build_result *r)
{
	if (r->dry_run)
		printf("would build '%s' for %s (%zu function%s); nothing written (--dry-run)\n",
		       r->patch, r->target, r->nfuncs, r->nfuncs == 1 ? "" : "s");
	else
		printf("built '%s' for %s: %s (%zu function%s)\n", r->patch, r->target, r->output,
		       r->nfuncs, r->nfuncs == 1 ? "" : "s");
}

/* Names and paths come from the target and from files: a control byte
 * in them must not reach the terminal as one. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = 0;
	return buf;
}

/* What forget or revert --force found at each site of the patch. */
static void sites_seen(const struct ovup_site_seen *s, size_t n, const char *what_jump)
{
	char fn[128], hex[64];
	size_t i;

	for (i = 0; i < n; i++) {
		ovup_hex_spaced(hex, s[i].bytes, s[i].len);
		printf("  %-24s 0x%" PRIx64 "  %s", printable(s[i].function, fn, sizeof(fn)),
		       s[i].site, ovup_site_holds_name(s[i].holds));
		if (s[i].holds == OVUP_HOLDS_OTHER)
			printf(" (%s)", hex);
		printf("%s\n", s[i].holds == OVUP_HOLDS_JUMP ? what_jump : "");
	}
}

void ovup_render_text_forget(const struct ovup_forget_result *r)
{
	printf("forgot '%s' (seq %" PRIu64 ") on %s; its functions hold:\n", r->patch, r->seq,
	       r->target);
	sites_seen(r->seen, r->nseen, "");
	if (r->kept)
		printf("  its memory stays mapped: %s; a later ovup run releases it\n", r->why);
}

void ovup_render_text_revert(const struct ovup_revert_result *r)
{
	size_t i;

	printf("reverted '%s' on %s (pause %.0f us)\n", r->patch, r->target,
	       (double)r->pause_ns / 1e3);
	if (r->nseen) {
		printf("  forced: its functions held\n");
		sites_seen(r->seen, r->nseen, "");
	}
	if (!ovup_verbose)
		return;
	fprintf(stderr, "ovup: timing:");
	for (i = 0; i < OVUP_REVERT_NSTEPS; i++)
		fprintf(stderr, " %s %.2f ms", ovup_revert_step_names[i],
			(double)r->step_ns[i] / 1e6);
	fprintf(stderr, ", pause %.1f us, total %.2f ms\n", (double)r->pause_ns / 1e3,
		(double)r->total_ns / 1e6);
}

static void list_patch(const struct ovup_list_patch *lp)
{
	const struct ovup_record *r = lp->r;
	char when[64], src[512], fn[256], obj[256];
	time_t tt = (time_t)r->time;
	size_t k;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&tt));
	printf("  %s  (seq %" PRIu64 ", %s, from %s)\n", r->name, r->seq, when,
	       printable(r->source, src, sizeof(src)));
	for (k = 0; k < r->nfuncs; k++) {
		const struct ovup_rec_func *f = lp->funcs[k].f;

		printf("    %-24s %s 0x%" PRIx64 " -> 0x%" PRIx64 "  %s\n",
		       printable(f->name, fn, sizeof(fn)),
		       printable(ovup_basename(f->object), obj, sizeof(obj)), f->old_addr,
		       f->new_addr, lp->funcs[k].status);
	}
}

/* Memory a revert could not release yet, and code the target retired. */
static void list_leftovers(const struct ovup_records *rs)
{
	char name[192], comm[64];
	size_t i;

	for (i = 0; i < rs->nkept; i++) {
		const struct ovup_rec_kept *kb = &rs->kept[i];

		if (!i)
			printf("kept (a later run releases it):\n");
		printf("    0x%" PRIx64 "  %" PRIu64 " KiB of %s: %s\n", kb->addr, kb->size >> 10,
		       kb->kind == OVUP_BLOCK_TEXT ? "code" : "data", kb->why);
	}
	for (i = 0; i < rs->nretired; i++) {
		const struct ovup_retired_block *b = &rs->retired[i];

		if (!i)
			printf("retired (freed once no thread can return into them):\n");
		printf("    0x%" PRIx64 "  %" PRIu64 " KiB of reverted patch '%s': thread %d (%s) "
		       "was found in it (at 0x%" PRIx64 ")\n",
		       b->addr, b->size >> 10, printable(b->patch, name, sizeof(name)), b->busy.tid,
		       printable(b->busy.comm, comm, sizeof(comm)), b->busy.addr);
	}
}

void ovup_render_text_list(const struct ovup_list_result *r)
{
	size_t i, k;

	if (!r->rs.n)
		printf("%s: no patches applied\n", r->target);
	else
		printf("%s: %zu patch%s applied\n", r->target, r->rs.n, r->rs.n == 1 ? "" : "es");
	for (i = 0; i < r->rs.n; i++)
		list_patch(&r->patches[i]);
	for (i = 0; i < r->nstacks; i++) {
		if (!i)
			printf("stacks (newest first):\n");
		printf("    %s:", r->stacks[i].function);
		for (k = 0; k < r->stacks[i].npatches; k++)
			printf(" %s", r->stacks[i].patches[k]);
		printf("\n");
	}
	list_leftovers(&r->rs);
}

const char *ovup_sym_kind(const struct ovup_sym *s)
{
	return s->type == OVUP_SYM_FUNC    ? "func"
	       : s->type == OVUP_SYM_IFUNC ? "ifunc"
	       : s->type == OVUP_SYM_TLS   ? "tls"
					   : "var";
}

const char *ovup_sym_bind(const struct ovup_sym *s)
{
	return s->bind == OVUP_BIND_LOCAL  ? "static"
	       : s->bind == OVUP_BIND_WEAK ? "weak"
					   : "global";
}

void ovup_render_text_symbols(const struct ovup_symbols_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct ovup_sym *s = r->syms[i];
		const struct ovup_object *o = &r->st.objs[s->obj];

		printf("%016" PRIx64 " %7" PRIu64 " %-5s %-6s %s  %s%s%s", s->addr, s->size,
		       ovup_sym_kind(s), ovup_sym_bind(s), s->name, o->name, s->file ? ":" : "",
		       s->file ? s->file : "");
		if (s->pos > 1)
			printf("#%u", s->pos);
		printf("\n");
	}
	/* with no match, where the symbol may be hiding is the answer, so it
	 * shows even with -q; with matches, a note */
	if (!r->n && r->glob)
		fprintf(stderr, "ovup: %s: no symbol matches '%s'%s\n", r->target, r->glob,
			r->ndynsym ? "; the static symbols of these objects are unknown:" : "");
	for (i = 0; i < r->ndynsym; i++) {
		const struct ovup_object *o = &r->st.objs[r->dynsym[i].obj];

		if (!r->n && r->glob)
			fprintf(stderr, "ovup: %s: %s %s\n", r->target, o->name, r->dynsym[i].hint);
		else
			ovup_note("%s: %s %s; its static symbols are not listed", r->target,
				  o->name, r->dynsym[i].hint);
	}
}

/* ", object X, file Y, sympos N, near A D" for the selectors set, or "" */
static const char *sel_text(const struct ovup_info_sel *sel, char *buf, size_t len)
{
	char v[256];
	size_t o = 0;

	buf[0] = 0;
	if (sel->object)
		o += (size_t)snprintf(buf + o, len - o, ", object %s",
				      printable(sel->object, v, sizeof(v)));
	if (sel->file && o < len)
		o += (size_t)snprintf(buf + o, len - o, ", file %s",
				      printable(sel->file, v, sizeof(v)));
	if (sel->sympos && o < len)
		o += (size_t)snprintf(buf + o, len - o, ", sympos %u", sel->sympos);
	if (sel->near && o < len)
		snprintf(buf + o, len - o, ", near %s", printable(sel->near, v, sizeof(v)));
	return buf;
}

void ovup_render_text_info(const struct ovup_info_result *r)
{
	char a[512], b[512], sel[640];
	size_t i;

	printf("patch '%s' from %s\n", printable(r->patch, a, sizeof(a)),
	       r->source ? printable(r->source, b, sizeof(b)) : "(source not recorded)");
	if (r->kernel_release)
		printf("built for kernel %s%s%s\n", r->kernel_release,
		       r->kernel_version ? ", build " : "",
		       r->kernel_version ? printable(r->kernel_version, a, sizeof(a)) : "");
	else
		printf("built for a %s\n", printable(r->target, a, sizeof(a)));
	for (i = 0; i < r->nobjs; i++)
		printf("  %s build-id %s\n", printable(r->objs[i].path, a, sizeof(a)),
		       printable(r->objs[i].build_id, b, sizeof(b)));
	printf("replaces %zu function%s:\n", r->nfuncs, r->nfuncs == 1 ? "" : "s");
	for (i = 0; i < r->nfuncs; i++) {
		const struct ovup_info_func *f = &r->funcs[i];

		printf("  %s (%" PRIu64 " bytes%s%s)\n", printable(f->name, a, sizeof(a)), f->size,
		       f->calls_orig ? ", calls the original" : "",
		       sel_text(&f->sel, sel, sizeof(sel)));
	}
	printf("uses %zu symbol%s:\n", r->nsyms, r->nsyms == 1 ? "" : "s");
	for (i = 0; i < r->nsyms; i++) {
		const struct ovup_info_sym *s = &r->syms[i];
		const char *flags = s->tls ? (s->versioned ? "thread-local, versioned"
							   : "thread-local")
					   : (s->versioned ? "versioned" : "");

		sel_text(&s->sel, sel, sizeof(sel));
		if (*flags || *sel)
			printf("  %s (%s%s)\n", printable(s->name, a, sizeof(a)), flags,
			       *flags ? sel : sel + 2);
		else
			printf("  %s\n", printable(s->name, a, sizeof(a)));
	}
	printf("its own code and data: text %" PRIu64 ", rodata %" PRIu64 ", data %" PRIu64
	       ", bss %" PRIu64 " bytes\n",
	       r->text, r->rodata, r->data, r->bss);
}
