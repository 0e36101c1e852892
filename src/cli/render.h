/* SPDX-License-Identifier: MIT */
/*
 * Showing what a verb did: each core result rendered as text for people
 * (render_text.c) or as one JSON document for programs (render_json.c),
 * both on stdout.
 */
#ifndef OVUP_RENDER_H
#define OVUP_RENDER_H

#include "../core/core.h"

void ovup_render_text_apply(const struct ovup_apply_result *r);
void ovup_render_text_build(const struct ovup_build_result *r);
void ovup_render_text_revert(const struct ovup_revert_result *r);
void ovup_render_text_forget(const struct ovup_forget_result *r);
void ovup_render_text_list(const struct ovup_list_result *r);
void ovup_render_text_symbols(const struct ovup_symbols_result *r);
void ovup_render_text_info(const struct ovup_info_result *r);

void ovup_render_json_apply(const struct ovup_apply_result *r);
void ovup_render_json_build(const struct ovup_build_result *r);
void ovup_render_json_revert(const struct ovup_revert_result *r);
void ovup_render_json_forget(const struct ovup_forget_result *r);
void ovup_render_json_list(const struct ovup_list_result *r);
void ovup_render_json_symbols(const struct ovup_symbols_result *r);
void ovup_render_json_info(const struct ovup_info_result *r);
/* a failure under --json: {"error": msg, "exit": code} */
void ovup_render_json_error(const char *msg, int exit_code);

/* the symbol's kind and binding as both renderings name them */
const char *ovup_sym_kind(const struct ovup_sym *s);
const char *ovup_sym_bind(const struct ovup_sym *s);

#endif
