// SPDX-License-Identifier: MIT
/*
 * The verbs' run functions (run.h): the command line's options into
 * core's, core's result out as text or JSON.
 */
#include "run.h"
#include "render.h"
#include "../core/core.h"

#include <stdio.h>

/* the top-level VERSION file, passed by the Makefile */
#ifndef OVUP_VERSION
#error "OVUP_VERSION is not defined: build with the top-level Makefile (it reads VERSION)"
#endif

static void apply_opts(const struct ovup_cmdline *c, struct ovup_apply_opts *o)
{
	*o = (struct ovup_apply_opts){ 0 };
	o->patch = c->nargs ? c->args[0] : c->diff;
	o->diff = c->diff;
	o->source_dir = c->source_dir ? c->source_dir : ".";
	o->name = c->name;
	o->cflags = c->cflags;
	o->ncflags = c->ncflags;
	o->dry_run = c->dry_run;
	o->retries = c->retries;
}

int ovup_run_apply(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_apply_opts o;
	struct ovup_apply_result r;
	int ret;

	apply_opts(c, &o);
	ret = ovup_apply(t, &o, &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_apply(&r);
	else
		ovup_render_text_apply(&r);
	ovup_apply_result_free(&r);
	return 0;
}

int ovup_run_build(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_apply_opts o;
	struct ovup_build_result r;
	int ret;

	apply_opts(c, &o);
	ret = ovup_build(t, &o, c->output, &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_build(&r);
	else
		ovup_render_text_build(&r);
	ovup_build_result_free(&r);
	return 0;
}

int ovup_run_revert(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_revert_result r;
	int ret;

	ret = ovup_revert(t, c->nargs ? c->args[0] : NULL, c->retries, c->force, &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_revert(&r);
	else
		ovup_render_text_revert(&r);
	ovup_revert_result_free(&r);
	return 0;
}

int ovup_run_forget(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_forget_result r;
	int ret;

	ret = ovup_forget(t, c->args[0], &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_forget(&r);
	else
		ovup_render_text_forget(&r);
	ovup_forget_result_free(&r);
	return 0;
}

int ovup_run_list(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_list_result r;
	int ret;

	ret = ovup_list(t, &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_list(&r);
	else
		ovup_render_text_list(&r);
	ovup_list_result_free(&r);
	return 0;
}

int ovup_run_symbols(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_symbols_result r;
	int ret;

	ret = ovup_symbols(t, c->nargs ? c->args[0] : NULL, &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_symbols(&r);
	else
		ovup_render_text_symbols(&r);
	ovup_symbols_result_free(&r);
	return 0;
}

int ovup_run_info(struct ovup_target *t, const struct ovup_cmdline *c)
{
	struct ovup_info_result r;
	int ret;

	(void)t;
	ret = ovup_info_read(c->args[0], &r);
	if (ret)
		return ret;
	if (c->json)
		ovup_render_json_info(&r);
	else
		ovup_render_text_info(&r);
	ovup_info_result_free(&r);
	return 0;
}

/* `ovup help [VERB]`: the parser has checked that VERB exists */
int ovup_run_help(struct ovup_target *t, const struct ovup_cmdline *c)
{
	(void)t;
	ovup_usage(c->nargs ? ovup_verb_find(c->args[0]) : NULL, stdout);
	return 0;
}

int ovup_run_version(struct ovup_target *t, const struct ovup_cmdline *c)
{
	(void)t;
	(void)c;
	printf("ovup %s\n", OVUP_VERSION);
	return 0;
}
