// SPDX-License-Identifier: MIT
/*
 * The kernel target: the running Linux kernel, reached through the ioctls
 * of ovup.ko on /dev/ovup (the paper's alloc, copyin, chgprot, pawrite),
 * with labels from /proc/kallsyms and patches compiled by kbuild for the
 * installed headers.  The module does the stop (stop_machine), the stack
 * check and keeps the record of applied patches; the only file that opens
 * /dev/ovup.
 */
#define _GNU_SOURCE
#include "../target.h"
#include "../../arch/arch.h"
#include "../compile.h"
#include "uapi/ovup_uapi.h"
#include "kfiles.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct kern_target {
	struct ovup_target base;
	int fd;                      /* /dev/ovup, -1 offline */
	int writer;                  /* this fd holds the module's writer slot */
	const char *dev;             /* its path */
	char kver[128];              /* headers to build with */
	struct ovup_k_version v;
};

static struct kern_target *to_kern(struct ovup_target *t)
{
	return ovup_container_of(t, struct kern_target, base);
}

static int module_missing(const char *dev);

static int need_module(struct kern_target *k)
{
	if (k->fd >= 0)
		return 0;
	/* opened offline because /dev/ovup was missing */
	return module_missing(k->dev);
}

/* The lockdown level the kernel shows ("integrity", "confidentiality"),
 * or NULL when it is not locked down or does not say. */
static const char *lockdown_level(char *buf, size_t len)
{
	char *text = ovup_read_file("/sys/kernel/security/lockdown", NULL), *l, *r;

	if (!text)
		return NULL;
	l = strchr(text, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || r - l - 1 <= 0 || !strncmp(l + 1, "none", 4)) {
		free(text);
		return NULL;
	}
	snprintf(buf, len, "%.*s", (int)(r - l - 1), l + 1);
	free(text);
	return buf;
}

/* ovup.ko answers EACCES only for lockdown (EPERM is the capabilities). */
static int lockdown_err(int ret, const char *what)
{
	char level[64];
	const char *lv = lockdown_level(level, sizeof(level));
	int reads = !strcmp(what, "read");

	return ovup_err(ret, "kernel: the kernel is locked down (%s): ovup.ko refuses to %s; %s",
			lv ? lv : "level unknown: /sys/kernel/security/lockdown unreadable",
			reads ? "read kernel text" : "load or switch to patch code",
			reads ? "lockdown=confidentiality forbids reading kernel memory"
			      : "a patch is unsigned code, which lockdown forbids (patches applied "
				"before can still be reverted); boot without lockdown to apply");
}

/* ---- labels: /proc/kallsyms ---- */

struct ktext {
	uint64_t addr;
	uint32_t obj;
	uint32_t sym; /* index in st->syms, or UINT32_MAX for no symbol */
};

static int ktext_cmp(const void *a, const void *b)
{
	const struct ktext *x = a, *y = b;

	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint32_t object_of(struct ovup_symtab *st, const char *name)
{
	struct ovup_object o = { 0 };
	size_t i;

	for (i = st->nobjs; i-- > 0;)
		if (!strcmp(st->objs[i].name, name))
			return (uint32_t)i;
	o.path = ovup_xstrdup(name);
	o.name = ovup_xstrdup(name);
	o.is_main = !strcmp(name, "vmlinux");
	o.full = 1; /* kallsyms has the static symbols too (KALLSYMS_ALL) */
	o.symsrc = ovup_xstrdup("/proc/kallsyms");
	o.open_path = ovup_xstrdup("/proc/kallsyms");
	return (uint32_t)ovup_symtab_add_object(st, &o);
}

static int kern_labels(struct ovup_target *t, struct ovup_symtab *st)
{
	const char *path = getenv("OVUP_KALLSYMS") ? getenv("OVUP_KALLSYMS") : "/proc/kallsyms";
	char *text = ovup_read_file(path, NULL), *p, *eol;
	struct ktext *kt = NULL;
	size_t nkt = 0, cap = 0, i, nonzero = 0, lines = 0;
	uint32_t cur_obj = 0;
	char cur_mod[256] = "vmlinux";

	(void)t;
	if (!text)
		return ovup_err(-errno, "kernel: cannot read %s: %m", path);
	object_of(st, "vmlinux");
	/* "ffffffff8a2105a0 t cmdline_proc_show" or "... t name\t[module]";
	 * parsed by hand: this runs on 100,000 lines */
	for (p = text; *p; p = eol + 1) {
		uint64_t addr;
		char type, *name, *mod;
		enum ovup_sym_type st_type;
		enum ovup_sym_bind bind;
		int last;

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		last = !*eol;
		*eol = 0;
		addr = strtoull(p, &p, 16);
		if (*p++ != ' ' || !*p)
			goto next;
		type = *p++;
		if (*p++ != ' ')
			goto next;
		name = p;
		mod = strchr(name, '\t');
		if (mod) {
			char *end;

			*mod++ = 0;
			if (*mod == '[' && (end = strchr(mod, ']'))) {
				*end = 0;
				mod++;
			}
		}
		lines++;
		nonzero += addr != 0;
		if (strcmp(mod ? mod : "vmlinux", cur_mod)) {
			snprintf(cur_mod, sizeof(cur_mod), "%s", mod ? mod : "vmlinux");
			cur_obj = object_of(st, cur_mod);
		}
		bind = type >= 'a' ? OVUP_BIND_LOCAL : OVUP_BIND_GLOBAL;
		if (type == 't' || type == 'T') {
			st_type = OVUP_SYM_FUNC;
		} else if (type == 'w' || type == 'W') {
			st_type = OVUP_SYM_FUNC;
			bind = OVUP_BIND_WEAK;
		} else if (strchr("dDbBrRaA", type)) {
			st_type = OVUP_SYM_OBJECT;
		} else {
			goto next;
		}
		if (st_type == OVUP_SYM_FUNC) {
			if (nkt == cap) {
				cap = cap ? cap * 2 : 65536;
				kt = ovup_xrealloc(kt, cap * sizeof(*kt));
			}
			kt[nkt].addr = addr;
			kt[nkt].obj = cur_obj;
			kt[nkt++].sym = (uint32_t)st->nsyms;
		}
		/* insertion order (kallsyms order) gives OVUP_SYMPOS its meaning */
		ovup_symtab_add(st, cur_obj, name, addr, 0, st_type, bind, NULL);
next:
		if (last)
			break;
	}
	free(text);
	if (lines && !nonzero) {
		free(kt);
		return ovup_err(-EACCES, "kernel: %s shows every address as 0 (kernel.kptr_restrict, "
					 "or not root); run ovup as root, with 'sysctl "
					 "kernel.kptr_restrict=1' or 0",
				path);
	}
	/* kallsyms has no sizes: a function ends where the next text symbol
	 * of its object begins, as the kernel's own kallsyms lookups assume */
	/* kallsyms lists each object in one block, vmlinux sorted by
	 * address, modules not always: sort only the blocks that need it */
	for (i = 0; i < nkt;) {
		size_t j = i + 1, sorted = 1;

		for (; j < nkt && kt[j].obj == kt[i].obj; j++)
			sorted &= kt[j - 1].addr <= kt[j].addr;
		if (!sorted)
			qsort(kt + i, j - i, sizeof(*kt), ktext_cmp);
		i = j;
	}
	if (nkt > 1 && kt[0].obj != kt[nkt - 1].obj)
		for (i = 1; i < nkt; i++)
			if (kt[i].obj < kt[i - 1].obj) {
				qsort(kt, nkt, sizeof(*kt), ktext_cmp); /* not in blocks after all */
				break;
			}
	for (i = 0; i < nkt; i++) {
		size_t j = i + 1;

		while (j < nkt && kt[j].obj == kt[i].obj && kt[j].addr == kt[i].addr)
			j++;
		if (j < nkt && kt[j].obj == kt[i].obj && kt[j].addr - kt[i].addr < (1u << 20))
			st->syms[kt[i].sym].size = kt[j].addr - kt[i].addr;
	}
	free(kt);
	ovup_symtab_finish(st);
	return 0;
}

/* ---- compile: kbuild for the installed headers ---- */

static int find_kver(struct kern_target *k)
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

static int kern_compile(struct ovup_target *t, const char *src, const char *out, char *const extra[],
			size_t nextra)
{
	struct kern_target *k = to_kern(t);
	char *dir = NULL, *text = NULL, *kb = NULL, *msrc = NULL, *mobj = NULL, *mdir, *output = NULL;
	char kbuf[512];
	struct ovup_buf flags = { 0 };
	size_t i, len;
	int ret;

	ret = k->kver[0] ? 0 : find_kver(k);
	if (ret)
		return ret;
	dir = ovup_tmpdir();
	if (!dir)
		return ovup_err(-errno, "cannot create a temporary directory: %m");
	text = ovup_read_file(src, &len);
	if (!text) {
		ret = ovup_err(-errno, "%s: %m", src);
		goto out;
	}
	msrc = ovup_xasprintf("%s/ovup_patch.c", dir);
	ret = ovup_write_file_atomic(msrc, text, len);
	if (ret)
		goto out;
	ovup_buf_printf(&flags, "obj-m := ovup_patch.o\nccflags-y := -I%s", ovup_include_dir());
	for (i = 0; i < nextra; i++)
		ovup_buf_printf(&flags, " %s", extra[i]);
	ovup_buf_printf(&flags, "\n");
	kb = ovup_xasprintf("%s/Kbuild", dir);
	ret = ovup_write_file_atomic(kb, flags.s, flags.len);
	if (ret)
		goto out;
	mdir = ovup_xasprintf("M=%s", dir);
	{
		char *argv[] = { "make", "-s", "-C", (char *)kbuild_dir(k, kbuf, sizeof(kbuf)), mdir,
				 "ovup_patch.o", NULL };

		ret = ovup_run(argv, &output);
	}
	free(mdir);
	if (ret) {
		if (output)
			fputs(output, stderr);
		ret = ret < 0 ? ovup_err(ret, "cannot run make: %s; install make and gcc", strerror(-ret))
			      : ovup_err(-EINVAL, "%s: the kernel patch does not compile against the "
						  "%s headers (messages above)",
					 src, k->kver);
		goto out;
	}
	if (output && *output)
		fputs(output, stderr);
	mobj = ovup_xasprintf("%s/ovup_patch.o", dir);
	free(text);
	text = ovup_read_file(mobj, &len);
	ret = text ? ovup_write_file_atomic(out, text, len) : -errno;
	if (ret)
		ret = ovup_err(ret, "%s: cannot write the object: %s", out, strerror(-ret));
out:
	free(output);
	free(text);
	free(kb);
	free(msrc);
	free(mobj);
	ovup_buf_free(&flags);
	ovup_tmpdir_remove(dir);
	free(dir);
	return ret;
}

/* ---- sections of a kernel patch ---- */

static const char *const kern_discard[] = {
	/* objtool's and kbuild's metadata for the module loader: ovup's code
	 * needs none of it (no ORC: the module treats its blocks as busy) */
	".retpoline_sites", ".return_sites", ".call_sites", ".ibt_endbr_seal",
	".orc_unwind", ".orc_unwind_ip", ".orc_header", ".smp_locks",
	".discard", ".discard.*", ".modinfo", "__versions", ".gnu.linkonce.this_module",
	"__patchable_function_entries", ".BTF", ".BTF_ids", NULL,
};
static const char *const kern_keep_ro[] = { "__mcount_loc", NULL };

static int in_list(const char *const *l, const char *name)
{
	for (; *l; l++) {
		size_t n = strlen(*l);

		if ((*l)[n - 1] == '*' ? !strncmp(name, *l, n - 1) : !strcmp(name, *l))
			return 1;
	}
	return 0;
}

static int kern_classify(const char *name, uint64_t flags, uint32_t type)
{
	if (in_list(kern_discard, name))
		return OVUP_SEC_IGNORE;
	if (!strcmp(name, "__mcount_loc"))
		return OVUP_SEC_RO;
	if (!strncmp(name, ".data..percpu", 13) || !strncmp(name, ".init.", 6) ||
	    !strncmp(name, ".exit.", 6) || !strncmp(name, "__ksymtab", 9) ||
	    !strcmp(name, ".altinstructions") || !strncmp(name, ".altinstr_", 10) ||
	    !strcmp(name, "__jump_table") || !strcmp(name, "__ex_table") ||
	    !strcmp(name, "__bug_table") || !strncmp(name, ".static_call", 12) ||
	    !strcmp(name, ".noinstr.text") || !strcmp(name, ".entry.text"))
		return OVUP_SEC_REJECT;
	return ovup_classify_user(name, flags, type);
}

static const char *kern_reject_hint(const char *s)
{
	if (!strncmp(s, ".altinstr", 9))
		return ": it holds CPU alternatives (static_cpu_has(), some inlines), which ovup "
		       "does not apply; avoid them in the patch";
	if (!strcmp(s, "__jump_table"))
		return ": static keys (static_branch_*(), tracepoints) need registration ovup "
		       "does not do";
	if (!strcmp(s, "__ex_table"))
		return ": user-memory access (copy_from_user(), get_user()) needs exception-table "
		       "entries ovup does not register";
	if (!strcmp(s, "__bug_table"))
		return ": BUG()/WARN() need bug-table entries ovup does not register";
	if (!strncmp(s, ".static_call", 12))
		return ": static calls need registration ovup does not do";
	if (!strncmp(s, "__ksymtab", 9))
		return ": a patch cannot export symbols";
	if (!strncmp(s, ".init.", 6) || !strncmp(s, ".exit.", 6))
		return ": __init/__exit code is never run by ovup";
	if (!strncmp(s, ".data..percpu", 13))
		return ": a patch cannot add per-CPU variables";
	return "";
}

/* Every `call __fentry__` the compiler put at a function entry becomes the
 * NOP5 the kernel's module loader would have made of it. */
static int kern_fixup(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st)
{
	uint64_t fentry = 0;
	size_t i, k, j;

	(void)t;
	for (i = 0; i < st->nsyms; i++)
		if (!strcmp(st->syms[i].name, "__fentry__"))
			fentry = st->syms[i].addr;
	for (i = 0; i < img->nsecs; i++) {
		const struct ovup_img_sec *mc = &img->secs[i];

		if (strcmp(mc->name, "__mcount_loc") || !mc->data)
			continue;
		for (k = 0; k + 8 <= mc->size; k += 8) {
			uint64_t site, to;

			memcpy(&site, mc->data + k, 8);
			for (j = 0; j < img->nsecs; j++) {
				struct ovup_img_sec *s = &img->secs[j];
				uint8_t *at;

				if (!s->data || site < s->addr || site + 5 > s->addr + s->size)
					continue;
				at = s->data + (site - s->addr);
				if (ovup_arch_branch_decode(site, at, 5, &to) == OVUP_ARCH_CALL &&
				    (!fentry || to == fentry))
					ovup_arch_ftrace_nop(at);
			}
		}
	}
	return 0;
}

/* ---- the four primitives ---- */

static int kern_ioctl(struct kern_target *k, unsigned long req, void *arg, const char *what)
{
	int ret = need_module(k);

	if (ret)
		return ret;
	if (ioctl(k->fd, req, arg) == 0)
		return 0;
	ret = -errno;
	if (ret == -EPERM)
		return ovup_err(ret, "kernel: %s: not permitted; ovup needs root (CAP_SYS_ADMIN "
				     "and CAP_SYS_MODULE)",
				what);
	if (ret == -EACCES)
		return lockdown_err(ret, what);
	if (ret == -ENOLCK)
		return ovup_err(ret, "kernel: %s: ovup.ko says this run does not hold its writer "
				     "slot (an ovup bug: writes must come after BEGIN)",
				what);
	if (ret == -ENOKEY)
		return ovup_err(ret, "kernel: %s: the ovup module does not know where the idle "
				     "tasks are (OVUP_IOC_IDLE was not done); reopen /dev/ovup",
				what);
	if (ret == -ENOTTY)
		return ovup_err(ret, "kernel: %s: /dev/ovup does not know this request; the loaded "
				     "ovup.ko is from another version of ovup",
				what);
	return ret;
}

static int kern_alloc(struct ovup_target *t, enum ovup_block_kind kind, const char *owner,
		      uint64_t size, uint64_t lo, uint64_t hi, uint64_t near, int dry_run,
		      struct ovup_block *out)
{
	struct kern_target *k = to_kern(t);
	struct ovup_k_alloc a = { 0 };
	int ret;

	(void)owner; /* the module keeps the record that names the owner */
	(void)near;  /* the module's areas are all within reach */
	size = OVUP_ALIGN_UP(size, 4096);
	ret = need_module(k);
	if (ret)
		return ret;
	if (dry_run) {
		/* where it would go: the start of ovup's area */
		out->addr = kind == OVUP_BLOCK_TEXT ? k->v.text_base : k->v.data_base;
		out->size = size;
		out->kind = kind;
		return 0;
	}
	a.size = size;
	a.kind = kind == OVUP_BLOCK_TEXT ? OVUP_K_TEXT : OVUP_K_DATA;
	ret = kern_ioctl(k, OVUP_IOC_ALLOC, &a, "alloc");
	if (ret == -ENOMEM || ret == -ENOSPC)
		return ovup_err(ret, "kernel: ovup's %s area has no free %" PRIu64 " KiB left; revert "
				     "patches or reload the module",
				kind == OVUP_BLOCK_TEXT ? "code" : "data", size >> 10);
	if (ret)
		return ovup_err(ret, "kernel: alloc of %" PRIu64 " bytes failed: %s", size,
				strerror(-ret));
	out->addr = a.addr;
	out->size = size;
	out->kind = kind;
	if (a.addr < lo || a.addr + size > hi) {
		struct ovup_k_free f = { a.addr };

		ioctl(k->fd, OVUP_IOC_FREE, &f);
		return ovup_err(-ERANGE, "kernel: ovup's area at 0x%" PRIx64 " is out of a jump's "
					 "reach of the functions",
				(uint64_t)a.addr);
	}
	return 0;
}

static int kern_free(struct ovup_target *t, const struct ovup_block *b, size_t n,
		     struct ovup_busy *busy)
{
	struct kern_target *k = to_kern(t);
	size_t i;
	int ret = 0;

	(void)busy;
	for (i = 0; i < n; i++) {
		struct ovup_k_free f = { b[i].addr };
		int r = kern_ioctl(k, OVUP_IOC_FREE, &f, "free");

		if (r && !ret)
			ret = ovup_err(r, "kernel: free of 0x%" PRIx64 " failed: %s", b[i].addr,
				       strerror(-r));
	}
	return ret;
}

static int kern_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len)
{
	struct kern_target *k = to_kern(t);
	struct ovup_k_copyin c = { addr, (uint64_t)(uintptr_t)buf, len };
	int ret = kern_ioctl(k, OVUP_IOC_COPYIN, &c, "copyin");

	return ret ? ovup_err(ret, "kernel: copyin of %zu bytes to 0x%" PRIx64 " failed: %s", len,
			      addr, strerror(-ret))
		   : 0;
}

static int kern_chgprot(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot)
{
	struct kern_target *k = to_kern(t);
	struct ovup_k_chgprot c = { addr, OVUP_ALIGN_UP(len, 4096), 0, 0 };
	int ret;

	c.prot = prot == OVUP_PROT_READ_EXEC    ? OVUP_PROT_RX
		 : prot == OVUP_PROT_READ_WRITE ? OVUP_PROT_RW
						: OVUP_PROT_R;
	ret = kern_ioctl(k, OVUP_IOC_CHGPROT, &c, "chgprot");
	return ret ? ovup_err(ret, "kernel: chgprot at 0x%" PRIx64 " failed: %s", addr,
			      strerror(-ret))
		   : 0;
}

static int kern_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct kern_target *k = to_kern(t);
	size_t done = 0;

	while (done < len) {
		size_t n = OVUP_MIN(len - done, 4096);
		struct ovup_k_read r = { addr + done, (uint64_t)(uintptr_t)((char *)buf + done), n };
		int ret = kern_ioctl(k, OVUP_IOC_READ, &r, "read");

		if (ret)
			return ovup_err(ret, "kernel: cannot read %zu bytes at 0x%" PRIx64 ": %s", n,
					addr + done, strerror(-ret));
		done += n;
	}
	return 0;
}

static int kern_site(struct ovup_target *t, const uint8_t *entry, size_t n, uint32_t *keep)
{
	(void)t;
	/* after the ftrace NOP5, so ftrace and kprobes on the entry keep
	 * working */
	*keep = (uint32_t)ovup_arch_ftrace_site(entry, n);
	return *keep ? 0 : -EINVAL;
}

/* Without a pristine copy of kernel text, a branch at the site is
 * original code when it goes to a known function, and someone's hook when
 * it goes to a trampoline (kprobes, ftrace, BPF) or nowhere known. */
static int kern_hooked(struct ovup_target *t, const struct ovup_symtab *st, uint64_t site,
		       const uint8_t *bytes, char *why, size_t len)
{
	const struct ovup_sym *s;
	uint64_t to;
	enum ovup_arch_branch kind = ovup_arch_branch_decode(site, bytes, ovup_arch_jump_len, &to);
	const char *what = kind == OVUP_ARCH_CALL ? "call" : "jmp";
	struct kern_target *k = to_kern(t);

	if (kind == OVUP_ARCH_TRAP) {
		snprintf(why, len, "a breakpoint (int3: a kprobe?)");
		return 1;
	}
	if (kind == OVUP_ARCH_OTHER)
		return 0;
	/* Called only where no ovup record is on the site (stacking is
	 * checked before): a branch into ovup's own areas is then a jump an
	 * interrupted or foreign writer left, never the function's code. */
	if ((to >= k->v.text_base && to - k->v.text_base < k->v.text_size) ||
	    (to >= k->v.data_base && to - k->v.data_base < k->v.data_size)) {
		snprintf(why, len, "a %s into ovup.ko's own area (0x%" PRIx64 ") that no patch "
			 "applied by ovup accounts for (see 'ovup list -k')",
			 what, to);
		return 1;
	}
	s = ovup_symtab_by_addr(st, to);
	if (!s) {
		snprintf(why, len, "a %s to 0x%" PRIx64 ", outside every known function", what, to);
		return 1;
	}
	if (!strncmp(st->objs[s->obj].name, "__builtin__", 11) || !strcmp(st->objs[s->obj].name, "bpf")) {
		snprintf(why, len, "a %s to %s [%s]", what, s->name, st->objs[s->obj].name);
		return 1;
	}
	return 0;
}

/* A branch into ovup's own area where the jump goes, with no record of
 * it, is named by the planner's hooked check ("a jmp into ovup.ko's own
 * area that no patch accounts for"), which says more than a byte
 * comparison with the object file would.  Everything else (kprobes,
 * optimized ones included) is the verifier's to name. */
static int kern_verify_entry(struct ovup_target *t, const struct ovup_symtab *st,
			     const struct ovup_sym *s, const uint8_t *entry, size_t n, int stacked)
{
	struct kern_target *k = to_kern(t);
	size_t keep = ovup_arch_ftrace_site(entry, n);
	uint64_t to;
	enum ovup_arch_branch kind;

	if (!stacked && keep && keep + ovup_arch_jump_len <= n) {
		kind = ovup_arch_branch_decode(s->addr + keep, entry + keep, ovup_arch_jump_len, &to);
		if ((kind == OVUP_ARCH_JMP || kind == OVUP_ARCH_CALL) &&
		    ((to >= k->v.text_base && to - k->v.text_base < k->v.text_size) ||
		     (to >= k->v.data_base && to - k->v.data_base < k->v.data_size)))
			return 0;
	}
	return ovup_kverify_entry(t, st, s, entry, n, stacked);
}

/* ---- branch: one ioctl, inside which the module stops the machine ---- */

static int kern_nop(struct ovup_target *t)
{
	(void)t;
	return 0;
}

/* the machine resumes inside the pawrite ioctl, which measured the pause */
static int kern_resume(struct ovup_target *t, struct ovup_txn *txn)
{
	(void)t;
	(void)txn;
	return 0;
}

static void copy_busy(struct ovup_busy *b, const struct ovup_k_busy *kb)
{
	b->tid = kb->pid;
	snprintf(b->comm, sizeof(b->comm), "%.16s", kb->comm);
	b->addr = kb->addr;
	b->unwind_failed = kb->reason == OVUP_BUSY_UNWIND;
	/* OVUP_BUSY_EXEC: interrupted at the bytes; FRAME: a return address */
	b->returns = kb->reason == OVUP_BUSY_FRAME;
}

static int kern_pawrite(struct ovup_target *t, struct ovup_txn *txn)
{
	struct kern_target *k = to_kern(t);
	struct ovup_k_site *sites = ovup_xcalloc(txn->nsites, sizeof(*sites));
	struct ovup_k_range *ranges = ovup_xcalloc(txn->nranges + 1, sizeof(*ranges));
	uint64_t *blocks = ovup_xcalloc(txn->nblocks + 1, sizeof(*blocks)), t0, stop_ns = 0;
	uint64_t *deps = ovup_xcalloc(txn->ndeps + 1, sizeof(*deps));
	size_t i;
	int ret;

	for (i = 0; i < txn->nsites; i++) {
		sites[i].addr = txn->sites[i].addr;
		sites[i].func = txn->sites[i].func;
		sites[i].len = txn->sites[i].len;
		memcpy(sites[i].expect, txn->sites[i].expect, txn->sites[i].len);
		memcpy(sites[i].write, txn->sites[i].write, txn->sites[i].len);
	}
	for (i = 0; i < txn->nranges; i++) {
		ranges[i].start = txn->ranges[i].start;
		ranges[i].end = txn->ranges[i].end;
	}
	for (i = 0; i < txn->nblocks; i++)
		blocks[i] = txn->blocks[i].addr;
	for (i = 0; i < txn->ndeps; i++)
		deps[i] = txn->deps[i].addr;
	t0 = ovup_now_ns();
	if (!txn->revert) {
		struct ovup_k_pawrite p = { 0 };

		snprintf(p.name, sizeof(p.name), "%s", txn->name);
		p.sites = (uint64_t)(uintptr_t)sites;
		p.ranges = (uint64_t)(uintptr_t)ranges;
		p.blocks = (uint64_t)(uintptr_t)blocks;
		p.blob = (uint64_t)(uintptr_t)txn->blob;
		p.nsites = (uint32_t)txn->nsites;
		p.nranges = (uint32_t)txn->nranges;
		p.nblocks = (uint32_t)txn->nblocks;
		p.bloblen = txn->blob ? (uint32_t)strlen(txn->blob) + 1 : 0;
		/* the module pins each of these modules while the patch is
		 * applied */
		p.deps = txn->ndeps ? (uint64_t)(uintptr_t)deps : 0;
		p.ndeps = (uint32_t)txn->ndeps;
		ret = kern_ioctl(k, OVUP_IOC_PAWRITE, &p, "pawrite");
		stop_ns = p.stats.stop_ns;
		txn->stop_tasks = p.stats.tasks;
		txn->stop_rechecked = p.stats.rechecked;
		if (ret == -EBUSY)
			copy_busy(&txn->busy, &p.busy);
		if (ret == -ESTALE)
			txn->failed_site = p.failed;
		if (ret == -ENXIO && p.failed < txn->ndeps) {
			/* transient: busy (exit 3), retried like a busy stack */
			txn->failed_dep = p.failed;
			ret = ovup_err(-EBUSY, "kernel: module '%s', which the patch '%s' refers "
					       "to, is being loaded or unloaded; nothing was "
					       "switched: try again once it is loaded",
				       txn->deps[p.failed].object, txn->name);
		}
	} else {
		struct ovup_k_revert r = { 0 };

		snprintf(r.name, sizeof(r.name), "%s", txn->name);
		r.ranges = (uint64_t)(uintptr_t)ranges;
		r.nranges = (uint32_t)txn->nranges;
		ret = kern_ioctl(k, OVUP_IOC_REVERT, &r, "revert");
		stop_ns = r.stats.stop_ns;
		txn->stop_tasks = r.stats.tasks;
		txn->stop_rechecked = r.stats.rechecked;
		txn->retired = ret ? 0 : r.retired;
		if (ret == -EBUSY)
			copy_busy(&txn->busy, &r.busy);
		if (ret == -ESTALE)
			txn->failed_site = r.failed;
	}
	/* the module measures the stop itself (first CPU in to the work
	 * done); a module that did not get that far leaves 0, and the whole
	 * ioctl bounds it */
	txn->pause_ns = stop_ns ? stop_ns : ovup_now_ns() - t0;
	if (ret && ret != -EBUSY && ret != -ESTALE && !ovup_err_msg())
		ovup_err(ret, "kernel: the module refused the %s of '%s': %s", txn->revert ? "revert" : "switch",
			 txn->name, strerror(-ret));
	free(sites);
	free(ranges);
	free(blocks);
	free(deps);
	return ret;
}

/* ---- the record, kept by the module ---- */

/*
 * Take the module's writer slot, for a verb that will write: from here to
 * the close of the fd no other ovup run can change the record this one
 * plans from.  Try first without waiting, to say who holds it; then wait
 * (a signal ends the wait: the module never restarts BEGIN).
 */
static int take_writer(struct kern_target *k)
{
	struct ovup_k_begin b = { .flags = OVUP_BEGIN_NOWAIT };
	int ret;

	if (k->writer)
		return 0;
	ret = kern_ioctl(k, OVUP_IOC_BEGIN, &b, "begin");
	if (ret == -EBUSY) {
		ovup_note("kernel: another ovup run (pid %d) is patching the kernel; waiting for it "
			  "to finish (Ctrl-C to give up)",
			  b.holder);
		do {
			ret = ovup_check_signal("nothing was changed");
			if (ret)
				return ret;
			b.flags = 0;
			ret = ioctl(k->fd, OVUP_IOC_BEGIN, &b) ? -errno : 0;
		} while (ret == -EINTR);
	}
	if (ret)
		return ovup_err(ret, "kernel: cannot take ovup.ko's writer slot: %s", strerror(-ret));
	k->writer = 1;
	return 0;
}

/* The record's text with the module's sequence number in place of the one
 * the tool guessed when it wrote the blob ("patch NAME SEQ TIME ..."): the
 * module's is the order in which the switches really happened. */
static void add_with_seq(struct ovup_buf *out, const char *blob, size_t len, uint64_t seq)
{
	const char *p = blob, *end = blob + len;

	if (len > 6 && !strncmp(p, "patch ", 6)) {
		p += 6;
		while (p < end && *p != ' ' && *p != '\n')
			p++;  /* the name: put_tok never leaves a space in it */
		if (p < end && *p == ' ' && p + 1 < end && p[1] >= '0' && p[1] <= '9') {
			ovup_buf_add(out, blob, (size_t)(p + 1 - blob));
			ovup_buf_printf(out, "%" PRIu64, seq);
			for (p++; p < end && *p >= '0' && *p <= '9'; p++)
				;
			ovup_buf_add(out, p, (size_t)(end - p));
			return;
		}
	}
	ovup_buf_add(out, blob, len);  /* not ours to fix: the parser says so */
}

static int kern_records_load(struct ovup_target *t, struct ovup_buf *out)
{
	struct kern_target *k = to_kern(t);
	uint32_t i;
	int ret;

	ret = need_module(k);
	if (ret)
		return ret;
	/* list and dry runs open the target offline: they only read */
	if (!t->offline) {
		ret = take_writer(k);
		if (ret)
			return ret;
	}
	for (i = 0;; i++) {
		struct ovup_k_record r = { 0 };
		char *blob;

		r.index = i;
		ret = kern_ioctl(k, OVUP_IOC_RECORD, &r, "record");
		if (ret == -ENOENT)
			return 0;
		if (ret && ret != -ENOSPC)
			return ovup_err(ret, "kernel: cannot read record %u: %s", i, strerror(-ret));
		blob = ovup_xcalloc(1, r.bloblen + 1);
		r.index = i;
		r.nsites = 0;
		r.nblocks = 0;
		r.sites = r.blocks = 0;
		r.blob = (uint64_t)(uintptr_t)blob;
		ret = kern_ioctl(k, OVUP_IOC_RECORD, &r, "record");
		if (!ret)
			add_with_seq(out, blob, strnlen(blob, r.bloblen), r.seq);
		free(blob);
		if (ret)
			return ovup_err(ret, "kernel: cannot read record %u: %s", i, strerror(-ret));
	}
}

/* ---- retired blocks, freed by the module itself ---- */

static int kern_retired(struct ovup_target *t, struct ovup_retired_block **out, size_t *n)
{
	struct kern_target *k = to_kern(t);
	uint32_t i;
	int ret;

	*out = NULL;
	*n = 0;
	if (k->fd < 0)
		return 0; /* no module loaded, nothing retired */
	for (i = 0;; i++) {
		struct ovup_k_retired r = { .index = i };
		struct ovup_retired_block *b;

		ret = kern_ioctl(k, OVUP_IOC_RETIRED, &r, "retired");
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return ovup_err(ret, "kernel: cannot read retired block %u: %s", i,
					strerror(-ret));
		*out = ovup_xrealloc(*out, (i + 1) * sizeof(**out));
		b = &(*out)[(*n)++];
		memset(b, 0, sizeof(*b));
		b->addr = r.addr;
		b->size = r.size;
		snprintf(b->patch, sizeof(b->patch), "%.*s", (int)sizeof(r.name), r.name);
		copy_busy(&b->busy, &r.busy);
	}
}

static void kern_close(struct ovup_target *t)
{
	struct kern_target *k = to_kern(t);

	/* closing the fd gives the writer slot up too */
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static const struct ovup_target_ops kernel_ops = {
	.kind = "kernel",
	.labels = kern_labels,
	.compile = kern_compile,
	.site = kern_site,
	.classify = kern_classify,
	.alloc = kern_alloc,
	.free = kern_free,
	.copyin = kern_copyin,
	.chgprot = kern_chgprot,
	.read = kern_read,
	.stop = kern_nop,
	.pawrite = kern_pawrite,
	.resume = kern_resume,
	.records_load = kern_records_load,
	.retired = kern_retired,
	.hooked = kern_hooked,
	.verify_entry = kern_verify_entry,
	.fixup = kern_fixup,
	.mapfile_keep_ro = kern_keep_ro,
	.mapfile_discard = kern_discard,
	.reject_hint = kern_reject_hint,
	.close = kern_close,
	.no_site_hint = " (no ftrace NOP5: notrace or assembly)",
	.keeps_records = 1,
	.build_compiles_only = 1,
	.needs_build_info = 1,
	.callers_assume_clobbers = 0, /* -pg: no -fipa-ra in the kernel */
};

static void header_identity(struct kern_target *k)
{
	char path[600], buf[512];
	FILE *f;
	static const char *const files[] = { "utsrelease.h", "utsversion.h", "compile.h" };
	size_t i;

	for (i = 0; i < OVUP_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/include/generated/%s", kbuild_dir(k, buf, sizeof(buf)),
			 files[i]);
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

/* /dev/ovup is absent: say why when lockdown is the reason. */
static int module_missing(const char *dev)
{
	char level[64];
	const char *lv = lockdown_level(level, sizeof(level));

	if (lv)
		return ovup_err(-ENODEV, "kernel: %s does not exist: the ovup module is not loaded, "
					 "and the kernel is locked down (%s), so an unsigned "
					 "ovup.ko cannot be loaded; boot without lockdown to use "
					 "ovup -k",
				dev, lv);
	return ovup_err(-ENODEV, "kernel: %s does not exist: the ovup module is not loaded; "
				 "load it with 'insmod ovup.ko' (build it with 'make kmod')",
			dev);
}

/* The address of the per-CPU variable idle_threads in kallsyms: the only
 * way to the idle tasks, which are on no task list. */
static int find_idle_threads(uint64_t *addr)
{
	const char *path = getenv("OVUP_KALLSYMS") ? getenv("OVUP_KALLSYMS") : "/proc/kallsyms";
	FILE *f = fopen(path, "r");
	char line[512];
	int found = 0;

	*addr = 0;
	if (!f)
		return ovup_err(-errno, "kernel: cannot read %s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		/* "0000000000020178 A idle_threads": vmlinux's, no [module]
		 * (per-CPU symbols are absolute offsets) */
		if (sp && sp[1] && strchr("AdDbB", sp[1]) && !strcmp(sp + 2, " idle_threads\n")) {
			*addr = strtoull(line, NULL, 16);
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		return ovup_err(-ENOENT, "kernel: %s has no symbol idle_threads, which ovup needs "
					 "to find the idle tasks; is it the running kernel's?",
				path);
	if (!*addr)
		return ovup_err(-EACCES, "kernel: %s shows every address as 0 (kernel.kptr_restrict, "
					 "or not root); run ovup as root, with 'sysctl "
					 "kernel.kptr_restrict=1' or 0",
				path);
	return 0;
}

/* Tell the module where the idle tasks are; it refuses pawrite and revert
 * until it knows. */
static int kern_idle(struct kern_target *k)
{
	struct ovup_k_idle i;
	uint64_t addr;
	int ret = find_idle_threads(&addr);

	if (ret)
		return ret;
	i.idle_threads = addr;
	if (ioctl(k->fd, OVUP_IOC_IDLE, &i))
		return ovup_err(-errno, "kernel: the ovup module refused 0x%" PRIx64 " as the "
					"address of idle_threads (%m); /proc/kallsyms does not "
					"match the running kernel?",
				(uint64_t)i.idle_threads);
	return 0;
}

int ovup_target_kernel_open(enum ovup_open_mode offline, struct ovup_target **out)
{
	struct kern_target *k = ovup_xcalloc(1, sizeof(*k));
	const char *dev = getenv("OVUP_DEVICE") ? getenv("OVUP_DEVICE") : "/dev/ovup";
	struct utsname u;
	int ret;

	k->base.ops = &kernel_ops;
	k->base.offline = offline;
	k->dev = dev;
	k->fd = -1;
	uname(&u);
	snprintf(k->base.desc, sizeof(k->base.desc), "kernel %.50s", u.release);
	if (offline == OVUP_OPEN_HEADERS) {
		/* build: for the installed headers, not the running kernel */
		ret = find_kver(k);
		if (ret)
			goto fail;
		header_identity(k);
		snprintf(k->base.desc, sizeof(k->base.desc), "kernel %.50s", k->kver);
		*out = &k->base;
		return 0;
	}
	snprintf(k->base.release, sizeof(k->base.release), "%s", u.release);
	snprintf(k->base.version, sizeof(k->base.version), "%s", u.version);
	k->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			ret = module_missing(dev);
		else if (errno == EACCES || errno == EPERM)
			ret = ovup_err(-EPERM, "kernel: cannot open %s: permission denied; run ovup "
					       "as root (the device is 0600, and every request "
					       "needs CAP_SYS_ADMIN and CAP_SYS_MODULE)",
				       dev);
		else
			ret = ovup_err(-errno, "kernel: cannot open %s: %m", dev);
		if (offline && ret == -ENODEV) {
			/* symbols needs only /proc/kallsyms */
			ovup_err_clear();
			*out = &k->base;
			return 0;
		}
		goto fail;
	}
	ret = ioctl(k->fd, OVUP_IOC_VERSION, &k->v) ? -errno : 0;
	if (ret == -EPERM) {
		ret = ovup_err(ret, "kernel: %s: not permitted; ovup needs CAP_SYS_ADMIN and "
				    "CAP_SYS_MODULE",
			       dev);
		goto fail;
	}
	if (ret || k->v.version != OVUP_UAPI_VERSION) {
		ret = ovup_err(-EPROTO, "kernel: the loaded ovup module speaks version %u, this ovup "
					"%u; load the ovup.ko built with this ovup",
			       ret ? 0 : k->v.version, OVUP_UAPI_VERSION);
		goto fail;
	}
	ret = kern_idle(k);
	if (ret)
		goto fail;
	*out = &k->base;
	return 0;
fail:
	kern_close(&k->base);
	return ret;
}
