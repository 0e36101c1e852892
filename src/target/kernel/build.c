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

/* The module's directory: the patch as ovup_patch.c, and a Kbuild file
 * that builds it with ovup.h's directory, the jump-label header and the
 * extra flags. */
static int write_module_dir(struct kern_target *k, const char *dir, const char *src,
			    char *const extra[], size_t nextra)
{
	struct ovup_buf flags = { 0 };
	char *text, *path, *jl;
	size_t i, len;
	int ret;

	text = ovup_read_file(src, &len);
	if (!text)
		return ovup_err(-errno, "%s: %m", src);
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
	/* __FILE__ (WARN/BUG reports) is the user's file, not ours */
	if (!strpbrk(src, " \t\n\"'$\\#"))
		ovup_buf_printf(&flags, " -fmacro-prefix-map=%s/ovup_patch.c=%s", dir, src);
	for (i = 0; i < nextra; i++)
		ovup_buf_printf(&flags, " %s", extra[i]);
	ovup_buf_printf(&flags, "\n");
	path = ovup_xasprintf("%s/Kbuild", dir);
	ret = ovup_write_file_atomic(path, flags.s, flags.len);
	free(path);
	ovup_buf_free(&flags);
	return ret;
}

/* make in the headers' tree, for the one object; its messages go to
 * stderr either way (the compiler's warnings too). */
static int run_kbuild(struct kern_target *k, const char *dir, const char *src)
{
	char kbuf[512], *mdir = ovup_xasprintf("M=%s", dir), *output = NULL, *missing;
	char *argv[] = { "make", "-s",           "-C", (char *)kbuild_dir(k, kbuf, sizeof(kbuf)),
			 mdir,   "ovup_patch.o", NULL };
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

static int copy_object(const char *dir, const char *out)
{
	char *obj = ovup_xasprintf("%s/ovup_patch.o", dir), *text;
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
	char *dir;
	int ret;

	ret = k->kver[0] ? 0 : ovup_kern_find_kver(k);
	if (ret)
		return ret;
	dir = ovup_tmpdir();
	if (!dir)
		return ovup_err(-errno, "cannot create a temporary directory: %m");
	ret = write_module_dir(k, dir, src, extra, nextra);
	if (!ret)
		ret = run_kbuild(k, dir, src);
	if (!ret)
		ret = copy_object(dir, out);
	ovup_tmpdir_remove(dir);
	free(dir);
	return ret;
}
