/* SPDX-License-Identifier: MIT */
/*
 * One small JSON writer for everything ovup prints with --json: objects
 * and arrays nested up to OVUP_JSON_DEPTH deep (ovup's go 4 deep), strings escaped, numbers, booleans,
 * null.  Addresses are strings ("0x..."): JSON numbers lose 64-bit
 * precision in common readers.
 */
#ifndef OVUP_JSON_H
#define OVUP_JSON_H

#include <stdint.h>
#include <stdio.h>

#define OVUP_JSON_DEPTH 16

struct ovup_json {
	FILE *f;
	unsigned depth;
	unsigned char used[OVUP_JSON_DEPTH]; /* the open container has a member */
	char close[OVUP_JSON_DEPTH];         /* and the bracket that closes it */
};

/* Every value takes a key: the member's name inside an object, NULL
 * inside an array or at the top. */
void ovup_json_init(struct ovup_json *j, FILE *f);
void ovup_json_object(struct ovup_json *j, const char *key);
void ovup_json_array(struct ovup_json *j, const char *key);
void ovup_json_end(struct ovup_json *j); /* closes the innermost; a newline at the top */
void ovup_json_str(struct ovup_json *j, const char *key, const char *s); /* NULL: null */
void ovup_json_u64(struct ovup_json *j, const char *key, uint64_t v);
void ovup_json_i64(struct ovup_json *j, const char *key, int64_t v);
void ovup_json_addr(struct ovup_json *j, const char *key, uint64_t addr);
void ovup_json_bool(struct ovup_json *j, const char *key, int v);
void ovup_json_null(struct ovup_json *j, const char *key);
/* text, a whole JSON document another run printed, as the value */
void ovup_json_raw(struct ovup_json *j, const char *key, const char *text);

#endif
