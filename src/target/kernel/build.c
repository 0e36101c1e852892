// SPDX-License-Identifier: MIT
/*
 * Compiling a kernel patch: kbuild for the installed headers (the running
 * kernel's, or OVUP_KVER's, or the newest installed for an image in
 * /boot), run on a one-file module in a temporary directory; and the
 * release and version those headers were made for, which `build` records.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../compile.h"

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int ovup_kern_find_kver(struct kern_target *k)
{
	const char *env = getenv("OVUP_KVER");
	struct utsname u;
	glob_t g;
	char path[512];
	size_t i, found = 0;

	if (env && *env) {
		snprintf(k->kver, sizeof(k->kver), "%s", env);
		return 0;
	}
	/* the running kernel's own headers, when it has them */
	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/lib/modules/%s/build/Makefile", u.release);
		if (!access(path, R_OK)) {
			snprintf(k->kver, sizeof(k->kver), "%s", u.release);
			return 0;
		}
	}
	/* else headers installed for a kernel image in /boot (a build
	 * machine, or the host of a VM) */
	if (!glob("/usr/src/linux-headers-*", 0, NULL, &g)) {
		for (i = 0; i < g.gl_pathc; i++) {
			const char *v = g.gl_pathv[i] + strlen("/usr/src/linux-headers-");
			char img[512], mk[512];

			snprintf(img, sizeof(img), "/boot/vmlinuz-%s", v);
			snprintf(mk, sizeof(mk), "%s/Makefile", g.gl_pathv[i]);
			if (access(img, R_OK) || access(mk, R_OK))
				continue;
			if (!found++ || strcmp(v, k->kver) > 0)
				snprintf(k->kver, sizeof(k->kver), "%s", v);
		}
		globfree(&g);
	}
	if (!found)
		return ovup_err(-ENOENT, "kernel: no kernel headers to build with; install them "
					 "(apt-get install linux-headers-amd64) or set OVUP_KVER");
	return 0;
}

static const char *kbuild_dir(struct kern_target *k, char *buf, size_t len)
{
	snprintf(buf, len, "/usr/src/linux-headers-%s", k->kver);
	if (access(buf, R_OK))
		snprintf(buf, len, "/lib/modules/%s/build", k->kver);
	return buf;
}

void ovup_kern_header_identity(struct kern_target *k)
{
	char path[600], buf[512];
	FILE *f;
	static const char *const files[] = { "utsrelease.h", "utsversion.h", "compile.h" };
	size_t i;

	for (i = 0; i < OVUP_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/include/generated/%s",
			 kbuild_dir(k, buf, sizeof(buf)), files[i]);
		f = fopen(path, "r");
		while (f && fgets(buf, sizeof(buf), f)) {
			char *q1 = strchr(buf, '"'), *q2 = q1 ? strrchr(buf, '"') : NULL;

			if (!q1 || q2 == q1)
				continue;
			*q2 = 0;
			if (!strncmp(buf, "#define UTS_RELEASE", 19))
				snprintf(k->base.release, sizeof(k->base.release), "%s", q1 + 1);
			if (!strncmp(buf, "#define UTS_VERSION", 19))
				snprintf(k->base.version, sizeof(k->base.version), "%s", q1 + 1);
		}
		if (f)
			fclose(f);
	}
}

/* x86 asm/jump_label.h files that include/kernel/ovup_jump_label.h stands
 * in for, by FNV-1a of their bytes: Linux 6.1 (Debian 12). */
static const uint64_t known_jump_label_h[] = { 0x2273f56768363798ull };

/* The kernel's asm/jump_label.h: in the headers' tree, or in the common
 * tree its Makefile includes (Debian splits the headers in two). */
static char *kernel_header(const char *kdir, const char *rel)
{
	char *path = ovup_xasprintf("%s/%s", kdir, rel), *mk, *text, *inc, *end;
	size_t len;

	if (!access(path, R_OK))
		return path;
	free(path);
	mk = ovup_xasprintf("%s/Makefile", kdir);
	text = ovup_read_file(mk, &len);
	free(mk);
	inc = text ? strstr(text, "include /") : NULL;
	end = inc ? strstr(inc, "/Makefile") : NULL;
	path = end ? ovup_xasprintf("%.*s/%s", (int)(end - inc - 8), inc + 8, rel) : NULL;
	free(text);
	return path;
}

/* "-include .../ovup_jump_label.h" when the kernel's header is a known
 * one, else NULL: the patch is then built with the kernel's, and a static
 * branch in it is refused at apply (2-byte or NOP sites). */
static char *jump_label_flag(struct kern_target *k)
{
	char kbuf[512], *path = kernel_header(kbuild_dir(k, kbuf, sizeof(kbuf)),
					      "arch/x86/include/asm/jump_label.h");
	char *text = path ? ovup_read_file(path, NULL) : NULL, *flag = NULL;
	size_t len = text ? strlen(text) : 0, i;
	uint64_t h = ovup_fnv1a(OVUP_FNV_BASIS, text, len);

	for (i = 0; text && i < OVUP_ARRAY_SIZE(known_jump_label_h); i++)
		if (h == known_jump_label_h[i])
			flag = ovup_xasprintf("-include %s/kernel/ovup_jump_label.h",
					      ovup_include_dir());
	if (!flag)
		ovup_info("kernel: %s is not a jump_label.h ovup knows (hash %016" PRIx64
			  "): static branches keep the kernel's form",
			  path ? path : "asm/jump_label.h", h);
	free(path);
	free(text);
	return flag;
}

/* What a compile for a diff (diff.c) passes: "-S" (assembly wanted),
 * "-fmacro-prefix-map=ROOT/=" (the tree src lies in, so that __FILE__ is
 * its path in the tree, as kbuild's own build has it) and "-iquote DIR"
 * (the unit's directory in the tree, whose Makefile names its module). */
struct unit_opts {
	int want_asm;
	const char *rel;     /* src's path in its tree ("fs/fcntl.c"), or NULL */
	const char *unitdir; /* its directory in the original tree, or NULL */
};

static void read_unit_opts(const char *src, char *const extra[], size_t nextra, struct unit_opts *u)
{
	size_t i;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < nextra; i++) {
		const char *f = extra[i];
		size_t n;

		if (!strcmp(f, "-S"))
			u->want_asm = 1;
		else if (!strcmp(f, "-iquote") && i + 1 < nextra)
			u->unitdir = extra[i + 1];
		else if (!strncmp(f, "-fmacro-prefix-map=", 19) && (n = strlen(f)) > 21 &&
			 !strcmp(f + n - 2, "/=") && !strncmp(src, f + 19, n - 20))
			u->rel = src + (n - 20);
	}
}

/* Joins a Makefile's continued lines. */
static void join_lines(char *t)
{
	char *r = t, *w = t;

	while (*r) {
		if (r[0] == '\\' && r[1] == '\n') {
			*w++ = ' ';
			r += 2;
			continue;
		}
		*w++ = *r++;
	}
	*w = 0;
}

/* In Makefile text, the variable a line assigns whose value names word
 * ("obj-$(CONFIG_X)" or "unix-y" for "af_unix.o"), into var. */
static int assigns(const char *mk, const char *word, char *var, size_t len)
{
	const char *l, *eol, *op, *p;
	size_t wn = strlen(word);

	for (l = mk; *l; l = *eol ? eol + 1 : eol) {
		eol = strchr(l, '\n');
		if (!eol)
			eol = l + strlen(l);
		op = memchr(l, '=', (size_t)(eol - l));
		if (!op || *l == '#' || *l == '\t')
			continue;
		for (p = op; p < eol && (p = strstr(p, word)) && p < eol; p += wn)
			if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '=') &&
			    (p + wn == eol || p[wn] == ' ' || p[wn] == '\t')) {
				const char *e = op;

				while (e > l && strchr(":+? \t", e[-1]))
					e--;
				snprintf(var, len, "%.*s", (int)(e - l), l);
				return 1;
			}
	}
	return 0;
}

/* Is CONFIG_X (from "obj-$(CONFIG_X)") =y in the headers' auto.conf? */
static int config_y(struct kern_target *k, const char *var)
{
	char kbuf[512], *path, *text, *want;
	const char *c = strstr(var, "$(CONFIG_");
	size_t n;
	int y = 0;

	if (!strcmp(var, "obj-y"))
		return 1;
	if (!c)
		return 0;
	n = strcspn(c + 2, ")");
	path = ovup_xasprintf("%s/include/config/auto.conf", kbuild_dir(k, kbuf, sizeof(kbuf)));
	text = ovup_read_file(path, NULL);
	want = ovup_xasprintf("\n%.*s=y\n", (int)n, c + 2);
	y = text && strstr(text, want);
	free(want);
	free(text);
	free(path);
	return y;
}

/* A unit of the kernel's tree compiled as it is in the kernel's own
 * build, not as a module of its own: KBUILD_MODNAME and KBUILD_BASENAME
 * from its directory's Makefile (pr_fmt's prefix), and MODULE undefined
 * when the unit is built in (THIS_MODULE is NULL there).  The header
 * that says so is written to dir/ovup_unit.h; 0 and nothing written
 * when the Makefile does not name the unit. */
static int unit_header(struct kern_target *k, const struct unit_opts *u, const char *dir)
{
	char *mkpath, *mk, *obj, *path, var[256], comp[256], base[256];
	struct ovup_buf h = { 0 };
	const char *b;
	int builtin, ret;

	if (!u->rel || !u->unitdir)
		return 0;
	b = ovup_basename(u->rel);
	snprintf(base, sizeof(base), "%.*s", (int)(strlen(b) - 2), b);
	mkpath = ovup_xasprintf("%s/Makefile", u->unitdir);
	mk = ovup_read_file(mkpath, NULL);
	free(mkpath);
	if (!mk)
		return 0;
	join_lines(mk);
	obj = ovup_xasprintf("%s.o", base);
	snprintf(comp, sizeof(comp), "%s", base);
	ret = assigns(mk, obj, var, sizeof(var));
	if (ret && strncmp(var, "obj-", 4)) {
		/* part of a composite object: "unix-y += af_unix.o" */
		snprintf(comp, sizeof(comp), "%.*s", (int)strcspn(var, "-"), var);
		free(obj);
		obj = ovup_xasprintf("%s.o", comp);
		ret = assigns(mk, obj, var, sizeof(var));
	}
	free(obj);
	free(mk);
	if (!ret)
		return 0;
	builtin = config_y(k, var);
	ovup_buf_printf(&h,
			"/* ovup: %s as the kernel's build compiles it */\n"
			"#undef KBUILD_MODNAME\n#define KBUILD_MODNAME \"%s\"\n"
			"#undef KBUILD_BASENAME\n#define KBUILD_BASENAME \"%s\"\n%s",
			u->rel, comp, base, builtin ? "#undef MODULE\n" : "");
	path = ovup_xasprintf("%s/ovup_unit.h", dir);
	ret = ovup_write_file_atomic(path, h.s, h.len);
	free(path);
	ovup_buf_free(&h);
	return ret ? ret : 1;
}

/* Appends word to b as one shell word. */
static void shell_word(struct ovup_buf *b, const char *word)
{
	const char *p;

	if (*word && !strpbrk(word, " \t\n'\"\\$`!*?[]{}()<>|&;#~=")) {
		ovup_buf_printf(b, " %s", word);
		return;
	}
	ovup_buf_printf(b, " '");
	for (p = word; *p; p++)
		if (*p == '\'')
			ovup_buf_printf(b, "'\\''");
		else
			ovup_buf_add(b, p, 1);
	ovup_buf_printf(b, "'");
}

/* The flags every compile of a patch module has first in ccflags-y:
 * ovup.h's directory and the jump-label header. */
static char *base_flags(struct kern_target *k)
{
	char *jl = jump_label_flag(k), *f;

	f = ovup_xasprintf("-I%s%s%s", ovup_include_dir(), jl ? " " : "", jl ? jl : "");
	free(jl);
	return f;
}

/* The module's directory: the patch as ovup_patch.c, and in *flags the
 * rest of its ccflags-y (shell words): the unit's header, __FILE__ and
 * the extra flags.  Assembly in (a .s file, diff.c's patch) is included
 * by a C file of one asm statement, so that kbuild and objtool treat it
 * as any patch; it has its own debug information (-g0 for the C). */
static int write_module_dir(struct kern_target *k, const char *dir, const char *src,
			    char *const extra[], size_t nextra, struct ovup_buf *flags)
{
	char *text = NULL, *path, *map;
	size_t i, len, n = strlen(src);
	int ret, in_asm = n > 2 && !strcmp(src + n - 2, ".s");
	struct unit_opts u;

	read_unit_opts(src, extra, nextra, &u);
	if (in_asm) {
		if (strpbrk(src, "\"\\\n"))
			return ovup_err(-EINVAL, "%s: a path ovup cannot quote for the assembler",
					src);
		text = ovup_xasprintf("/* ovup: the patch's assembly, built as a module's C "
				      "file is */\nasm(\".include \\\"%s\\\"\");\n",
				      src);
		len = strlen(text);
	} else {
		text = ovup_read_file(src, &len);
		if (!text)
			return ovup_err(-errno, "%s: %m", src);
	}
	path = ovup_xasprintf("%s/ovup_patch.c", dir);
	ret = ovup_write_file_atomic(path, text, len);
	free(path);
	free(text);
	if (ret)
		return ret;
	ret = unit_header(k, &u, dir);
	if (ret < 0)
		return ret;
	if (ret) {
		path = ovup_xasprintf("%s/ovup_unit.h", dir);
		shell_word(flags, "-include");
		shell_word(flags, path);
		free(path);
	}
	/* __FILE__ (WARN/BUG reports) is the user's file, not ours; for a
	 * unit of the tree, its path there ("fs/fcntl.c"), as kbuild's */
	map = ovup_xasprintf("-fmacro-prefix-map=%s/ovup_patch.c=%s", dir, u.rel ? u.rel : src);
	shell_word(flags, map);
	free(map);
	for (i = 0; i < nextra; i++)
		if (strcmp(extra[i], "-S"))
			shell_word(flags, extra[i]);
	if (in_asm)
		shell_word(flags, "-g0");
	return 0;
}

/* make's quoting in a .cmd file undone: "$$" -> "$", "\#" -> "#". */
static void unescape_make(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if ((r[0] == '$' && r[1] == '$') || (r[0] == '\\' && r[1] == '#'))
			r++;
		*w++ = *r++;
	}
	*w = 0;
}

/* The command kbuild recorded in dir/.NAME.cmd ("cmd_PATH := ..."). */
static char *recorded(const char *dir, const char *name)
{
	char *path = ovup_xasprintf("%s/.%s.cmd", dir, name), *text = ovup_read_file(path, NULL);
	char *eq = text ? strstr(text, " := ") : NULL, *nl, *cmd = NULL;

	if (eq) {
		nl = strchr(eq, '\n');
		if (nl)
			*nl = 0;
		cmd = ovup_xstrdup(eq + 4);
		unescape_make(cmd);
	}
	free(text);
	free(path);
	return cmd;
}

/* make in the headers' tree spends seconds on its compiler probes each
 * time: it runs once, on an empty module in a probe directory, and its
 * commands for the .o (with objtool) and the .s are kept, the probe's
 * extra flags marked, to be replayed for each file. */
static int record_kbuild(struct kern_target *k)
{
	char kbuf[512], *dir = ovup_tmpdir(), *base, *kb, *mdir, *output = NULL, *path;
	int ret;

	if (!dir)
		return -errno;
	base = base_flags(k);
	kb = ovup_xasprintf("obj-m := ovup_probe.o\nccflags-y := %s -D__OVUP_EXTRA__\n"
			    "override cmd_cc_s_c = $(CC) $(c_flags) -S -o $@ $<\n",
			    base);
	path = ovup_xasprintf("%s/Kbuild", dir);
	ret = ovup_write_file_atomic(path, kb, strlen(kb));
	free(path);
	path = ovup_xasprintf("%s/ovup_probe.c", dir);
	if (!ret)
		ret = ovup_write_file_atomic(path, "int ovup_probe;\n", 16);
	free(path);
	mdir = ovup_xasprintf("M=%s", dir);
	if (!ret) {
		char *argv[] = {
			"make", "-s",  "-C",           (char *)kbuild_dir(k, kbuf, sizeof(kbuf)),
			mdir,   "-j2", "ovup_probe.o", "ovup_probe.s",
			NULL
		};

		ret = ovup_run(argv, &output);
	}
	if (!ret) {
		k->kb_o = recorded(dir, "ovup_probe.o");
		k->kb_s = recorded(dir, "ovup_probe.s");
		k->kb_dir = ovup_xstrdup(dir);
	}
	if (!k->kb_o || !k->kb_s || !strstr(k->kb_o, "-D__OVUP_EXTRA__") ||
	    !strstr(k->kb_s, "-D__OVUP_EXTRA__")) {
		free(k->kb_o);
		free(k->kb_s);
		k->kb_o = k->kb_s = NULL;
		ret = ret ? ret : -EINVAL;
	}
	free(output);
	free(mdir);
	free(kb);
	free(base);
	ovup_tmpdir_remove(dir);
	free(dir);
	return ret;
}

/* The file that keeps the recorded commands between runs:
 * $XDG_CACHE_HOME/ovup (or ~/.cache/ovup)/kbuild-KVER-HASH, the hash of
 * what they depend on (the flags, the headers' Makefile, .config and
 * auto.conf as installed); NULL when there is no cache directory. */
static char *cache_path(struct kern_target *k, const char *base)
{
	static const char *const files[] = { "Makefile", ".config", "include/config/auto.conf" };
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char kbuf[512], *dir, *path;
	uint64_t h = ovup_fnv1a(OVUP_FNV_BASIS, base, strlen(base));
	size_t i;

	if (getenv("OVUP_NO_CACHE"))
		return NULL;
	for (i = 0; i < OVUP_ARRAY_SIZE(files); i++) {
		char *f = ovup_xasprintf("%s/%s", kbuild_dir(k, kbuf, sizeof(kbuf)), files[i]);
		struct stat st;

		if (!stat(f, &st)) {
			h = ovup_fnv1a(h, &st.st_mtim, sizeof(st.st_mtim));
			h = ovup_fnv1a(h, &st.st_size, sizeof(st.st_size));
			h = ovup_fnv1a(h, &st.st_ino, sizeof(st.st_ino));
		}
		free(f);
	}
	if (xdg && *xdg == '/')
		dir = ovup_xasprintf("%s/ovup", xdg);
	else if (home && *home == '/')
		dir = ovup_xasprintf("%s/.cache/ovup", home);
	else
		return NULL;
	path = ovup_xasprintf("%s/kbuild-%s-%016" PRIx64, dir, k->kver, h);
	free(dir);
	return path;
}

static int read_cache(struct kern_target *k, const char *path)
{
	char *text = path ? ovup_read_file(path, NULL) : NULL, *l2, *l3, *end;

	l2 = text ? strchr(text, '\n') : NULL;
	l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	end = l3 ? strchr(l3 + 1, '\n') : NULL;
	if (!end || strncmp(text, "/", 1)) {
		free(text);
		return -ENOENT;
	}
	*l2 = *l3 = *end = 0;
	k->kb_dir = ovup_xstrdup(text);
	k->kb_o = ovup_xstrdup(l2 + 1);
	k->kb_s = ovup_xstrdup(l3 + 1);
	free(text);
	return 0;
}

/* Kept for the next run; a cache that cannot be written is no error. */
static void write_cache(struct kern_target *k, const char *path)
{
	char *text, *slash;

	if (!path)
		return;
	slash = strrchr(path, '/');
	*slash = 0;
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		char *parent = strrchr(path, '/');

		if (parent) {
			*parent = 0;
			mkdir(path, 0700);
			*parent = '/';
		}
		mkdir(path, 0700);
	}
	*slash = '/';
	text = ovup_xasprintf("%s\n%s\n%s\n", k->kb_dir, k->kb_o, k->kb_s);
	(void)ovup_write_file_atomic(path, text, strlen(text));
	free(text);
}

int ovup_kern_compile_prepare(struct ovup_target *t)
{
	struct kern_target *k = ovup_to_kern(t);
	char *base, *cache;
	int ret;

	ret = k->kver[0] ? 0 : ovup_kern_find_kver(k);
	if (ret || k->kb_o || k->kb_failed)
		return ret;
	/* make every time, as before (to compare the two: tests/kernel/build.t) */
	if (getenv("OVUP_KBUILD_MAKE")) {
		k->kb_failed = 1;
		return 0;
	}
	base = base_flags(k);
	cache = cache_path(k, base);
	if (read_cache(k, cache)) {
		if (record_kbuild(k))
			k->kb_failed = 1;
		else
			write_cache(k, cache);
	}
	free(cache);
	free(base);
	return 0;
}

/* cmd with every from replaced by to. */
static char *replace_all(const char *cmd, const char *from, const char *to)
{
	struct ovup_buf b = { 0 };
	const char *p = cmd, *q;
	size_t n = strlen(from);

	while ((q = strstr(p, from))) {
		ovup_buf_add(&b, p, (size_t)(q - p));
		ovup_buf_printf(&b, "%s", to);
		p = q + n;
	}
	ovup_buf_printf(&b, "%s", p);
	return b.s;
}

/* The kbuild message for a compile that failed, on stderr first. */
static int compile_failed(int ret, const char *output, const char *src, const char *kver)
{
	char *missing;

	if (output && *output)
		fputs(output, stderr);
	if (ret < 0)
		return ovup_err(ret, "cannot run make: %s; install make and gcc", strerror(-ret));
	missing = output && strstr(output, "ovup.h") ? ovup_include_missing() : NULL;
	if (missing)
		ret = ovup_err(-EINVAL, "%s: the kernel patch does not compile: %s", src, missing);
	else
		ret = ovup_err(-EINVAL,
			       "%s: the kernel patch does not compile against the "
			       "%s headers (messages above)",
			       src, kver);
	free(missing);
	return ret;
}

/* The recorded command for what (ovup_patch.o or .s) replayed in dir
 * with flags, from the headers' tree as make would. */
static int replay(struct kern_target *k, const char *dir, const char *src, const char *what,
		  const char *flags)
{
	char kbuf[512], *c1, *c2, *c3, *cmd, *output = NULL;
	const char *rec = !strcmp(what, "ovup_patch.s") ? k->kb_s : k->kb_o;
	int ret;

	c1 = replace_all(rec, k->kb_dir, dir);
	c2 = replace_all(c1, "ovup_probe", "ovup_patch");
	c3 = replace_all(c2, "-D__OVUP_EXTRA__", flags);
	cmd = ovup_xasprintf("cd '%s' && %s", kbuild_dir(k, kbuf, sizeof(kbuf)), c3);
	{
		char *argv[] = { "sh", "-c", cmd, NULL };

		ret = ovup_run(argv, &output);
	}
	if (ret)
		ret = compile_failed(ret, output, src, k->kver);
	else if (output && *output)
		fputs(output, stderr); /* the compiler's warnings */
	free(output);
	free(cmd);
	free(c1);
	free(c2);
	free(c3);
	return ret;
}

/* make in the headers' tree, for the one file, when no command could be
 * recorded; its messages go to stderr either way. */
static int run_kbuild(struct kern_target *k, const char *dir, const char *src, const char *what,
		      const char *flags)
{
	char kbuf[512], *mdir = ovup_xasprintf("M=%s", dir), *output = NULL, *base, *kb, *path;
	char *argv[] = { "make", "-s",         "-C", (char *)kbuild_dir(k, kbuf, sizeof(kbuf)),
			 mdir,   (char *)what, NULL };
	int ret;

	base = base_flags(k);
	kb = ovup_xasprintf("obj-m := ovup_patch.o\nccflags-y := %s%s\n"
			    "override cmd_cc_s_c = $(CC) $(c_flags) -S -o $@ $<\n",
			    base, flags);
	path = ovup_xasprintf("%s/Kbuild", dir);
	ret = ovup_write_file_atomic(path, kb, strlen(kb));
	free(path);
	free(kb);
	free(base);
	if (!ret)
		ret = ovup_run(argv, &output);
	free(mdir);
	if (ret)
		ret = compile_failed(ret, output, src, k->kver);
	else if (output && *output)
		fputs(output, stderr);
	free(output);
	return ret;
}

static int copy_object(const char *dir, const char *what, const char *out)
{
	char *obj = ovup_xasprintf("%s/%s", dir, what), *text;
	size_t len;
	int ret;

	text = ovup_read_file(obj, &len);
	ret = text ? ovup_write_file_atomic(out, text, len) : -errno;
	free(text);
	free(obj);
	if (ret)
		ret = ovup_err(ret, "%s: cannot write the object: %s", out, strerror(-ret));
	return ret;
}

int ovup_kern_compile(struct ovup_target *t, const char *src, const char *out, char *const extra[],
		      size_t nextra)
{
	struct kern_target *k = ovup_to_kern(t);
	const char *what = "ovup_patch.o";
	struct ovup_buf flags = { 0 };
	char *dir;
	size_t i;
	int ret;

	ret = ovup_kern_compile_prepare(t);
	if (ret)
		return ret;
	dir = ovup_tmpdir();
	if (!dir)
		return ovup_err(-errno, "cannot create a temporary directory: %m");
	for (i = 0; i < nextra; i++)
		what = strcmp(extra[i], "-S") ? what : "ovup_patch.s";
	ret = write_module_dir(k, dir, src, extra, nextra, &flags);
	if (!ret)
		ret = k->kb_o ? replay(k, dir, src, what, flags.s ? flags.s : "")
			      : run_kbuild(k, dir, src, what, flags.s ? flags.s : "");
	if (!ret)
		ret = copy_object(dir, what, out);
	ovup_buf_free(&flags);
	ovup_tmpdir_remove(dir);
	free(dir);
	return ret;
}
