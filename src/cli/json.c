// SPDX-License-Identifier: MIT
/*
 * The JSON writer (json.h): compact output, one document per line, keys
 * in the order they are written.
 */
#include "json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* a string with '"', '\' and control bytes escaped; other bytes as given */
static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* the "," before a member, and its "key": */
static void member(struct ovup_json *j, const char *key)
{
	if (j->depth && j->used[j->depth - 1]++)
		fputc(',', j->f);
	if (key) {
		quoted(j->f, key);
		fputc(':', j->f);
	}
}

void ovup_json_init(struct ovup_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
}

static void open_container(struct ovup_json *j, const char *key, char open, char close)
{
	member(j, key);
	fputc(open, j->f);
	if (j->depth == OVUP_JSON_DEPTH)
		abort(); /* a bug in a renderer, not an input: ovup's documents are shallow */
	j->used[j->depth] = 0;
	j->close[j->depth++] = close;
}

void ovup_json_object(struct ovup_json *j, const char *key)
{
	open_container(j, key, '{', '}');
}

void ovup_json_array(struct ovup_json *j, const char *key)
{
	open_container(j, key, '[', ']');
}

void ovup_json_end(struct ovup_json *j)
{
	if (!j->depth)
		return;
	fputc(j->close[--j->depth], j->f);
	if (!j->depth)
		fputc('\n', j->f);
}

void ovup_json_str(struct ovup_json *j, const char *key, const char *s)
{
	if (!s) {
		ovup_json_null(j, key);
		return;
	}
	member(j, key);
	quoted(j->f, s);
}

void ovup_json_u64(struct ovup_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void ovup_json_i64(struct ovup_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void ovup_json_addr(struct ovup_json *j, const char *key, uint64_t addr)
{
	member(j, key);
	fprintf(j->f, "\"0x%" PRIx64 "\"", addr);
}

void ovup_json_bool(struct ovup_json *j, const char *key, int v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void ovup_json_null(struct ovup_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void ovup_json_raw(struct ovup_json *j, const char *key, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (!n) {
		ovup_json_null(j, key);
		return;
	}
	member(j, key);
	/* one document: without its closing newline */
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	fwrite(text, 1, n, j->f);
}
