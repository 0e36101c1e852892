// SPDX-License-Identifier: MIT
/*
 * The JSON form of each verb's result (render.h), one document per run on
 * stdout; docs/cli.md describes the shapes.  Addresses are strings
 * "0x...", sizes and counts are numbers.
 */
#define _GNU_SOURCE
#include "render.h"
#include "json.h"
#include "../util/util.h"

#include <stdio.h>
#include <string.h>

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* a register set "rax rcx" as ["rax","rcx"] */
static void regs(struct ovup_json *j, const char *key, const char *set)
{
	char buf[OVUP_REGS_TEXT], *save = NULL, *r;

	snprintf(buf, sizeof(buf), "%s", set);
	ovup_json_array(j, key);
	for (r = strtok_r(buf, " ", &save); r; r = strtok_r(NULL, " ", &save))
		ovup_json_str(j, NULL, r);
	ovup_json_end(j);
}

static void contract(struct ovup_json *j, const struct ovup_apply_func *f)
{
	static const char *const kind[] = {
		[OVUP_CONTRACT_UNCHECKED] = "unchecked",
		[OVUP_CONTRACT_KEPT] = "kept",
		[OVUP_CONTRACT_WRAPPED] = "wrapped",
		[OVUP_CONTRACT_INTERPOSABLE] = "interposable",
		[OVUP_CONTRACT_FAULT] = "fault-no-wrapper",
	};

	ovup_json_object(j, "registers");
	ovup_json_str(j, "contract", kind[f->contract]);
	if (f->contract != OVUP_CONTRACT_UNCHECKED) {
		regs(j, "old", f->regs_old);
		regs(j, "new", f->regs_new);
		regs(j, "extra", f->regs_extra);
		if (f->why_new[0])
			ovup_json_str(j, "new_why", f->why_new);
	}
	if (f->wrap_len) {
		ovup_json_object(j, "wrapper");
		ovup_json_addr(j, "addr", f->wrap_addr);
		ovup_json_u64(j, "size", f->wrap_len);
		regs(j, "saves", f->regs_extra);
		ovup_json_end(j);
	} else {
		ovup_json_null(j, "wrapper");
	}
	ovup_json_end(j);
}

static void apply_func(struct ovup_json *j, const struct ovup_apply_func *f)
{
	char hex[64];

	ovup_hex_spaced(hex, f->jump, f->len);
	ovup_json_object(j, NULL);
	ovup_json_str(j, "name", f->name);
	ovup_json_str(j, "object", nz(f->object));
	ovup_json_addr(j, "old", f->old_addr);
	ovup_json_u64(j, "size", f->old_size);
	ovup_json_addr(j, "site", f->site);
	ovup_json_addr(j, "new", f->new_addr);
	ovup_json_str(j, "jump", hex);
	if (f->under)
		ovup_json_str(j, "stacks_on", f->under);
	contract(j, f);
	ovup_json_end(j);
}

static void block(struct ovup_json *j, const char *key, uint64_t addr, uint64_t size)
{
	ovup_json_object(j, key);
	ovup_json_addr(j, "addr", addr);
	ovup_json_u64(j, "size", size);
	ovup_json_end(j);
}

static void stop(struct ovup_json *j, uint32_t tasks, uint32_t rechecked)
{
	ovup_json_object(j, "stop");
	ovup_json_u64(j, "tasks", tasks);
	ovup_json_u64(j, "rechecked", rechecked);
	ovup_json_end(j);
}

/* what --diff found: {"file", "changed": [...], "new": [...], "affected": [...]} */
static void diff_found(struct ovup_json *j, const struct ovup_diff_found *d)
{
	size_t k, i;

	if (!d)
		return;
	ovup_json_object(j, "diff");
	ovup_json_str(j, "file", d->file);
	ovup_json_str(j, "flags_from", d->flags_from);
	for (k = 0; k < OVUP_DIFF_NKINDS; k++) {
		ovup_json_array(j, ovup_diff_kind_names[k]);
		for (i = 0; i < d->n[k]; i++)
			ovup_json_str(j, NULL, d->names[k][i]);
		ovup_json_end(j);
	}
	ovup_json_end(j);
}

void ovup_render_json_apply(const struct ovup_apply_result *r)
{
	struct ovup_json j;
	size_t i;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "target", r->target);
	ovup_json_str(&j, "patch", r->patch);
	ovup_json_bool(&j, "dry_run", r->dry_run);
	diff_found(&j, r->diff);
	block(&j, "text", r->text_addr, r->text_size);
	block(&j, "data", r->data_addr, r->data_size);
	ovup_json_array(&j, "functions");
	for (i = 0; i < r->nfuncs; i++)
		apply_func(&j, &r->funcs[i]);
	ovup_json_end(&j);
	ovup_json_object(&j, "timing_ns");
	for (i = 0; i < OVUP_NSTEPS; i++)
		ovup_json_u64(&j, ovup_step_names[i], r->step_ns[i]);
	ovup_json_u64(&j, "pause", r->pause_ns);
	ovup_json_u64(&j, "hold", r->hold_ns);
	ovup_json_u64(&j, "total", r->total_ns);
	ovup_json_end(&j);
	stop(&j, r->stop_tasks, r->stop_rechecked);
	ovup_json_end(&j);
}

void ovup_render_json_build(const struct ovup_build_result *r)
{
	struct ovup_json j;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "patch", r->patch);
	ovup_json_str(&j, "output", r->output);
	ovup_json_u64(&j, "functions", r->nfuncs);
	ovup_json_bool(&j, "dry_run", r->dry_run);
	diff_found(&j, r->diff);
	ovup_json_end(&j);
}

/* What forget or revert --force found at each site of the patch. */
static void sites_seen(struct ovup_json *j, const char *key, const struct ovup_site_seen *s,
		       size_t n)
{
	static const char *const holds[] = {
		[OVUP_HOLDS_JUMP] = "jump",
		[OVUP_HOLDS_SAVED] = "old",
		[OVUP_HOLDS_OTHER] = "other",
	};
	char hex[33];
	size_t i;

	ovup_json_array(j, key);
	for (i = 0; i < n; i++) {
		ovup_hex(hex, s[i].bytes, s[i].len);
		ovup_json_object(j, NULL);
		ovup_json_str(j, "function", s[i].function);
		ovup_json_addr(j, "site", s[i].site);
		ovup_json_str(j, "holds", holds[s[i].holds]);
		ovup_json_str(j, "bytes", hex);
		ovup_json_end(j);
	}
	ovup_json_end(j);
}

void ovup_render_json_forget(const struct ovup_forget_result *r)
{
	struct ovup_json j;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "target", r->target);
	ovup_json_str(&j, "forgot", r->patch);
	ovup_json_u64(&j, "seq", r->seq);
	sites_seen(&j, "sites", r->seen, r->nseen);
	ovup_json_str(&j, "memory_kept", r->kept ? r->why : NULL);
	ovup_json_end(&j);
}

void ovup_render_json_revert(const struct ovup_revert_result *r)
{
	struct ovup_json j;
	size_t i;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "target", r->target);
	ovup_json_str(&j, "reverted", r->patch);
	if (r->nseen)
		sites_seen(&j, "forced", r->seen, r->nseen);
	ovup_json_u64(&j, "pause_ns", r->pause_ns);
	ovup_json_u64(&j, "total_ns", r->total_ns);
	ovup_json_u64(&j, "retired", r->retired);
	stop(&j, r->stop_tasks, r->stop_rechecked);
	ovup_json_object(&j, "timing_ns");
	for (i = 0; i < OVUP_REVERT_NSTEPS; i++)
		ovup_json_u64(&j, ovup_revert_step_names[i], r->step_ns[i]);
	ovup_json_u64(&j, "pause", r->pause_ns);
	ovup_json_u64(&j, "total", r->total_ns);
	ovup_json_end(&j);
	ovup_json_end(&j);
}

static void list_patch(struct ovup_json *j, const struct ovup_list_patch *lp)
{
	size_t k;

	ovup_json_object(j, NULL);
	ovup_json_str(j, "name", nz(lp->r->name));
	ovup_json_u64(j, "seq", lp->r->seq);
	ovup_json_i64(j, "time", lp->r->time);
	ovup_json_str(j, "source", nz(lp->r->source));
	ovup_json_array(j, "functions");
	for (k = 0; k < lp->r->nfuncs; k++) {
		const struct ovup_rec_func *f = lp->funcs[k].f;

		ovup_json_object(j, NULL);
		ovup_json_str(j, "name", nz(f->name));
		ovup_json_str(j, "object", nz(f->object));
		ovup_json_addr(j, "old", f->old_addr);
		ovup_json_addr(j, "new", f->new_addr);
		ovup_json_str(j, "status", lp->funcs[k].status);
		ovup_json_end(j);
	}
	ovup_json_end(j);
	ovup_json_end(j);
}

static void list_leftovers(struct ovup_json *j, const struct ovup_records *rs)
{
	size_t i;

	ovup_json_array(j, "kept");
	for (i = 0; i < rs->nkept; i++) {
		ovup_json_object(j, NULL);
		ovup_json_addr(j, "addr", rs->kept[i].addr);
		ovup_json_u64(j, "size", rs->kept[i].size);
		ovup_json_str(j, "why", rs->kept[i].why);
		ovup_json_end(j);
	}
	ovup_json_end(j);
	ovup_json_array(j, "retired");
	for (i = 0; i < rs->nretired; i++) {
		const struct ovup_retired_block *b = &rs->retired[i];

		ovup_json_object(j, NULL);
		ovup_json_addr(j, "addr", b->addr);
		ovup_json_u64(j, "size", b->size);
		ovup_json_str(j, "patch", b->patch);
		ovup_json_i64(j, "tid", b->busy.tid);
		ovup_json_str(j, "comm", b->busy.comm);
		ovup_json_addr(j, "at", b->busy.addr);
		ovup_json_end(j);
	}
	ovup_json_end(j);
}

void ovup_render_json_list(const struct ovup_list_result *r)
{
	struct ovup_json j;
	size_t i, k;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "target", r->target);
	ovup_json_array(&j, "patches");
	for (i = 0; i < r->rs.n; i++)
		list_patch(&j, &r->patches[i]);
	ovup_json_end(&j);
	ovup_json_array(&j, "stacks");
	for (i = 0; i < r->nstacks; i++) {
		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "function", r->stacks[i].function);
		ovup_json_array(&j, "patches");
		for (k = 0; k < r->stacks[i].npatches; k++)
			ovup_json_str(&j, NULL, r->stacks[i].patches[k]);
		ovup_json_end(&j);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	list_leftovers(&j, &r->rs);
	ovup_json_end(&j);
}

void ovup_render_json_symbols(const struct ovup_symbols_result *r)
{
	char hex[2 * OVUP_BUILD_ID_MAX + 1];
	struct ovup_json j;
	size_t i;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "target", r->target);
	ovup_json_array(&j, "symbols");
	for (i = 0; i < r->n; i++) {
		const struct ovup_sym *s = r->syms[i];

		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "name", s->name);
		ovup_json_addr(&j, "addr", s->addr);
		ovup_json_u64(&j, "size", s->size);
		ovup_json_str(&j, "kind", ovup_sym_kind(s));
		ovup_json_str(&j, "bind", ovup_sym_bind(s));
		ovup_json_str(&j, "object", nz(r->st.objs[s->obj].path));
		ovup_json_str(&j, "file", nz(s->file));
		ovup_json_u64(&j, "pos", s->pos);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	ovup_json_array(&j, "dynsym_only");
	for (i = 0; i < r->ndynsym; i++) {
		const struct ovup_object *o = &r->st.objs[r->dynsym[i].obj];

		ovup_hex(hex, o->build_id, o->build_id_len);
		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "object", nz(o->path));
		ovup_json_str(&j, "build_id", o->build_id_len ? hex : NULL);
		ovup_json_str(&j, "debug_file", o->debug_hint);
		ovup_json_str(&j, "debuginfod", o->debuginfod);
		ovup_json_str(&j, "hint", r->dynsym[i].hint);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	ovup_json_end(&j);
}

void ovup_render_json_error(const char *msg, int exit_code)
{
	struct ovup_json j;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "error", msg);
	ovup_json_i64(&j, "exit", exit_code);
	ovup_json_end(&j);
}

static void json_sel(struct ovup_json *j, const struct ovup_info_sel *sel)
{
	ovup_json_str(j, "object", sel->object);
	ovup_json_str(j, "file", sel->file);
	if (sel->sympos)
		ovup_json_u64(j, "sympos", sel->sympos);
	else
		ovup_json_null(j, "sympos");
	ovup_json_str(j, "near", sel->near);
}

void ovup_render_json_info(const struct ovup_info_result *r)
{
	struct ovup_json j;
	size_t i;

	ovup_json_init(&j, stdout);
	ovup_json_object(&j, NULL);
	ovup_json_str(&j, "path", r->path);
	ovup_json_str(&j, "patch", r->patch);
	ovup_json_str(&j, "source", r->source);
	ovup_json_str(&j, "target", r->target);
	ovup_json_str(&j, "kernel_release", r->kernel_release);
	ovup_json_str(&j, "kernel_version", r->kernel_version);
	ovup_json_array(&j, "built_for");
	for (i = 0; i < r->nobjs; i++) {
		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "path", r->objs[i].path);
		ovup_json_str(&j, "build_id", r->objs[i].build_id);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	ovup_json_array(&j, "functions");
	for (i = 0; i < r->nfuncs; i++) {
		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "name", r->funcs[i].name);
		ovup_json_u64(&j, "size", r->funcs[i].size);
		ovup_json_bool(&j, "calls_original", r->funcs[i].calls_orig);
		json_sel(&j, &r->funcs[i].sel);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	ovup_json_array(&j, "uses");
	for (i = 0; i < r->nsyms; i++) {
		ovup_json_object(&j, NULL);
		ovup_json_str(&j, "name", r->syms[i].name);
		ovup_json_bool(&j, "thread_local", r->syms[i].tls);
		ovup_json_bool(&j, "versioned", r->syms[i].versioned);
		json_sel(&j, &r->syms[i].sel);
		ovup_json_end(&j);
	}
	ovup_json_end(&j);
	ovup_json_object(&j, "sizes");
	ovup_json_u64(&j, "text", r->text);
	ovup_json_u64(&j, "rodata", r->rodata);
	ovup_json_u64(&j, "data", r->data);
	ovup_json_u64(&j, "bss", r->bss);
	ovup_json_end(&j);
	ovup_json_end(&j);
}
