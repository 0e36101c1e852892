// SPDX-License-Identifier: MIT
/*
 * A patch from an upstream diff (--diff FIX.patch --source DIR): the C
 * unit the diff touches is compiled as DIR has it and as the diff leaves
 * it, to assembly, each function and variable in its own section; the
 * two are compared function by function (local labels renumbered, the
 * constants a function uses compared by content); the functions whose
 * code changed, and the new ones, are kept, and everything else becomes a
 * reference by name, bound by the resolve step to the running target's
 * own functions and variables (never a fresh copy of a variable: that
 * would fork its state).  The result is assembled into the patch object
 * the rest of the procedure takes as if it had compiled a patch file.
 */
#define _GNU_SOURCE
#include "verbs.h"
#include "../elf/elf.h"
#include "../target/target.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the diff ---- */

struct dfile {
	char *path;  /* relative to DIR, -p1 */
	int created; /* --- /dev/null */
	int deleted; /* +++ /dev/null */
	long *lines; /* lines of the new file that changed (a deletion:
			  * the line after it) */
	size_t nlines;
	size_t start, end; /* its part of the diff text */
};

static void add_line(struct dfile *f, long l)
{
	f->lines = ovup_xrealloc(f->lines, (f->nlines + 1) * sizeof(*f->lines));
	f->lines[f->nlines++] = l;
}

/* "a/dir/file.c\t2024-..." -> "dir/file.c" */
static char *strip1(const char *s)
{
	size_t n = strcspn(s, "\t\n");
	char *p = ovup_xasprintf("%.*s", (int)n, s), *slash = strchr(p, '/'), *out;

	if (!strcmp(p, "/dev/null"))
		return p;
	out = ovup_xstrdup(slash ? slash + 1 : p);
	free(p);
	return out;
}

static int parse_diff(const char *text, struct dfile **out, size_t *nout)
{
	struct dfile *files = NULL, *cur = NULL;
	const char *l, *next;
	long nl = 0, left_old = 0, left_new = 0;
	int created = 0;
	size_t n = 0, header = 0;

	for (l = text; l && *l; l = next) {
		next = strchr(l, '\n');
		next = next ? next + 1 : NULL;
		if (!left_old && !left_new && !strncmp(l, "--- ", 4)) {
			created = !strncmp(l + 4, "/dev/null", 9);
			header = (size_t)(l - text);
			if (cur)
				cur->end = header;
			continue;
		}
		if (!left_old && !left_new && !strncmp(l, "+++ ", 4)) {
			files = ovup_xrealloc(files, (n + 1) * sizeof(*files));
			cur = &files[n++];
			memset(cur, 0, sizeof(*cur));
			cur->path = strip1(l + 4);
			cur->start = header;
			cur->end = strlen(text);
			cur->created = created;
			cur->deleted = !strcmp(cur->path, "/dev/null");
			continue;
		}
		if (cur && !strncmp(l, "@@ -", 4)) {
			long a, b = 1, c, d = 1;

			if (sscanf(l, "@@ -%ld,%ld +%ld,%ld @@", &a, &b, &c, &d) != 4 &&
			    sscanf(l, "@@ -%ld +%ld,%ld @@", &a, &c, &d) != 3 &&
			    sscanf(l, "@@ -%ld,%ld +%ld @@", &a, &b, &c) != 3 &&
			    sscanf(l, "@@ -%ld +%ld @@", &a, &c) != 2)
				continue;
			nl = c;
			left_old = b;
			left_new = d;
			continue;
		}
		if (!cur || (!left_old && !left_new))
			continue;
		if (*l == '+') {
			add_line(cur, nl++);
			left_new--;
		} else if (*l == '-') {
			add_line(cur, nl);
			left_old--;
		} else if (*l == ' ' || *l == '\n') {
			nl++;
			left_old--;
			left_new--;
		}
	}
	*out = files;
	*nout = n;
	return 0;
}

static void free_files(struct dfile *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].lines);
	}
	free(f);
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* ---- assembly, as GCC writes it ---- */

struct asym {
	char *name;
	int func, obj, global;
	int sec;       /* section of its label, -1 if not defined */
	long line;     /* its first .loc line (functions) */
	int owner_sec; /* functions: not used; variables: their section */
};
struct aunit {
	char **lines;
	size_t n;
	int *sec; /* section of each line, -1 for none */
	char **secs;
	size_t nsecs;
	struct asym *syms;
	size_t nsyms;
	int *owner;   /* per section: the symbol that owns it, or -1 */
	int *nest;    /* per line: in a section entered for a few lines
		       * (.pushsection/.popsection, .section/.previous: a
		       * kernel's __bug_table, __ex_table, .altinstructions
		       * entries), the section around it; else -1 */
	int mainfile; /* .file N of the unit's own source */
};

static int sec_id(struct aunit *u, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < u->nsecs; i++)
		if (strlen(u->secs[i]) == len && !strncmp(u->secs[i], name, len))
			return (int)i;
	u->secs = ovup_xrealloc(u->secs, (u->nsecs + 1) * sizeof(*u->secs));
	u->secs[u->nsecs] = ovup_xasprintf("%.*s", (int)len, name);
	return (int)u->nsecs++;
}

static struct asym *sym_get(struct aunit *u, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < u->nsyms; i++)
		if (strlen(u->syms[i].name) == len && !strncmp(u->syms[i].name, name, len))
			return &u->syms[i];
	u->syms = ovup_xrealloc(u->syms, (u->nsyms + 1) * sizeof(*u->syms));
	memset(&u->syms[u->nsyms], 0, sizeof(u->syms[0]));
	u->syms[u->nsyms].name = ovup_xasprintf("%.*s", (int)len, name);
	u->syms[u->nsyms].sec = -1;
	return &u->syms[u->nsyms++];
}

static struct asym *sym_find(const struct aunit *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->nsyms; i++)
		if (!strcmp(u->syms[i].name, name))
			return &u->syms[i];
	return NULL;
}

static int is_symch(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '$';
}

/* The directive of a line (".section"), its argument in *arg. */
static size_t directive(const char *l, const char **arg)
{
	size_t n;

	while (*l == ' ' || *l == '\t')
		l++;
	if (*l != '.')
		return 0;
	n = strcspn(l, " \t");
	*arg = l + n + strspn(l + n, " \t");
	return n;
}

static const char *lead(const char *l)
{
	return l + strspn(l, " \t");
}

/* Does the quoted name at q (after its opening quote) name the file
 * base, as "dir/base" or "base"? */
static int ends_with_n(const char *q, const char *base)
{
	size_t n = strcspn(q, "\""), b = strlen(base);

	return n >= b && !strncmp(q + n - b, base, b) && (n == b || q[n - b - 1] == '/');
}

/* The section an owner name is read from: ".text.unlikely.F" -> "F". */
static const char *sec_tail(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(s, prefix, n) ? s + n : NULL;
}

/* The symbol line i belongs to: its section's owner, or the owner of
 * the section it is an aside of; -1 for none. */
static int lown(const struct aunit *u, size_t i)
{
	int s = u->sec[i];

	if (s >= 0 && u->owner[s] >= 0)
		return u->owner[s];
	return u->nest[i] >= 0 ? u->owner[u->nest[i]] : -1;
}

/* Sections of a kernel unit that hold what the running kernel already
 * has and a patch must not bring: its exports, initcalls, module
 * information and references kept only for the linker. */
static int meta_sec(const char *name)
{
	static const char *const pre[] = {
		"___ksymtab", "__ksymtab", ".initcall", ".con_initcall",       ".export_symbol",
		".modinfo",   "__param",   "__modver",  ".discard.addressable"
	};
	size_t i;

	name += *name == '"';
	for (i = 0; i < OVUP_ARRAY_SIZE(pre); i++)
		if (!strncmp(name, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

static int parse_asm(char *text, const char *mainbase, struct aunit *u)
{
	int cur = -1, prev = -1, stack[16], depth = 0, outer = -1;
	char *save = NULL, *l;
	size_t i, switched = 0;

	memset(u, 0, sizeof(*u));
	u->mainfile = -1;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *arg = NULL, *d = lead(l);
		size_t dn = directive(l, &arg);

		u->lines = ovup_xrealloc(u->lines, (u->n + 1) * sizeof(*u->lines));
		u->sec = ovup_xrealloc(u->sec, (u->n + 1) * sizeof(*u->sec));
		u->nest = ovup_xrealloc(u->nest, (u->n + 1) * sizeof(*u->nest));
		u->lines[u->n] = l;
		u->nest[u->n] = -1;
		if (dn == 8 && !strncmp(d, ".section", 8)) {
			outer = prev = cur;
			switched = u->n;
			cur = sec_id(u, arg, strcspn(arg, ", \t"));
		} else if (dn == 12 && !strncmp(d, ".pushsection", 12)) {
			if (depth < 16)
				stack[depth++] = cur;
			prev = cur;
			cur = sec_id(u, arg, strcspn(arg, ", \t"));
		} else if (dn == 11 && !strncmp(d, ".popsection", 11)) {
			if (depth)
				cur = stack[--depth];
		} else if (dn == 9 && !strncmp(d, ".previous", 9)) {
			int t = cur;

			/* the lines since the last .section were an aside */
			for (i = switched; !depth && outer >= 0 && i < u->n; i++)
				if (u->nest[i] < 0)
					u->nest[i] = outer;
			cur = prev;
			prev = t;
			outer = -1;
		} else if ((dn == 5 && !strncmp(d, ".text", 5)) ||
			   (dn == 5 && !strncmp(d, ".data", 5)) ||
			   (dn == 4 && !strncmp(d, ".bss", 4))) {
			prev = cur;
			cur = sec_id(u, d, dn);
		} else if (dn == 5 && !strncmp(d, ".type", 5)) {
			struct asym *s = sym_get(u, arg, strcspn(arg, ", \t"));

			s->func |= strstr(arg, "@function") != NULL;
			s->obj |= strstr(arg, "@object") != NULL;
		} else if ((dn == 6 && !strncmp(d, ".globl", 6)) ||
			   (dn == 5 && !strncmp(d, ".weak", 5))) {
			sym_get(u, arg, strcspn(arg, " \t"))->global = 1;
		} else if (dn == 5 && !strncmp(d, ".file", 5) && isdigit((unsigned char)*arg)) {
			const char *q = strchr(arg, '"');

			if (q && u->mainfile < 0 && ends_with_n(q + 1, mainbase))
				u->mainfile = atoi(arg);
		} else if (!dn && d == l && is_symch((unsigned char)*l) && strchr(l, ':')) {
			size_t n = strcspn(l, ":");

			if (l[n] == ':' && n &&
			    strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
				      "NOPQRSTUVWXYZ0123456789_.$") == n &&
			    strncmp(l, ".L", 2))
				sym_get(u, l, n)->sec = cur;
		}
		if (depth && u->nest[u->n] < 0)
			u->nest[u->n] = stack[0];
		u->sec[u->n++] = cur;
	}
	/* who owns each section: a function its text and its private
	 * constants (.rodata.F, .rodata.F.str1.1), a variable its section */
	u->owner = ovup_xcalloc(u->nsecs ? u->nsecs : 1, sizeof(*u->owner));
	for (i = 0; i < u->nsecs; i++) {
		const char *s = u->secs[i], *t;
		size_t k;

		u->owner[i] = -1;
		for (k = 0; k < u->nsyms; k++) {
			const struct asym *y = &u->syms[k];

			if (y->sec < 0)
				continue;
			if (y->func) {
				static const char *const pre[] = { ".text.unlikely.", ".text.hot.",
								   ".text.startup.",  ".text.exit.",
								   ".text.",          ".rodata." };
				size_t j, nl = strlen(y->name);

				for (j = 0; j < OVUP_ARRAY_SIZE(pre); j++) {
					t = sec_tail(s, pre[j]);
					/* its jump tables (.rodata.F), not its
					 * strings (.rodata.F.str1.1): GCC merges
					 * those with other functions' */
					if (t && !strncmp(t, y->name, nl) && !t[nl])
						break;
				}
				if (j < OVUP_ARRAY_SIZE(pre) && (u->owner[i] < 0 || j < 5))
					u->owner[i] = (int)k;
			} else if (y->obj && y->sec == (int)i) {
				u->owner[i] = (int)k;
			}
		}
	}
	/* each function's first line in its own source file */
	for (i = 0; i < u->n; i++) {
		const char *arg, *d = lead(u->lines[i]);
		size_t dn = directive(u->lines[i], &arg);
		int f, o;

		if (dn != 4 || strncmp(d, ".loc", 4) || u->sec[i] < 0)
			continue;
		o = lown(u, i);
		if (o < 0 || !u->syms[o].func || u->syms[o].line)
			continue;
		f = atoi(arg);
		if (f == u->mainfile)
			u->syms[o].line = strtol(arg + strcspn(arg, " \t"), NULL, 10);
	}
	return 0;
}

static void free_asm(struct aunit *u)
{
	size_t i;

	for (i = 0; i < u->nsecs; i++)
		free(u->secs[i]);
	for (i = 0; i < u->nsyms; i++)
		free(u->syms[i].name);
	free(u->secs);
	free(u->syms);
	free(u->lines);
	free(u->sec);
	free(u->nest);
	free(u->owner);
}

/* ---- comparing ---- */

/* Appends line l with its local labels (.L...) renumbered in the order
 * they first appear in this function, so that renumbering elsewhere in
 * the unit is no change; labels defined outside the function's own
 * sections are collected in *ext to be compared by their contents. */
struct labels {
	char **names;
	size_t n;
};

static size_t label_no(struct labels *lb, const char *name, size_t len, int *fresh)
{
	size_t i;

	*fresh = 0;
	for (i = 0; i < lb->n; i++)
		if (strlen(lb->names[i]) == len && !strncmp(lb->names[i], name, len))
			return i;
	lb->names = ovup_xrealloc(lb->names, (lb->n + 1) * sizeof(*lb->names));
	lb->names[lb->n] = ovup_xasprintf("%.*s", (int)len, name);
	*fresh = 1;
	return lb->n++;
}

static void norm_line(struct ovup_buf *b, const char *l, struct labels *lb)
{
	const char *p = l;
	size_t start = b->len;
	int quoted = 0;

	/* a WARN/BUG's line number in the kernel's bug table: moved code
	 * is no change (its report names the old line) */
	if (strstr(l, "bug_entry::line")) {
		ovup_buf_printf(b, ".word (line)\n");
		return;
	}
	while (*p) {
		if (*p == '"' && (p == l || p[-1] != '\\'))
			quoted = !quoted;
		if (*p == '#' && !quoted)
			break; /* a comment: inline asm's #APP, line markers */
		if (p[0] == '.' && p[1] == 'L' && (p == l || !is_symch((unsigned char)p[-1]))) {
			size_t n = 2, k;
			int fresh;

			while (is_symch((unsigned char)p[n]))
				n++;
			k = label_no(lb, p, n, &fresh);
			ovup_buf_printf(b, ".L#%zu", k);
			p += n;
			continue;
		}
		ovup_buf_add(b, p, 1);
		p++;
	}
	while (b->len > start && (b->s[b->len - 1] == ' ' || b->s[b->len - 1] == '\t'))
		b->len--;
	if (b->len > start)
		ovup_buf_add(b, "\n", 1);
}

/* Lines that say nothing about the code: debug line info, blank. */
static int skip_line(const char *l)
{
	const char *d = lead(l), *arg;
	size_t dn = directive(l, &arg);

	if (!*d)
		return 1;
	return (dn == 4 && !strncmp(d, ".loc", 4)) || (dn == 5 && !strncmp(d, ".file", 5)) ||
	       (dn == 6 && !strncmp(d, ".ident", 6));
}

/* The definition of local label name outside the owner's sections: its
 * lines up to the next label or section change. */
static void label_body(const struct aunit *u, const char *name, int owner, struct ovup_buf *b,
		       struct labels *lb)
{
	size_t i, len = strlen(name);

	for (i = 0; i < u->n; i++) {
		const char *l = u->lines[i];
		size_t k;

		if (strncmp(l, name, len) || l[len] != ':')
			continue;
		if (lown(u, i) == owner)
			return; /* its own: already in the text */
		ovup_buf_printf(b, "= %s\n", u->sec[i] >= 0 ? u->secs[u->sec[i]] : "");
		for (k = i + 1; k < u->n && u->sec[k] == u->sec[i]; k++) {
			const char *d = lead(u->lines[k]);

			if (u->lines[k][0] != '\t' && u->lines[k][0] != ' ')
				break; /* the next label */
			if (!skip_line(u->lines[k]) && strncmp(d, ".section", 8))
				norm_line(b, u->lines[k], lb);
		}
		return;
	}
}

/* A function or variable as text that compares equal when its code and
 * everything it references by content is the same. */
static char *normal_form(const struct aunit *u, int owner)
{
	struct ovup_buf b = { 0 };
	struct labels lb = { 0 };
	size_t i, done;

	for (i = 0; i < u->n; i++) {
		if (u->sec[i] < 0 || lown(u, i) != owner || skip_line(u->lines[i]))
			continue;
		if (!strncmp(lead(u->lines[i]), ".section", 8))
			ovup_buf_printf(&b, ".section %s\n", u->secs[u->sec[i]]);
		else
			norm_line(&b, u->lines[i], &lb);
	}
	/* the constants it uses from shared sections, by content (a label
	 * found while doing so is added and done in turn) */
	for (done = 0; done < lb.n; done++)
		label_body(u, lb.names[done], owner, &b, &lb);
	for (i = 0; i < lb.n; i++)
		free(lb.names[i]);
	free(lb.names);
	return b.s ? b.s : ovup_xstrdup("");
}

/* ---- what changed ---- */

/* CARRIED: unchanged, but the target has no copy of it (its build
 * inlined it everywhere): the patch brings its own */
enum change { SAME, CHANGED, AFFECTED, NEW, CARRIED };

struct verdict {
	enum change *func; /* per new-unit symbol */
	size_t nchanged, nnew, naffected;
};

/* The line span of the function that starts at line `from` of the new
 * source: to the brace that closes its first opening brace. */
static long span_end(const char *src, long from)
{
	long line = 1, depth = 0;
	int opened = 0;
	const char *p;

	for (p = src; *p; p++) {
		if (*p == '\n')
			line++;
		if (line < from)
			continue;
		if (*p == '{') {
			depth++;
			opened = 1;
		} else if (*p == '}' && opened && --depth == 0) {
			return line;
		}
	}
	return line;
}

static int touched(const struct dfile *f, long a, long b)
{
	size_t i;

	for (i = 0; i < f->nlines; i++)
		if (f->lines[i] >= a && f->lines[i] <= b)
			return 1;
	return 0;
}

/* Where a struct or union type is defined at p ("struct tag {", also
 * inside "static const struct {" or with its brace on the next line):
 * the position of its brace, or NULL. */
static const char *type_brace(const char *p, const char *eol)
{
	const char *k, *q;

	for (k = p; k < eol; k++) {
		size_t n = !strncmp(k, "struct", 6) ? 6 : !strncmp(k, "union", 5) ? 5 : 0;

		if (!n || (k > p && is_symch((unsigned char)k[-1])) ||
		    is_symch((unsigned char)k[n]))
			continue;
		/* only the tag may stand between the keyword and the brace */
		q = k + n;
		q += strspn(q, " \t\n");
		while (is_symch((unsigned char)*q))
			q++;
		q += strspn(q, " \t\n");
		if (*q == '{')
			return q;
	}
	return NULL;
}

/* The diff changes a struct or union definition (at file scope) of the
 * new source: its layout may change under running code.  Textual, so a
 * comment inside one too: refused all the same (split the diff). */
static int check_structs(const char *src, const struct dfile *f, const char *path)
{
	const char *l = src, *eol, *brace, *c;
	long line = 1, depth = 0;

	for (; *l; l = *eol ? eol + 1 : eol, line++) {
		eol = strchr(l, '\n');
		if (!eol)
			eol = l + strlen(l);
		if (!depth && (brace = type_brace(l, eol)) &&
		    touched(f, line, span_end(src, line))) {
			int n = (int)(brace - l);

			while (n > 0 && isspace((unsigned char)l[n - 1]))
				n--;
			return ovup_err(-ENOTSUP,
					"%s:%ld: the diff changes the definition of '%.*s', "
					"whose layout running code may use; ovup cannot "
					"change a type under it (split that part out of the "
					"diff)",
					path, line, n, l);
		}
		for (c = l; c < eol; c++)
			depth += (*c == '{') - (*c == '}');
		if (depth < 0)
			depth = 0;
	}
	return 0;
}

/* The line of the first changed line that names `name`, or 0. */
static long line_naming(const char *src, const struct dfile *f, const char *name)
{
	size_t len = strlen(name), i;

	for (i = 0; i < f->nlines; i++) {
		const char *p = src;
		long line = 1;

		for (; *p && line < f->lines[i]; p++)
			line += *p == '\n';
		for (; *p && *p != '\n'; p++)
			if (!strncmp(p, name, len) && !is_symch((unsigned char)p[len]) &&
			    (p == src || !is_symch((unsigned char)p[-1])))
				return line;
	}
	return 0;
}

/* GCC's name of a function's static variable: "count.0" */
static size_t base_len(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1)
		       ? (size_t)(dot - name)
		       : strlen(name);
}

static int compare(const struct aunit *o, const struct aunit *u, const char *src,
		   const struct dfile *f, struct verdict *v)
{
	size_t k;

	v->func = ovup_xcalloc(u->nsyms ? u->nsyms : 1, sizeof(*v->func));
	for (k = 0; k < u->nsyms; k++) {
		const struct asym *s = &u->syms[k], *os = sym_find(o, s->name);
		char *a, *b;
		int same;

		if (s->sec < 0 || (!s->func && !s->obj) || meta_sec(u->secs[s->sec]))
			continue;
		if (!os || os->sec < 0 || os->func != s->func) {
			size_t bl = base_len(s->name), j;

			for (j = 0; s->obj && bl < strlen(s->name) && j < o->nsyms; j++)
				if (o->syms[j].obj && o->syms[j].sec >= 0 &&
				    base_len(o->syms[j].name) == bl &&
				    !strncmp(o->syms[j].name, s->name, bl))
					return ovup_err(-ENOTSUP,
							"%s: static variable '%.*s' is '%s' in the "
							"new build and '%s' in the old: ovup cannot "
							"tell which running variable it is",
							f->path, (int)bl, s->name, s->name,
							o->syms[j].name);
			v->func[k] = NEW;
			v->nnew++;
			continue;
		}
		a = normal_form(o, (int)(os - o->syms));
		b = normal_form(u, (int)k);
		same = !strcmp(a, b);
		free(a);
		free(b);
		if (same)
			continue;
		if (s->obj) {
			long line = line_naming(src, f, s->name);

			if (line)
				return ovup_err(
					-ENOTSUP,
					"%s:%ld: the diff changes the initial value of '%s'; "
					"the running program's copy keeps the old one, and "
					"ovup cannot change data in place",
					f->path, line, s->name);
			return ovup_err(-ENOTSUP,
					"%s: the diff changes the initial value of '%s'; the "
					"running program's copy keeps the old one, and ovup "
					"cannot change data in place",
					f->path, s->name);
		}
		if (s->line && !touched(f, s->line, span_end(src, s->line))) {
			v->func[k] = AFFECTED;
			v->naffected++;
		} else {
			v->func[k] = CHANGED;
			v->nchanged++;
		}
	}
	return 0;
}

/* ---- the patch's assembly ---- */

static int sym_directive(const char *l, const char **name, size_t *len)
{
	static const char *const dirs[] = { ".globl", ".weak",   ".type",      ".size",
					    ".local", ".hidden", ".protected", ".internal" };
	const char *arg, *d = lead(l);
	size_t dn = directive(l, &arg), i;

	for (i = 0; i < OVUP_ARRAY_SIZE(dirs); i++)
		if (dn == strlen(dirs[i]) && !strncmp(d, dirs[i], dn)) {
			*name = arg;
			*len = strcspn(arg, ", \t");
			return 1;
		}
	return 0;
}

/* Does any kept line name sym as a whole word? */
static int referenced(const struct aunit *u, const unsigned char *keep, const char *sym)
{
	size_t i, len = strlen(sym);

	for (i = 0; i < u->n; i++) {
		const char *p = u->lines[i];

		if (!keep[i])
			continue;
		for (; (p = strstr(p, sym)); p += len)
			if (!is_symch((unsigned char)p[len]) &&
			    (p == u->lines[i] || !is_symch((unsigned char)p[-1])))
				return 1;
	}
	return 0;
}

/* The debug information describes the functions and variables left out
 * too: the local labels it names there (their bounds, their variables'
 * ranges) are defined as 0, so that the patch's DWARF still tells how
 * its own functions are called (contract.c reads it). */
static int undefined_labels(const struct aunit *u, const unsigned char *keep, struct ovup_buf *b)
{
	struct labels def = { 0 }, ref = { 0 }, code = { 0 };
	size_t i, k;
	int fresh, ret = 0;

	for (i = 0; i < u->n; i++) {
		const char *l = u->lines[i], *p;
		int dbg = u->sec[i] >= 0 && !strncmp(u->secs[u->sec[i]], ".debug", 6);

		if (!keep[i])
			continue;
		if (!strncmp(l, ".L", 2) && l[strcspn(l, ":")] == ':')
			label_no(&def, l, strcspn(l, ":"), &fresh);
		for (p = l; (p = strstr(p, ".L")); p += 2) {
			size_t n = 2;

			if (p > l && is_symch((unsigned char)p[-1]))
				continue;
			while (is_symch((unsigned char)p[n]))
				n++;
			if (p == l && p[n] == ':')
				continue;
			label_no(dbg ? &ref : &code, p, n, &fresh);
		}
		/* a view number of a .loc line defines its label */
		if ((p = strstr(l, " view ")) && !strncmp(lead(l), ".loc", 4) &&
		    !strncmp(p + 6, ".LVU", 4))
			label_no(&def, p + 6, strcspn(p + 6, " \t"), &fresh);
	}
	/* the code's own labels must all be there: never a guessed address */
	for (k = 0; k < code.n && !ret; k++) {
		for (i = 0; i < def.n && strcmp(def.names[i], code.names[k]); i++)
			;
		if (i == def.n)
			ret = ovup_err(-ENOTSUP,
				       "the patch's code uses the local label %s of code it "
				       "leaves out; ovup cannot build this unit from a diff",
				       code.names[k]);
	}
	for (k = 0; k < ref.n && !ret; k++) {
		for (i = 0; i < def.n && strcmp(def.names[i], ref.names[k]); i++)
			;
		if (i == def.n)
			ovup_buf_printf(b, "\t.set\t%s, 0\n", ref.names[k]);
	}
	for (i = 0; i < def.n; i++)
		free(def.names[i]);
	for (i = 0; i < ref.n; i++)
		free(ref.names[i]);
	for (i = 0; i < code.n; i++)
		free(code.names[i]);
	free(def.names);
	free(ref.names);
	free(code.names);
	return ret;
}

/* Is symbol k defined in the unit but left out of the patch (the
 * target's own)?  A function's cold part goes with its function. */
static int gone(const struct aunit *u, const struct verdict *v, size_t k)
{
	int sec = u->syms[k].sec, o;

	if (sec < 0)
		return 0;
	o = u->owner[sec];
	return o >= 0 && v->func[o] == SAME;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A debug line with the symbols left out written as 0: the DWARF of the
 * unit's other functions and variables must not make the patch need
 * them (one the target's build optimised away would fail the link).
 * Sizes stay as they were: GCC writes the units' lengths as numbers. */
static void debug_line(struct ovup_buf *b, const char *l, char **gone_names, size_t ngone)
{
	const char *p = l;

	while (*p) {
		size_t n = 0;
		char tok[256];

		if (*p == '"') { /* a string's bytes stay: GCC counted them */
			for (n = 1; p[n] && p[n] != '"'; n++)
				if (p[n] == '\\' && p[n + 1])
					n++;
			n += p[n] == '"';
			ovup_buf_add(b, p, n);
			p += n;
			continue;
		}
		if ((isalpha((unsigned char)*p) || *p == '_') &&
		    (p == l || !is_symch((unsigned char)p[-1]))) {
			while (is_symch((unsigned char)p[n]))
				n++;
			if (n < sizeof(tok)) {
				char *key = tok;

				memcpy(tok, p, n);
				tok[n] = 0;
				if (bsearch(&key, gone_names, ngone, sizeof(*gone_names), by_str)) {
					ovup_buf_add(b, "0", 1);
					p += n;
					if (*p == '@') /* sym@dtpoff: the whole term */
						for (p++; is_symch((unsigned char)*p); p++)
							;
					continue;
				}
			}
			ovup_buf_add(b, p, n);
			p += n;
			continue;
		}
		ovup_buf_add(b, p, 1);
		p++;
	}
	ovup_buf_add(b, "\n", 1);
}

/* The identifiers the patch's code names (debug information aside),
 * sorted, for bsearch. */
static char **code_names(const struct aunit *u, const struct verdict *v, size_t *n)
{
	char **out = NULL;
	size_t i, cap = 0;

	*n = 0;
	for (i = 0; i < u->n; i++) {
		int o = u->sec[i] >= 0 ? lown(u, i) : -1;
		const char *p = u->lines[i];

		if ((o >= 0 && v->func[o] == SAME) ||
		    (u->sec[i] >= 0 && !strncmp(u->secs[u->sec[i]], ".debug", 6)))
			continue;
		while (*p) {
			size_t len = 0;

			if (!(isalpha((unsigned char)*p) || *p == '_') ||
			    (p > u->lines[i] && is_symch((unsigned char)p[-1]))) {
				p++;
				continue;
			}
			while (is_symch((unsigned char)p[len]))
				len++;
			if (*n == cap) {
				cap = cap ? 2 * cap : 256;
				out = ovup_xrealloc(out, cap * sizeof(*out));
			}
			out[(*n)++] = ovup_xasprintf("%.*s", (int)len, p);
			p += len;
		}
	}
	if (*n)
		qsort(out, *n, sizeof(*out), by_str);
	return out;
}

/* Does the target define the unit's static function name (in file)? */
static int target_has(const struct ovup_symtab *st, const char *name, const char *file)
{
	struct ovup_selector sel = { .name = name, .file = file };
	size_t first, n, i;

	ovup_symtab_lookup(st, name, &first, &n);
	for (i = first; i < first + n; i++)
		if (ovup_selector_match(st, &st->syms[i], &sel))
			return 1;
	return 0;
}

/* The line at file scope where function name is defined in src, or 0. */
static long def_line(const char *src, const char *name)
{
	size_t len = strlen(name);
	const char *l = src, *eol, *p;
	long line = 1, depth = 0;

	for (; *l; l = *eol ? eol + 1 : eol, line++) {
		eol = strchr(l, '\n');
		if (!eol)
			eol = l + strlen(l);
		for (p = l; !depth && p < eol && (p = strstr(p, name)) && p < eol; p += len) {
			const char *q = p + len, *brace, *semi;

			if ((p > l && is_symch((unsigned char)p[-1])) ||
			    is_symch((unsigned char)*q))
				continue;
			q += strspn(q, " \t");
			if (*q != '(')
				continue;
			brace = strchr(q, '{');
			semi = strchr(q, ';');
			if (brace && (!semi || brace < semi))
				return line;
		}
		for (p = l; p < eol; p++)
			depth += (*p == '{') - (*p == '}');
		if (depth < 0)
			depth = 0;
	}
	return 0;
}

/* A function of the unit the target has its own copy of, whose source
 * the diff changes, but that the unit compiled here does not have (these
 * flags inline it everywhere): that copy would keep the old code, so the
 * build stops. */
static int check_target_copies(const struct ovup_symtab *st, const struct aunit *u, const char *src,
			       const struct dfile *f, const char *file)
{
	struct ovup_selector sel = { .file = file };
	size_t i;

	for (i = 0; i < st->nsyms; i++) {
		const struct ovup_sym *s = &st->syms[i];
		char base[256];
		long line;

		if (s->type != OVUP_SYM_FUNC || s->bind != OVUP_BIND_LOCAL || !s->file ||
		    !ovup_selector_match(st, s, &sel))
			continue;
		/* foo.part.0, foo.constprop.0, foo.cold: foo's */
		snprintf(base, sizeof(base), "%.*s", (int)strcspn(s->name, "."), s->name);
		if (sym_find(u, s->name) || sym_find(u, base))
			continue;
		line = def_line(src, base);
		if (line && touched(f, line, span_end(src, line)))
			return ovup_err(-ENOTSUP,
					"%s:%ld: the diff changes '%s', of which the running "
					"program has its own copy (%s), but the unit compiled "
					"here has none (inlined with these flags): that copy "
					"would keep the old code; give the target's compiler "
					"flags (after '--' or in compile_commands.json)",
					f->path, line, base, s->name);
	}
	return 0;
}

/* The unit's static functions (and constants) the patch's code uses
 * that the target has no copy of (its build inlined them where it
 * called them): the patch carries its own, static, and in turn what
 * they use. */
/* Carried too: nothing where the target's symbols do not say which file
 * a static is from (the kernel's kallsyms; and a kernel build, which
 * reads none): the static is then looked up by name at apply, and a
 * target that inlined it refuses the patch there. */
static void carry(const struct aunit *u, struct verdict *v, const struct ovup_symtab *st,
		  unsigned int traits, const char *file)
{
	int more = 1;
	size_t k, i, n;

	while (more) {
		char **names = code_names(u, v, &n);

		more = 0;
		for (k = 0; k < u->nsyms; k++) {
			const struct asym *s = &u->syms[k];
			char *key = s->name;

			/* a kernel WARN_ONCE's flag (.data.once): the patch's
			 * own, as if it were never reported (forks nothing
			 * but that) */
			int once = s->sec >= 0 && s->obj &&
				   !strncmp(u->secs[s->sec], ".data.once", 10);

			/* read-only data too (an assert's __PRETTY_FUNCTION__.N,
			 * whose number the target's build chose): a copy of a
			 * constant forks no state, unlike a variable's */
			if (s->sec < 0 ||
			    (!s->func && !once &&
			     !(s->obj && !strncmp(u->secs[s->sec], ".rodata", 7))) ||
			    s->global || v->func[k] != SAME ||
			    !bsearch(&key, names, n, sizeof(*names), by_str) ||
			    (!once && ((traits & OVUP_TRAIT_STATICS_NEAR) || !st->nsyms ||
				       target_has(st, s->name, file))))
				continue;
			v->func[k] = CARRIED;
			more = 1;
		}
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
}

/* ---- statics of a target whose symbols name no files ---- */

/* The sections of a unit's assembly, assembled: their sizes bound the
 * distance at which its statics lie from its globals. */
static int unit_sections(const char *sfile, const char *tmp, struct ovup_obj *out)
{
	char *obj = ovup_xasprintf("%s/unit.o", tmp), *res = NULL;
	char *argv[] = { "as", "-o", obj, (char *)sfile, NULL };
	int ret = ovup_run(argv, &res);

	memset(out, 0, sizeof(*out));
	if (ret)
		ret = ovup_err(ret < 0 ? ret : -EINVAL, "%s: the unit does not assemble: %s", sfile,
			       res ? res : "");
	else if ((ret = ovup_elf_obj_read(obj, out)))
		ret = ovup_err(ret, "%s: %s", obj, strerror(-ret));
	free(res);
	free(obj);
	return ret;
}

/* The kind of a symbol's section, the part that stays in a build
 * without -ffunction-sections: ".text.unlikely.f" -> ".text.unlikely". */
static size_t sec_kind(const char *sec, const char *sym)
{
	size_t n = strlen(sec), m = strlen(sym);

	if (n > m + 1 && !strcmp(sec + n - m, sym) && sec[n - m - 1] == '.')
		return n - m - 1;
	return n;
}

/* "near NAME ANCHOR BYTES" for a static, where the target's symbols
 * name no files (kallsyms) and names like 'show' are in many: the unit's
 * own lies within its text (or data) of that kind, around a global of
 * it.  No entry (the name alone) where the unit has no such global. */
static void near_entry(struct ovup_buf *b, const struct aunit *u, const struct asym *s,
		       const struct ovup_obj *uo)
{
	const char *sec = u->secs[s->sec];
	size_t kn = sec_kind(sec, s->name), k, i;
	const struct asym *anchor = NULL;
	uint64_t total = 0;

	for (k = 0; k < u->nsyms && !anchor; k++) {
		const struct asym *a = &u->syms[k];
		const char *as;

		if (!a->global || a->sec < 0 || a->func != s->func || meta_sec(u->secs[a->sec]))
			continue;
		as = u->secs[a->sec];
		if (sec_kind(as, a->name) == kn && !strncmp(as, sec, kn))
			anchor = a;
	}
	if (!anchor)
		return;
	for (i = 0; i < uo->nsecs; i++) {
		const char *t = uo->secs[i].name;

		/* ".text", or ".text.F" for a function F of the unit */
		if ((uo->secs[i].flags & SHF_ALLOC) && !strncmp(t, sec, kn) &&
		    (!t[kn] || (t[kn] == '.' && sym_find(u, t + kn + 1))))
			total += uo->secs[i].size;
	}
	/* slack: the target's compiler may lay it out a little larger */
	ovup_buf_printf(b, "\t.string\t\"near %s %s %llu\"\n", s->name, anchor->name,
			(unsigned long long)(2 * total + 4096));
}

/* A static of this unit the patch binds or replaces by name: no unit
 * before may have had one of that name (the object has one name space). */
static int bound_once(struct labels *seen, const char *name, const char *file)
{
	int fresh;

	label_no(seen, name, strlen(name), &fresh);
	if (fresh)
		return 0;
	return ovup_err(-ENOTSUP,
			"%s: the patch uses or replaces the static '%s', and so does the part "
			"of another file of the diff; ovup binds statics by name: split the "
			"diff by file",
			file, name);
}

static char *patch_asm(const struct aunit *u, const struct verdict *v, const char *file,
		       const struct ovup_obj *uo, unsigned int traits, struct labels *seen)
{
	unsigned char *keep = ovup_xcalloc(u->n ? u->n : 1, 1);
	char **gone_names = ovup_xcalloc(u->nsyms ? u->nsyms : 1, sizeof(*gone_names));
	struct ovup_buf b = { 0 };
	size_t i, k, ngone = 0;

	for (k = 0; k < u->nsyms; k++)
		if (gone(u, v, k))
			gone_names[ngone++] = u->syms[k].name;
	qsort(gone_names, ngone, sizeof(*gone_names), by_str);
	for (i = 0; i < u->n; i++) {
		const char *name, *d = lead(u->lines[i]);
		size_t len;
		int o = u->sec[i] >= 0 ? lown(u, i) : -1;

		keep[i] = 1;
		if (!strncmp(d, ".file", 5) && (d[5] == ' ' || d[5] == '\t')) {
			/* the unit's name: a compile that wraps the assembly
			 * gives its own (objtool takes two for one object) */
			keep[i] = !(traits & OVUP_TRAIT_COMPILES_ASM) ||
				  isdigit((unsigned char)*lead(d + 5));
			continue; /* file numbers, wherever first used */
		}
		if (o >= 0 && v->func[o] == SAME)
			keep[i] = 0; /* the target's own */
		else if (u->sec[i] >= 0 && meta_sec(u->secs[u->sec[i]]) &&
			 (o < 0 || !u->syms[o].func))
			keep[i] = 0; /* the kernel's exports, initcalls, ... */
		else if (sym_directive(u->lines[i], &name, &len)) {
			for (k = 0; k < u->nsyms; k++)
				if (strlen(u->syms[k].name) == len &&
				    !strncmp(u->syms[k].name, name, len))
					break;
			if (k < u->nsyms && gone(u, v, k))
				keep[i] = 0;
			/* a new function or variable is the patch's own */
			if (k < u->nsyms && u->syms[k].sec >= 0 && v->func[k] == NEW &&
			    (!strncmp(d, ".globl", 6) || !strncmp(d, ".weak", 5)))
				keep[i] = 0;
		}
	}
	for (i = 0; i < u->n; i++) {
		if (!keep[i])
			continue;
		if (u->sec[i] >= 0 && !strncmp(u->secs[u->sec[i]], ".debug", 6))
			debug_line(&b, u->lines[i], gone_names, ngone);
		else
			ovup_buf_printf(&b, "%s\n", u->lines[i]);
	}
	if (undefined_labels(u, keep, &b)) {
		free(gone_names);
		free(keep);
		ovup_buf_free(&b);
		return NULL;
	}
	/* for referenced(): the code's references only */
	for (i = 0; i < u->n; i++)
		if (u->sec[i] >= 0 && !strncmp(u->secs[u->sec[i]], ".debug", 6))
			keep[i] = 0;
	/* the selectors say which file's statics are meant: those the patch
	 * uses and those it replaces (non-static here, to replace them) */
	ovup_buf_printf(&b, "\t.section\t.ovup.meta,\"\",@progbits\n");
	for (k = 0; k < u->nsyms; k++) {
		const struct asym *s = &u->syms[k];
		int replaced = s->sec >= 0 && (v->func[k] == CHANGED || v->func[k] == AFFECTED);

		if (s->global || !(replaced || (gone(u, v, k) && referenced(u, keep, s->name))))
			continue;
		if (bound_once(seen, s->name, file)) {
			free(gone_names);
			free(keep);
			ovup_buf_free(&b);
			return NULL;
		}
		if (traits & OVUP_TRAIT_STATICS_NEAR)
			near_entry(&b, u, s, uo);
		else
			ovup_buf_printf(&b, "\t.string\t\"file %s %s\"\n", s->name, file);
	}
	for (k = 0; k < u->nsyms; k++)
		if (u->syms[k].sec >= 0 && !u->syms[k].global &&
		    (v->func[k] == CHANGED || v->func[k] == AFFECTED))
			ovup_buf_printf(&b, "\t.globl\t%s\n", u->syms[k].name);
	free(gone_names);
	free(keep);
	return b.s;
}

/* ---- the driver ---- */

static int mkdirs(const char *path)
{
	char *p = ovup_xstrdup(path), *s;

	for (s = p + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			free(p);
			return -errno;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = ovup_read_file(from, &len);
	int ret;

	if (!data)
		return -errno;
	ret = mkdirs(to);
	if (!ret)
		ret = ovup_write_file_atomic(to, data, len);
	free(data);
	return ret;
}

/* The user's flags with relative include directories made DIR's. */
static char **abs_flags(const struct ovup_apply_opts *o, const char *dir, size_t *n)
{
	char **out = ovup_xcalloc(o->ncflags + 1, sizeof(*out));
	size_t i;

	for (i = 0; i < o->ncflags; i++) {
		const char *f = o->cflags[i];
		static const char *const inc[] = { "-I", "-iquote", "-isystem", "-idirafter" };
		size_t k;

		out[i] = ovup_xstrdup(f);
		for (k = 0; k < OVUP_ARRAY_SIZE(inc); k++) {
			size_t l = strlen(inc[k]);
			const char *v = f + l;

			if (strncmp(f, inc[k], l))
				continue;
			if (*v && *v != '/') {
				free(out[i]);
				out[i] = ovup_xasprintf("%s%s/%s", inc[k], dir, v);
			}
			break;
		}
		if (i > 0 && out[i][0] != '/' && out[i][0] != '-') {
			const char *prev = o->cflags[i - 1];

			for (k = 0; k < OVUP_ARRAY_SIZE(inc); k++)
				if (!strcmp(prev, inc[k])) {
					free(out[i]);
					out[i] = ovup_xasprintf("%s/%s", dir, f);
				}
		}
	}
	*n = o->ncflags;
	return out;
}

/* ---- compile_commands.json ---- */

/* A JSON string at *pp (after its opening quote), unescaped. */
static char *json_string(const char **pp)
{
	struct ovup_buf b = { 0 };
	const char *p = *pp;

	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			ovup_buf_add(&b, p, 1);
			continue;
		}
		p++;
		switch (*p) {
		case 'n':
			ovup_buf_add(&b, "\n", 1);
			break;
		case 't':
			ovup_buf_add(&b, "\t", 1);
			break;
		case 'u': /* what a path or flag may hold: ASCII */
			if (p[1] && p[2] && p[3] && p[4]) {
				char c = (char)strtol((char[]){ p[3], p[4], 0 }, NULL, 16);

				ovup_buf_add(&b, &c, 1);
				p += 4;
			}
			break;
		case 0:
			p--;
			break;
		default:
			ovup_buf_add(&b, p, 1);
		}
	}
	*pp = *p ? p + 1 : p;
	return b.s ? b.s : ovup_xstrdup("");
}

struct ccmd {
	char *dir, *file, *command;
	char **args;
	size_t nargs;
};

static void ccmd_free(struct ccmd *c)
{
	size_t i;

	for (i = 0; i < c->nargs; i++)
		free(c->args[i]);
	free(c->args);
	free(c->dir);
	free(c->file);
	free(c->command);
	memset(c, 0, sizeof(*c));
}

/* The next object of the array at *pp: "directory", "file", "command"
 * or "arguments"; other keys skipped.  0 at the end of the array. */
static int next_ccmd(const char **pp, struct ccmd *c)
{
	const char *p = *pp;
	char *key = NULL;

	memset(c, 0, sizeof(*c));
	while (*p && *p != '{' && *p != ']')
		p++;
	if (*p != '{')
		return 0;
	for (p++; *p && *p != '}';) {
		if (*p != '"') {
			p++;
			continue;
		}
		p++;
		key = json_string(&p);
		while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '"') {
			char *v;

			p++;
			v = json_string(&p);
			if (!strcmp(key, "directory"))
				c->dir = v;
			else if (!strcmp(key, "file"))
				c->file = v;
			else if (!strcmp(key, "command"))
				c->command = v;
			else
				free(v);
		} else if (*p == '[') {
			for (p++; *p && *p != ']';) {
				if (*p++ != '"')
					continue;
				if (!strcmp(key, "arguments")) {
					c->args = ovup_xrealloc(c->args,
								(c->nargs + 1) * sizeof(*c->args));
					c->args[c->nargs++] = json_string(&p);
				} else {
					free(json_string(&p));
				}
			}
		}
		free(key);
		key = NULL;
	}
	*pp = *p ? p + 1 : p;
	return 1;
}

/* "cc -DX='a b' -c f.c" as words, with the shell's quoting. */
static void split_command(struct ccmd *c)
{
	const char *p = c->command;
	struct ovup_buf w = { 0 };
	int any = 0;
	char q = 0;

	for (;; p++) {
		if (!*p || (!q && (*p == ' ' || *p == '\t'))) {
			if (any) {
				c->args = ovup_xrealloc(c->args, (c->nargs + 1) * sizeof(*c->args));
				c->args[c->nargs++] = w.s ? w.s : ovup_xstrdup("");
				memset(&w, 0, sizeof(w));
				any = 0;
			}
			if (!*p)
				break;
			continue;
		}
		any = 1;
		if (q && *p == q)
			q = 0;
		else if (!q && (*p == '\'' || *p == '"'))
			q = *p;
		else if (*p == '\\' && q != '\'' && p[1])
			ovup_buf_add(&w, ++p, 1);
		else
			ovup_buf_add(&w, p, 1);
	}
}

/* The flags compile_commands.json in dir gives for the unit (path
 * relative to dir): what decides the code (-D, -I, -O, -f, -m, -std,
 * -include), with relative directories made the entry's; NULL with *n
 * 0 if there is no such file or entry. */
static char **compdb_flags(const char *dir, const char *unit, size_t *n, char **from)
{
	char *path = ovup_xasprintf("%s/compile_commands.json", dir), *text, *want, *got;
	char **out = NULL;
	const char *p;
	struct ccmd c;

	*n = 0;
	*from = NULL;
	text = ovup_read_file(path, NULL);
	want = ovup_xasprintf("%s/%s", dir, unit);
	got = realpath(want, NULL);
	free(want);
	for (p = text; text && got && next_ccmd(&p, &c); ccmd_free(&c)) {
		char *f, *real;
		size_t i;

		if (!c.file)
			continue;
		f = c.file[0] == '/' || !c.dir ? ovup_xstrdup(c.file)
					       : ovup_xasprintf("%s/%s", c.dir, c.file);
		real = realpath(f, NULL);
		free(f);
		if (!real || strcmp(real, got)) {
			free(real);
			continue;
		}
		free(real);
		if (!c.nargs && c.command)
			split_command(&c);
		out = ovup_xcalloc(c.nargs + 1, sizeof(*out));
		for (i = 1; i < c.nargs; i++) {
			const char *a = c.args[i];
			static const char *const with_dir[] = { "-I", "-iquote", "-isystem",
								"-idirafter", "-include" };
			size_t k;

			if (!strcmp(a, "-o") || !strcmp(a, "-MF") || !strcmp(a, "-MT") ||
			    !strcmp(a, "-MQ")) {
				i++;
				continue;
			}
			for (k = 0; k < OVUP_ARRAY_SIZE(with_dir); k++)
				if (!strcmp(a, with_dir[k]) && i + 1 < c.nargs)
					break;
			if (k < OVUP_ARRAY_SIZE(with_dir)) {
				const char *v = c.args[++i];

				out[(*n)++] = ovup_xasprintf("%s%s%s%s", with_dir[k],
							     v[0] == '/' || !c.dir ? "" : c.dir,
							     v[0] == '/' || !c.dir ? "" : "/", v);
				continue;
			}
			for (k = 0; k < OVUP_ARRAY_SIZE(with_dir) - 1; k++) {
				size_t l = strlen(with_dir[k]);

				if (!strncmp(a, with_dir[k], l) && a[l])
					break;
			}
			if (k < OVUP_ARRAY_SIZE(with_dir) - 1) {
				size_t l = strlen(with_dir[k]);

				out[(*n)++] = ovup_xasprintf("%s%s%s%s", with_dir[k],
							     a[l] == '/' || !c.dir ? "" : c.dir,
							     a[l] == '/' || !c.dir ? "" : "/",
							     a + l);
				continue;
			}
			if (!strncmp(a, "-D", 2) || !strncmp(a, "-U", 2) || !strncmp(a, "-O", 2) ||
			    (!strncmp(a, "-f", 2) && strncmp(a, "-fdiagnostics", 13)) ||
			    !strncmp(a, "-m", 2) || !strncmp(a, "-std=", 5))
				out[(*n)++] = ovup_xstrdup(a);
		}
		*from = path;
		path = NULL;
		ccmd_free(&c);
		break;
	}
	free(got);
	free(text);
	free(path);
	return out;
}

/* Compiles src to assembly with the user's flags, as the patch's own
 * compile would, each function and variable in its own section.  The
 * tree src lies in (root) is mapped away from __FILE__, so that the
 * copy the diff changed expands it as the original does ("dir/unit.c",
 * as make would pass it): an assert() is no change. */
static int to_asm(struct ovup_plan *p, const char *src, const char *root, const char *dir,
		  const char *out, char **user, size_t nuser, const char *orig_root)
{
	char **extra = ovup_xcalloc(2 * nuser + 10, sizeof(*extra)), **shadow = NULL;
	char *map = ovup_xasprintf("-fmacro-prefix-map=%s/=", root);
	size_t i, n = 0, nshadow = 0, rl = orig_root ? strlen(orig_root) : 0;
	int ret;

	/* the diff's headers, changed in the new tree, before the original
	 * tree's include directories the flags name */
	for (i = 0; orig_root && i < nuser; i++) {
		const char *f = user[i];

		if (!strncmp(f, "-I", 2) && !strncmp(f + 2, orig_root, rl) &&
		    (f[2 + rl] == '/' || !f[2 + rl])) {
			shadow = ovup_xrealloc(shadow, (nshadow + 1) * sizeof(*shadow));
			shadow[nshadow] = ovup_xasprintf("-I%s%s", root, f + 2 + rl);
			extra[n++] = shadow[nshadow++];
		}
	}

	extra[n++] = map;
	extra[n++] = "-S";
	extra[n++] = "-ffunction-sections";
	extra[n++] = "-fdata-sections";
	extra[n++] = "-g"; /* .loc lines: where each function starts */
	if (orig_root && !strncmp(dir, orig_root, rl)) {
		/* the unit's own directory in the new tree first: a kernel
		 * unit is compiled from a copy elsewhere */
		shadow = ovup_xrealloc(shadow, (nshadow + 1) * sizeof(*shadow));
		shadow[nshadow] = ovup_xasprintf("%s%s", root, dir + rl);
		extra[n++] = "-iquote";
		extra[n++] = shadow[nshadow++];
	}
	extra[n++] = "-iquote";
	extra[n++] = (char *)dir;
	for (i = 0; i < nuser; i++)
		extra[n++] = user[i];
	ret = p->t->ops->compile(p->t, src, out, extra, n);
	for (i = 0; i < nshadow; i++)
		free(shadow[i]);
	free(shadow);
	free(extra);
	free(map);
	return ret;
}

/* A unit's compiler flags: compile_commands.json's, then '--'. */
struct unit_flags {
	char **flags;
	size_t nflags;
	char *from; /* compile_commands.json, or NULL */
};

static void unit_flags_free(struct unit_flags *f)
{
	size_t i;

	for (i = 0; i < f->nflags; i++)
		free(f->flags[i]);
	free(f->flags);
	free(f->from);
}

/* The unit as DIR has it and as the diff leaves it, compiled side by
 * side: the old one in a child, whose message comes on stderr. */
static int both_to_asm(struct ovup_plan *p, const char *orig, const char *root, const char *sold,
		       const char *fresh, const char *newroot, const char *snew, const char *srcdir,
		       const struct unit_flags *d, const char *unit)
{
	int ret, status;
	pid_t pid;

	ret = p->t->ops->compile_prepare ? p->t->ops->compile_prepare(p->t) : 0;
	if (ret)
		return ret;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		ret = to_asm(p, orig, root, srcdir, sold, d->flags, d->nflags, NULL);
		if (ret)
			fprintf(stderr, "ovup: %s\n", ovup_err_msg() ? ovup_err_msg() : "");
		fflush(NULL);
		_exit(ret ? 1 : 0);
	}
	if (pid < 0)
		ret = to_asm(p, orig, root, srcdir, sold, d->flags, d->nflags, NULL);
	if (!ret)
		ret = to_asm(p, fresh, newroot, srcdir, snew, d->flags, d->nflags, root);
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 1;
			break;
		}
	if (!ret && pid > 0 && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		ret = ovup_err(-EINVAL,
			       "%s: does not compile as the source tree has it (message above); "
			       "give the tree the running program was built from (--source)",
			       unit);
	return ret;
}

static int read_asm(const char *path, const char *base, char **text, struct aunit *u)
{
	*text = ovup_read_file(path, NULL);
	if (!*text)
		return ovup_err(-errno, "%s: %m", path);
	return parse_asm(*text, base, u);
}

/* ---- headers ---- */

/* Where line `line` of a C text stands: the brace depth at its start, the
 * line that opened its outermost block, whether it starts inside a
 * comment, and whether it continues a preprocessor line. */
struct cpos {
	long depth, open_line;
	int in_comment, continued;
};

static void where(const char *t, long line, struct cpos *c)
{
	const char *p = t;
	long ln = 1;
	int comment = 0, cont = 0, esc = 0;

	memset(c, 0, sizeof(*c));
	for (; *p && ln < line; p++) {
		if (*p == '\n') {
			ln++;
			cont = esc;
			esc = 0;
			if (ln == line)
				break;
			continue;
		}
		esc = *p == '\\' && p[1] == '\n';
		if (comment) {
			if (p[0] == '*' && p[1] == '/') {
				comment = 0;
				p++;
			}
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			comment = 1;
			p++;
		} else if (p[0] == '/' && p[1] == '/') {
			while (p[1] && p[1] != '\n')
				p++;
		} else if (*p == '{') {
			if (!c->depth++)
				c->open_line = ln;
		} else if (*p == '}' && c->depth > 0) {
			c->depth--;
		}
	}
	c->in_comment = comment;
	c->continued = cont;
}

/* Line `line` of t, trimmed, in buf. */
static const char *line_text(const char *t, long line, char *buf, size_t len)
{
	const char *p = t, *e;
	long ln = 1;

	for (; *p && ln < line; p++)
		ln += *p == '\n';
	p += strspn(p, " \t");
	e = strchr(p, '\n');
	snprintf(buf, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
	for (e = buf + strlen(buf); e > buf && isspace((unsigned char)e[-1]);)
		*(char *)--e = 0;
	return buf;
}

/* The macro line `line` of t defines (or continues), in name; 0 if none. */
static int macro_at(const char *t, long line, char *name, size_t len)
{
	char buf[512];
	struct cpos c;
	const char *l;

	for (where(t, line, &c); c.continued && line > 1; where(t, --line, &c))
		;
	l = line_text(t, line, buf, sizeof(buf));
	if (*l != '#')
		return 0;
	l += 1 + strspn(l + 1, " \t");
	if (strncmp(l, "define", 6) || !isspace((unsigned char)l[6]))
		return 0;
	l += 6 + strspn(l + 6, " \t");
	snprintf(name, len, "%.*s", (int)strcspn(l, "( \t"), l);
	return 1;
}

/* Does t define macro name? */
static int defines(const char *t, const char *name)
{
	const char *p;
	size_t n = strlen(name);

	for (p = t; (p = strstr(p, "define")); p += 6) {
		const char *q = p + 6 + strspn(p + 6, " \t"), *h = p;

		while (h > t && (h[-1] == ' ' || h[-1] == '\t'))
			h--;
		if (h == t || h[-1] != '#' || strncmp(q, name, n) || is_symch((unsigned char)q[n]))
			continue;
		return 1;
	}
	return 0;
}

/* A changed line of a header that no unit the diff leaves out can notice
 * (a comment, a new macro, a new declaration) is 0; anything else is
 * refused, naming the construct and the file:line. */
static int header_line(const char *path, const char *t, const char *old, long line)
{
	char buf[512], name[256];
	struct cpos c;
	const char *l = line_text(t, line, buf, sizeof(buf));

	where(t, line, &c);
	if (macro_at(t, line, name, sizeof(name))) {
		if (!defines(old, name))
			return 0; /* a new macro: only the units of the diff use it */
		return ovup_err(-ENOTSUP,
				"%s:%ld: the diff changes the macro '%s'; units the diff does "
				"not touch may use it and would keep its old value (ovup "
				"cannot tell which)",
				path, line, name);
	}
	if (c.in_comment || !*l || !strncmp(l, "/*", 2) || !strncmp(l, "//", 2) || *l == '*')
		return 0;
	if (c.depth > 0) {
		char open[512], *paren;
		const char *o = line_text(t, c.open_line, open, sizeof(open));
		long sig = c.open_line;

		/* "{" on a line of its own: the signature is above it */
		while (*o == '{' && sig > 1 && sig > c.open_line - 3)
			o = line_text(t, --sig, open, sizeof(open));

		paren = strchr(open, '(');
		if (paren && strncmp(o, "struct", 6) && strncmp(o, "union", 5) &&
		    strncmp(o, "enum", 4) && strncmp(o, "typedef", 7) &&
		    !memchr(o, '=', (size_t)(paren - open))) {
			char *e = paren, *b;

			while (e > open && isspace((unsigned char)e[-1]))
				e--;
			for (b = e; b > open && is_symch((unsigned char)b[-1]); b--)
				;
			return ovup_err(-ENOTSUP,
					"%s:%ld: the diff changes the inline function '%.*s' of "
					"a header; units the diff does not touch may have "
					"inlined it, and would keep the old code (change the "
					"functions that call it instead)",
					path, line, (int)(e - b), b);
		}
		return ovup_err(-ENOTSUP,
				"%s:%ld: the diff changes the definition at line %ld ('%.60s'), "
				"whose layout or values running code may use; ovup cannot "
				"change a type under it",
				path, line, c.open_line, o);
	}
	/* a declaration: a prototype or an extern */
	if (l[strlen(l) - 1] == ';' && *l != '#' &&
	    (!strncmp(l, "extern ", 7) || (strchr(l, '(') && !strchr(l, '='))))
		return 0;
	return ovup_err(-ENOTSUP,
			"%s:%ld: the diff changes '%.60s' in a header; ovup cannot tell which "
			"units use it (only comments, new macros and new declarations can "
			"change in one)",
			path, line, l);
}

/* Each changed line of a header's part of the diff: the new text's for
 * an added line, the old text's for a removed one. */
static int check_header(const char *text, const struct dfile *f, const char *told, const char *tnew)
{
	const char *l, *next, *end = text + f->end;
	long oln = 0, nln = 0;
	int ret = 0;

	for (l = text + f->start; l < end && !ret; l = next) {
		next = strchr(l, '\n');
		next = next ? next + 1 : end;
		if (!strncmp(l, "@@ -", 4)) {
			long a, c;

			if (sscanf(l, "@@ -%ld%*[^+]+%ld", &a, &c) == 2) {
				oln = a;
				nln = c;
			}
			continue;
		}
		if (!oln || !strncmp(l, "+++", 3) || !strncmp(l, "---", 3))
			continue;
		if (*l == '+')
			ret = header_line(f->path, tnew, told, nln++);
		else if (*l == '-')
			ret = header_line(f->path, told, told, oln++);
		else if (*l == ' ' || *l == '\n') {
			oln++;
			nln++;
		}
	}
	return ret;
}

/* The C files of the diff (indices into f), or the reason there are
 * none. */
static int pick_units(const char *diff, struct dfile *f, size_t n, size_t **out, size_t *nout,
		      size_t *nheaders)
{
	size_t i;

	*nheaders = 0;
	*out = NULL;
	*nout = 0;
	if (!n)
		return ovup_err(-EINVAL,
				"%s: no file in it (not a unified diff?); give the diff "
				"of a fix (git diff, diff -u)",
				diff);
	for (i = 0; i < n; i++) {
		const char *path = f[i].deleted ? "(a deleted file)" : f[i].path;

		if (ends_with(path, ".h") && !f[i].created && !f[i].deleted) {
			++*nheaders;
			continue;
		}
		if (!ends_with(path, ".c") && !ends_with(path, ".h"))
			continue;
		if (f[i].created || f[i].deleted)
			return ovup_err(-ENOTSUP,
					"%s: %s %s: a whole unit cannot be added to or removed "
					"from a running program",
					diff, f[i].created ? "creates" : "deletes", path);
		*out = ovup_xrealloc(*out, (*nout + 1) * sizeof(**out));
		(*out)[(*nout)++] = i;
	}
	if (!*nout && *nheaders)
		return ovup_err(-EINVAL,
				"%s: changes headers only; a header's code runs where a unit "
				"includes it: give the diff with the .c files whose functions "
				"change",
				diff);
	if (!*nout)
		return ovup_err(-EINVAL, "%s: touches no C file (.c); nothing to build", diff);
	return 0;
}

const char *const ovup_diff_kind_names[OVUP_DIFF_NKINDS] = { "changed", "new", "affected",
							     "carried" };

void ovup_diff_found_free(struct ovup_diff_found *d)
{
	size_t k, i;

	if (!d)
		return;
	for (k = 0; k < OVUP_DIFF_NKINDS; k++) {
		for (i = 0; i < d->n[k]; i++)
			free(d->names[k][i]);
		free(d->names[k]);
	}
	for (i = 0; i < d->nflags; i++)
		free(d->flags[i]);
	free(d->flags);
	free(d->flags_from);
	free(d->file);
	free(d);
}

/* The functions of kind c, kept in found and named in a note. */
static void note_list(const char *what, const char *unit, const struct aunit *u,
		      const struct verdict *v, enum change c, int kind,
		      struct ovup_diff_found *found)
{
	struct ovup_buf b = { 0 };
	size_t k;

	for (k = 0; k < u->nsyms; k++) {
		if (u->syms[k].sec < 0 || !u->syms[k].func || v->func[k] != c)
			continue;
		ovup_buf_printf(&b, "%s%s", b.s ? ", " : "", u->syms[k].name);
		found->names[kind] = ovup_xrealloc(found->names[kind],
						   (found->n[kind] + 1) *
							   sizeof(*found->names[kind]));
		found->names[kind][found->n[kind]++] = ovup_xstrdup(u->syms[k].name);
	}
	if (b.s)
		ovup_note("%s: %s: %s", unit, what, b.s);
	ovup_buf_free(&b);
}

/* The unit's part of the diff, applied to the copy of its file. */
static int apply_part(struct ovup_plan *p, const char *text, const struct dfile *f,
		      const char *diff, const char *dir)
{
	char *part = ovup_xasprintf("%s/%s.diff", p->tmp, ovup_basename(f->path)), *res = NULL;
	char *newdir = ovup_xasprintf("%s/new", p->tmp);
	char *argv[] = { "patch", "-p1", "--batch", "--forward", "--silent", "-r",
			 "-",     "-d",  newdir,    "-i",        part,       NULL };
	int ret;

	ret = ovup_write_file_atomic(part, text + f->start, f->end - f->start);
	if (!ret)
		ret = ovup_run(argv, &res);
	if (ret) {
		char *nl = res ? strchr(res, '\n') : NULL;

		if (nl)
			*nl = 0;
		ret = ovup_err(ret < 0 ? ret : -EINVAL, "%s: does not apply to %s/%s: %s", diff,
			       dir, f->path,
			       ret < 0 ? "cannot run patch (apt-get install patch)"
				       : (res && *res ? res : "patch failed"));
	}
	free(res);
	free(part);
	free(newdir);
	return ret;
}

/* The unit's compiler flags: compile_commands.json's for it, then the
 * user's after '--' (which win), relative directories made absolute. */
static void take_flags(struct ovup_plan *p, const char *dir, const char *unit, struct unit_flags *d)
{
	size_t ndb, nuser, i;
	char **db = compdb_flags(dir, unit, &ndb, &d->from);
	char **user = abs_flags(p->o, dir, &nuser);

	d->flags = ovup_xcalloc(ndb + nuser + 1, sizeof(*d->flags));
	for (i = 0; i < ndb; i++)
		d->flags[d->nflags++] = db[i];
	for (i = 0; i < nuser; i++)
		d->flags[d->nflags++] = user[i];
	free(db);
	free(user);
	if (d->from)
		ovup_note("%s: %zu compiler flag%s from %s", unit, ndb, ndb == 1 ? "" : "s",
			  d->from);
}

/* One unit of the diff: compiled before and after, compared, and the
 * patch's part of it assembled into *obj (NULL when the diff changes no
 * code of it).  seen: the unit statics the units before bound or made
 * global, which must not repeat (they are bound by name). */
static int build_unit(struct ovup_plan *p, const char *text, const struct dfile *f,
		      const char *root, size_t nth, struct labels *seen, char **obj)
{
	const char *diff = p->o->diff, *dir = p->o->source_dir, *base = ovup_basename(f->path);
	struct aunit uo = { 0 }, un = { 0 };
	struct verdict v = { 0 };
	struct unit_flags fl = { 0 };
	char *told = NULL, *tnew = NULL, *src = NULL, *orig, *fresh, *srcdir, *newroot;
	char *sold, *snew, *pasm = NULL, *out = NULL, *asmtext = NULL;
	struct ovup_obj uobj = { 0 };
	unsigned int traits = p->t->ops->traits;
	int ret;

	*obj = NULL;
	orig = ovup_xasprintf("%s/%s", root, f->path);
	fresh = ovup_xasprintf("%s/new/%s", p->tmp, f->path);
	sold = ovup_xasprintf("%s/old%zu.s", p->tmp, nth);
	snew = ovup_xasprintf("%s/new%zu.s", p->tmp, nth);
	newroot = ovup_xasprintf("%s/new", p->tmp);
	srcdir = ovup_xstrdup(orig);
	*strrchr(srcdir, '/') = 0;
	ret = copy_file(orig, fresh);
	if (ret) {
		ret = ovup_err(ret, "%s: %s; give the source tree the diff is for (--source DIR)",
			       orig, strerror(-ret));
		goto out;
	}
	ret = apply_part(p, text, f, diff, dir);
	if (ret)
		goto out;
	take_flags(p, dir, f->path, &fl);
	ret = both_to_asm(p, orig, root, sold, fresh, newroot, snew, srcdir, &fl, f->path);
	if (ret)
		goto out;
	src = ovup_read_file(fresh, NULL);
	ret = read_asm(sold, base, &told, &uo);
	if (!ret)
		ret = read_asm(snew, base, &tnew, &un);
	if (!ret)
		ret = check_structs(src ? src : "", f, f->path);
	if (!ret)
		ret = check_target_copies(&p->st, &un, src ? src : "", f, base);
	if (!ret)
		ret = compare(&uo, &un, src ? src : "", f, &v);
	if (ret)
		goto out;
	note_list("changed", f->path, &un, &v, CHANGED, OVUP_DIFF_CHANGED, p->diff);
	note_list("new", f->path, &un, &v, NEW, OVUP_DIFF_NEW, p->diff);
	note_list("unchanged but affected (a change inlined into it), replaced too", f->path, &un,
		  &v, AFFECTED, OVUP_DIFF_AFFECTED, p->diff);
	if (!v.nchanged && !v.naffected)
		goto out; /* no code of this one */
	carry(&un, &v, &p->st, traits, base);
	note_list("unchanged, but the target has no copy of its own (inlined where called), "
		  "so the patch carries one",
		  f->path, &un, &v, CARRIED, OVUP_DIFF_CARRIED, p->diff);
	if (traits & OVUP_TRAIT_STATICS_NEAR) {
		ret = unit_sections(snew, p->tmp, &uobj);
		if (ret)
			goto out;
	}
	asmtext = patch_asm(&un, &v, base, &uobj, traits, seen);
	if (!asmtext) {
		ret = ovup_err(-ENOTSUP, "%s: %s", diff,
			       ovup_err_msg() ? ovup_err_msg() : "cannot build the patch");
		goto out;
	}
	pasm = ovup_xasprintf("%s/patch%zu.s", p->tmp, nth);
	out = ovup_xasprintf("%s/patch%zu.o", p->tmp, nth);
	ret = ovup_write_file_atomic(pasm, asmtext, strlen(asmtext));
	if (!ret && (traits & OVUP_TRAIT_COMPILES_ASM)) {
		/* the target's own steps, as for any patch of it (the
		 * kernel's kbuild and objtool: ORC, return sites, checks) */
		ret = p->t->ops->compile(p->t, pasm, out, NULL, 0);
	} else if (!ret) {
		const char *cc = getenv("CC");
		char *res = NULL;
		char *argv[] = { (char *)(cc && *cc ? cc : "cc"), "-c", "-o", out, pasm, NULL };

		ret = ovup_run(argv, &res);
		if (ret)
			ret = ovup_err(ret < 0 ? ret : -EINVAL,
				       "%s: the patch's assembly does not assemble: %s", diff,
				       res ? res : "");
		free(res);
	}
	if (!ret) {
		*obj = out;
		out = NULL;
	}
out:
	/* the first unit's flags are the ones compared with the target's */
	if (!nth && !ret) {
		p->diff->flags = fl.flags;
		p->diff->nflags = fl.nflags;
		p->diff->flags_from = fl.from;
	} else {
		unit_flags_free(&fl);
	}
	free(v.func);
	free_asm(&uo);
	free_asm(&un);
	free(told);
	free(tnew);
	free(src);
	free(orig);
	free(fresh);
	free(srcdir);
	free(newroot);
	free(sold);
	free(snew);
	free(pasm);
	free(out);
	free(asmtext);
	ovup_elf_obj_free(&uobj);
	return ret;
}

/* The length of path's directory part ("fs/" of "fs/internal.h"). */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path + 1) : 0;
}

/* A header of the diff: its part applied to a copy in the new tree (where
 * the units' new compile finds it first), every changed line one no unit
 * left out can notice. */
static int take_header(struct ovup_plan *p, const char *text, const struct dfile *f,
		       const char *root, const struct dfile *files, const size_t *units,
		       size_t nunits)
{
	char *orig = ovup_xasprintf("%s/%s", root, f->path);
	char *fresh = ovup_xasprintf("%s/new/%s", p->tmp, f->path), *told = NULL, *tnew = NULL;
	size_t i;
	int headers = !!(p->t->ops->traits & OVUP_TRAIT_INSTALLED_HEADERS);
	int ret = copy_file(orig, fresh);

	if (ret) {
		ret = ovup_err(ret, "%s: %s; give the source tree the diff is for (--source DIR)",
			       orig, strerror(-ret));
		goto out;
	}
	ret = apply_part(p, text, f, p->o->diff, p->o->source_dir);
	if (ret)
		goto out;
	told = ovup_read_file(orig, NULL);
	tnew = ovup_read_file(fresh, NULL);
	ret = check_header(text, f, told ? told : "", tnew ? tnew : "");
	/* a build against installed headers (the kernel's linux-headers)
	 * reads only one next to a unit ("internal.h") from the tree */
	for (i = 0; !ret && headers && i < nunits; i++)
		if (dir_len(files[units[i]].path) == dir_len(f->path) &&
		    !strncmp(files[units[i]].path, f->path, dir_len(f->path)))
			break;
	if (!ret && headers && i == nunits)
		ret = ovup_err(-ENOTSUP,
			       "%s: a kernel patch is built with the installed headers "
			       "(linux-headers), not the tree's: ovup can take a change to a "
			       "header only next to a .c file of the diff",
			       f->path);
	if (!ret)
		ovup_note("%s: a comment, new macro or declaration: no unit left out can "
			  "notice it",
			  f->path);
out:
	free(orig);
	free(fresh);
	free(told);
	free(tnew);
	return ret;
}

int ovup_diff_build(struct ovup_plan *p)
{
	const char *diff = p->o->diff, *dir = p->o->source_dir;
	struct dfile *files = NULL;
	struct labels seen = { 0 };
	struct ovup_buf names = { 0 };
	char *text, *root = NULL, **objs = NULL;
	size_t nfiles = 0, *units = NULL, nunits = 0, nobjs = 0, nheaders, i;
	int ret;

	text = ovup_read_file(diff, NULL);
	if (!text)
		return ovup_err(-errno, "%s: %m; give the path of a diff (--diff)", diff);
	parse_diff(text, &files, &nfiles);
	ret = pick_units(diff, files, nfiles, &units, &nunits, &nheaders);
	if (ret)
		goto out;
	root = realpath(dir, NULL);
	if (!root) {
		ret = ovup_err(-errno,
			       "%s: %m; give the source tree the diff is for (--source DIR)", dir);
		goto out;
	}
	for (i = 0; i < nfiles && !ret && nheaders; i++)
		if (ends_with(files[i].path, ".h"))
			ret = take_header(p, text, &files[i], root, files, units, nunits);
	if (ret)
		goto out;
	for (i = 0; i < nunits; i++)
		ovup_buf_printf(&names, "%s%s", i ? " " : "", files[units[i]].path);
	p->diff = ovup_xcalloc(1, sizeof(*p->diff));
	p->diff->file = ovup_xstrdup(names.s);
	objs = ovup_xcalloc(nunits, sizeof(*objs));
	for (i = 0; i < nunits && !ret; i++) {
		ret = build_unit(p, text, &files[units[i]], root, i, &seen, &objs[nobjs]);
		nobjs += !ret && objs[nobjs];
	}
	if (!ret && !nobjs)
		ret = ovup_err(-EINVAL,
			       "%s: changes the code of no function of %s (the compiled code "
			       "is the same before and after); nothing to apply",
			       diff, names.s);
	if (!ret && nobjs == 1) {
		p->objpath = objs[0];
		objs[0] = NULL;
	} else if (!ret) {
		/* one object of the units' parts, as one patch file would be */
		char **argv = ovup_xcalloc(nobjs + 6, sizeof(*argv)), *res = NULL;
		size_t n = 0;

		p->objpath = ovup_xasprintf("%s/patch.o", p->tmp);
		argv[n++] = "ld";
		argv[n++] = "-r";
		argv[n++] = "-o";
		argv[n++] = p->objpath;
		for (i = 0; i < nobjs; i++)
			argv[n++] = objs[i];
		ret = ovup_run(argv, &res);
		if (ret)
			ret = ovup_err(ret < 0 ? ret : -EINVAL,
				       "%s: the units' parts do not link into one object: %s", diff,
				       res ? res : "");
		free(res);
		free(argv);
	}
out:
	for (i = 0; i < nobjs; i++)
		free(objs[i]);
	free(objs);
	for (i = 0; i < seen.n; i++)
		free(seen.names[i]);
	free(seen.names);
	ovup_buf_free(&names);
	free(units);
	free_files(files, nfiles);
	free(text);
	free(root);
	return ret;
}

/* ---- the target's own compiler switches ---- */

/* Switches ovup's compile chooses on purpose (target/compile.c, to_asm):
 * that the target lacks them or has the opposite is no mismatch. */
static int ovup_choice(const char *f)
{
	static const char *const own[] = {
		"-fPIC", "-fpic", "-fPIE", "-fpie", "-fplt", "-ftls-model=", "-fcommon",
		"-fasynchronous-unwind-tables", "-funwind-tables", "-fexceptions", "-fbuiltin",
		"-ftree-loop-distribute-patterns", "-fjump-tables", "-ffunction-sections",
		"-fdata-sections", "-fdebug-prefix-map=", "-ffile-prefix-map=",
		"-fmacro-prefix-map=", "-fno-omit-frame-pointer", "-fomit-frame-pointer",
		/* GCC's defaults, which it records too */
		"-mtune=generic", "-march=x86-64"
	};
	char pos[128];
	size_t i;

	/* -fno-X is about X */
	if (!strncmp(f, "-m", 2))
		snprintf(pos, sizeof(pos), "%s", f);
	else
		snprintf(pos, sizeof(pos), "-f%s", !strncmp(f, "-fno-", 5) ? f + 5 : f + 2);
	for (i = 0; i < OVUP_ARRAY_SIZE(own); i++) {
		size_t n = strlen(own[i]);

		if (own[i][n - 1] == '=' ? !strncmp(pos, own[i], n) : !strcmp(pos, own[i]))
			return 1;
	}
	return 0;
}

static int has_flag(char *const *flags, size_t n, const char *f)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(flags[i], f))
			return 1;
	return 0;
}

void ovup_diff_check_flags(struct ovup_plan *p)
{
	const struct ovup_sym *s = p->nfuncs ? p->funcs[0].old : NULL;
	const struct ovup_object *o;
	struct ovup_buf miss = { 0 };
	char *prod = NULL, *tok, *save = NULL, olevel[16] = "", plevel[16] = "-O2";
	size_t i;

	if (!s || !p->diff)
		return;
	o = &p->st.objs[s->obj];
	if (!o->full || !o->symsrc || !o->open_path)
		return;
	if (ovup_dwarf_producer(strcmp(o->symsrc, ".symtab") ? o->symsrc : o->open_path,
				s->addr - o->bias, &prod))
		return; /* no DWARF or no producer: nothing to compare with */
	for (i = 0; i < p->diff->nflags; i++)
		if (!strncmp(p->diff->flags[i], "-O", 2))
			snprintf(plevel, sizeof(plevel), "%s", p->diff->flags[i]);
	for (tok = strtok_r(prod, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "-O", 2))
			snprintf(olevel, sizeof(olevel), "%s", tok);
		else if ((!strncmp(tok, "-f", 2) || !strncmp(tok, "-m", 2)) && !ovup_choice(tok) &&
			 !has_flag(p->diff->flags, p->diff->nflags, tok))
			ovup_buf_printf(&miss, " %s", tok);
	}
	if (olevel[0] && strcmp(olevel, plevel))
		ovup_note("%s: %s was compiled with %s, the patch with %s%s%s; give the "
			  "target's switches after '--' for the same code",
			  p->diff->file, o->name, olevel, plevel,
			  miss.s ? "; and with switches the patch lacks:" : "",
			  miss.s ? miss.s : "");
	else if (miss.s)
		ovup_note("%s: %s was compiled with switches the patch lacks:%s; give them after "
			  "'--' for the same code",
			  p->diff->file, o->name, miss.s);
	ovup_buf_free(&miss);
	free(prod);
}
