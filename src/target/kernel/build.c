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

/* The module's directory: the patch as ovup_patch.c, and a Kbuild file
 * that builds it with ovup.h's directory, the jump-label header and the
 * extra flags.  Assembly in (a .s file, diff.c's patch) is included by a
 * C file of one asm statement, so that kbuild and objtool treat it as
 * any patch; assembly out (-S) is kbuild's .s target, with the flags of
 * its .o (kbuild's own drops -g, which says where functions start). */
static int write_module_dir(struct kern_target *k, const char *dir, const char *src,
			    char *const extra[], size_t nextra)
{
	struct ovup_buf flags = { 0 };
	char *text = NULL, *path, *jl;
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
	ovup_buf_printf(&flags, "obj-m := ovup_patch.o\nccflags-y := -I%s", ovup_include_dir());
	jl = jump_label_flag(k);
	if (jl)
		ovup_buf_printf(&flags, " %s", jl);
	free(jl);
	ret = unit_header(k, &u, dir);
	if (ret < 0) {
		ovup_buf_free(&flags);
		return ret;
	}
	if (ret)
		ovup_buf_printf(&flags, " -include %s/ovup_unit.h", dir);
	/* __FILE__ (WARN/BUG reports) is the user's file, not ours; for a
	 * unit of the tree, its path there ("fs/fcntl.c"), as kbuild's */
	if (!strpbrk(src, " \t\n\"'$\\#"))
		ovup_buf_printf(&flags, " -fmacro-prefix-map=%s/ovup_patch.c=%s", dir,
				u.rel ? u.rel : src);
	for (i = 0; i < nextra; i++)
		if (strcmp(extra[i], "-S"))
			ovup_buf_printf(&flags, " %s", extra[i]);
	ovup_buf_printf(&flags, "\n");
	/* the included assembly has its own debug information */
	if (in_asm)
		ovup_buf_printf(&flags, "CFLAGS_ovup_patch.o := -g0\n");
	if (u.want_asm)
		ovup_buf_printf(&flags, "override cmd_cc_s_c = $(CC) $(c_flags) -S -o $@ $<\n");
	path = ovup_xasprintf("%s/Kbuild", dir);
	ret = ovup_write_file_atomic(path, flags.s, flags.len);
	free(path);
	ovup_buf_free(&flags);
	return ret;
}

/* make in the headers' tree, for the one object; its messages go to
 * stderr either way (the compiler's warnings too). */
static int run_kbuild(struct kern_target *k, const char *dir, const char *src, const char *what)
{
	char kbuf[512], *mdir = ovup_xasprintf("M=%s", dir), *output = NULL, *missing;
	char *argv[] = { "make", "-s",         "-C", (char *)kbuild_dir(k, kbuf, sizeof(kbuf)),
			 mdir,   (char *)what, NULL };
	int ret = ovup_run(argv, &output);

	free(mdir);
	if (output && (ret || *output))
		fputs(output, stderr);
	missing = ret > 0 && output && strstr(output, "ovup.h") ? ovup_include_missing() : NULL;
	free(output);
	if (!ret)
		return 0;
	if (ret < 0)
		return ovup_err(ret, "cannot run make: %s; install make and gcc", strerror(-ret));
	if (missing)
		ret = ovup_err(-EINVAL, "%s: the kernel patch does not compile: %s", src, missing);
	else
		ret = ovup_err(-EINVAL,
			       "%s: the kernel patch does not compile against the "
			       "%s headers (messages above)",
			       src, k->kver);
	free(missing);
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
	char *dir;
	size_t i;
	int ret;

	ret = k->kver[0] ? 0 : ovup_kern_find_kver(k);
	if (ret)
		return ret;
	dir = ovup_tmpdir();
	if (!dir)
		return ovup_err(-errno, "cannot create a temporary directory: %m");
	for (i = 0; i < nextra; i++)
		what = strcmp(extra[i], "-S") ? what : "ovup_patch.s";
	ret = write_module_dir(k, dir, src, extra, nextra);
	if (!ret)
		ret = run_kbuild(k, dir, src, what);
	if (!ret)
		ret = copy_object(dir, what, out);
	ovup_tmpdir_remove(dir);
	free(dir);
	return ret;
}
