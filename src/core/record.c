// SPDX-License-Identifier: MIT
/*
 * The record of applied patches as line-oriented text, so that any later
 * ovup run can list and revert what an earlier one applied.  Tokens are
 * percent-encoded; unknown lines are rejected rather than guessed at.
 */
#define _GNU_SOURCE
#include "core.h"
#include "../util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_tok(struct ovup_buf *b, const char *s)
{
	if (!s || !*s) {
		ovup_buf_add(b, "-", 1); /* the empty token */
		return;
	}
	if (!strcmp(s, "-")) {
		ovup_buf_add(b, "%2d", 3);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '%' || c >= 0x7f)
			ovup_buf_printf(b, "%%%02x", c);
		else
			ovup_buf_add(b, s, 1);
	}
}

static char *get_tok(char **p)
{
	char *s = *p, *start, *out, *w;

	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	start = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = 0;
	*p = s;
	if (!strcmp(start, "-"))
		return ovup_xstrdup("");
	out = w = ovup_xstrdup(start);
	for (s = start; *s; s++) {
		uint8_t v;

		/* exactly two hex digits, or the '%' stands for itself */
		if (*s == '%' && s[1] && s[2] &&
		    ovup_unhex(&v, 1, (char[]){ s[1], s[2], 0 }) == 1) {
			*w++ = (char)v;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
	return out;
}

static const char *const state_names[] = {
	[OVUP_REC_APPLIED] = "applied",
	[OVUP_REC_PENDING] = "pending",
	[OVUP_REC_REVERTING] = "reverting",
	[OVUP_REC_FORCING] = "forcing",
};

static void format_record(struct ovup_buf *b, const struct ovup_record *r)
{
	size_t i;

	ovup_buf_printf(b, "patch ");
	put_tok(b, r->name);
	ovup_buf_printf(b, " %" PRIu64 " %" PRId64 " %s ", r->seq, r->time, state_names[r->state]);
	put_tok(b, r->source);
	ovup_buf_printf(b, "\n");
	for (i = 0; i < r->nblocks; i++)
		ovup_buf_printf(b, "block 0x%" PRIx64 " 0x%" PRIx64 " %d\n", r->blocks[i].addr,
				r->blocks[i].size, r->blocks[i].kind);
	for (i = 0; i < r->nfuncs; i++) {
		const struct ovup_rec_func *f = &r->funcs[i];
		char saved[33], jump[33];

		ovup_hex(saved, f->saved, f->len);
		ovup_hex(jump, f->jump, f->len);
		ovup_buf_printf(b, "func ");
		put_tok(b, f->name);
		ovup_buf_printf(b, " ");
		put_tok(b, f->object);
		ovup_buf_printf(b,
				" 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " %s %s\n",
				f->old_addr, f->old_size, f->site, f->new_addr, saved, jump);
	}
	ovup_buf_printf(b, "end\n");
}

char *ovup_record_format_one(const struct ovup_record *r)
{
	struct ovup_buf b = { 0 };

	format_record(&b, r);
	return b.s;
}

char *ovup_records_format(const struct ovup_records *rs)
{
	struct ovup_buf b = { 0 };
	size_t i;

	for (i = 0; i < rs->n; i++)
		format_record(&b, &rs->r[i]);
	return b.s ? b.s : ovup_xstrdup("");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* "patch NAME SEQ TIME STATE SOURCE": a record begins. */
static int parse_patch(struct ovup_records *rs, char **t, struct ovup_record **cur)
{
	uint64_t seq = 0, tm = 0;
	size_t k;
	int ret = 0;

	rs->r = ovup_xrealloc(rs->r, (rs->n + 1) * sizeof(*rs->r));
	*cur = &rs->r[rs->n++];
	memset(*cur, 0, sizeof(**cur));
	(*cur)->name = ovup_xstrdup(t[0]);
	(*cur)->source = ovup_xstrdup(t[4]);
	for (k = 0; k < OVUP_ARRAY_SIZE(state_names); k++)
		if (!strcmp(t[3], state_names[k]))
			break;
	(*cur)->state = (enum ovup_rec_state)k;
	if (parse_u64(t[1], &seq) || parse_u64(t[2], &tm) || k == OVUP_ARRAY_SIZE(state_names))
		ret = -EINVAL;
	(*cur)->seq = seq;
	(*cur)->time = (int64_t)tm;
	return ret;
}

/* "block ADDR SIZE KIND" */
static int parse_block(struct ovup_record *cur, char **t)
{
	struct ovup_rec_block b;
	uint64_t kind;

	if (parse_u64(t[0], &b.addr) || parse_u64(t[1], &b.size) || parse_u64(t[2], &kind))
		return -EINVAL;
	b.kind = (int)kind;
	cur->blocks = ovup_xrealloc(cur->blocks, (cur->nblocks + 1) * sizeof(b));
	cur->blocks[cur->nblocks++] = b;
	return 0;
}

/* "func NAME OBJECT OLD SIZE SITE NEW SAVED JUMP" */
static int parse_func(struct ovup_record *cur, char **t)
{
	struct ovup_rec_func f = { 0 };
	int a, b;

	f.name = ovup_xstrdup(t[0]);
	f.object = ovup_xstrdup(t[1]);
	a = ovup_unhex(f.saved, sizeof(f.saved), t[6]);
	b = ovup_unhex(f.jump, sizeof(f.jump), t[7]);
	if (parse_u64(t[2], &f.old_addr) || parse_u64(t[3], &f.old_size) ||
	    parse_u64(t[4], &f.site) || parse_u64(t[5], &f.new_addr) || a <= 0 || a != b) {
		free(f.name);
		free(f.object);
		return -EINVAL;
	}
	f.len = (uint32_t)a;
	cur->funcs = ovup_xrealloc(cur->funcs, (cur->nfuncs + 1) * sizeof(f));
	cur->funcs[cur->nfuncs++] = f;
	return 0;
}

/* One line; *cur is the record being read, NULL between records. */
static int parse_line(struct ovup_records *rs, char *line, struct ovup_record **cur)
{
	char *p = line, *kw = get_tok(&p), *t[8] = { 0 };
	size_t i, nt = 0;
	int ret = 0;

	if (!kw)
		return 0;
	while (nt < 8 && (t[nt] = get_tok(&p)))
		nt++;
	if (!strcmp(kw, "patch") && nt == 5 && !*cur)
		ret = parse_patch(rs, t, cur);
	else if (!strcmp(kw, "block") && nt == 3 && *cur)
		ret = parse_block(*cur, t);
	else if (!strcmp(kw, "func") && nt == 8 && *cur)
		ret = parse_func(*cur, t);
	else if (!strcmp(kw, "end") && nt == 0 && *cur)
		*cur = NULL;
	else
		ret = -EINVAL;
	for (i = 0; i < nt; i++)
		free(t[i]);
	free(kw);
	return ret;
}

int ovup_records_parse(const char *text, struct ovup_records *rs)
{
	char *copy = ovup_xstrdup(text), *line, *save = NULL;
	struct ovup_record *cur = NULL;
	int ret = 0;

	memset(rs, 0, sizeof(*rs));
	for (line = strtok_r(copy, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save))
		ret = parse_line(rs, line, &cur);
	if (cur)
		ret = -EINVAL; /* a record cut short */
	free(copy);
	if (ret)
		ovup_records_free(rs);
	return ret;
}

void ovup_record_free(struct ovup_record *r)
{
	size_t i;

	for (i = 0; i < r->nfuncs; i++) {
		free(r->funcs[i].name);
		free(r->funcs[i].object);
	}
	free(r->funcs);
	free(r->blocks);
	free(r->name);
	free(r->source);
	memset(r, 0, sizeof(*r));
}

void ovup_records_free(struct ovup_records *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		ovup_record_free(&rs->r[i]);
	free(rs->r);
	free(rs->kept);
	free(rs->retired);
	memset(rs, 0, sizeof(*rs));
}

const struct ovup_record *ovup_records_top(const struct ovup_records *rs, uint64_t site,
					   const struct ovup_rec_func **fout)
{
	const struct ovup_record *top = NULL;
	size_t i, k;

	for (i = 0; i < rs->n; i++) {
		for (k = 0; k < rs->r[i].nfuncs; k++) {
			if (rs->r[i].funcs[k].site != site)
				continue;
			if (!top || rs->r[i].seq > top->seq) {
				top = &rs->r[i];
				if (fout)
					*fout = &rs->r[i].funcs[k];
			}
		}
	}
	return top;
}
