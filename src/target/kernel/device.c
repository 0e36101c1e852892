// SPDX-License-Identifier: MIT
/*
 * /dev/ovup, the ioctls of ovup.ko: opening it (version, idle tasks), the
 * module's writer slot, and the paper's primitives alloc, copyin, chgprot
 * (with free and read) as one request each.  The only file of ovup that
 * opens /dev/ovup or calls ioctl(); the diagnoses of the module's answers
 * (capabilities, lockdown, a module from another ovup) live here too.
 */
#define _GNU_SOURCE
#include "kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

/* /dev/ovup is absent: say why when lockdown is the reason. */
static int module_missing(const char *dev)
{
	char level[64];
	const char *lv = lockdown_level(level, sizeof(level));

	if (lv)
		return ovup_err(-ENODEV,
				"kernel: %s does not exist: the ovup module is not loaded, "
				"and the kernel is locked down (%s), so an unsigned "
				"ovup.ko cannot be loaded; boot without lockdown to use "
				"ovup -k",
				dev, lv);
	return ovup_err(-ENODEV,
			"kernel: %s does not exist: the ovup module is not loaded; "
			"load it with 'insmod ovup.ko' (build it with 'make kmod')",
			dev);
}

int ovup_kern_need_module(struct kern_target *k)
{
	if (k->fd >= 0)
		return 0;
	/* opened offline because /dev/ovup was missing */
	return module_missing(k->dev);
}

int ovup_kern_ioctl(struct kern_target *k, unsigned long req, void *arg, const char *what)
{
	int ret = ovup_kern_need_module(k);

	if (ret)
		return ret;
	if (ioctl(k->fd, req, arg) == 0)
		return 0;
	ret = -errno;
	if (ret == -EPERM)
		return ovup_err(ret,
				"kernel: %s: not permitted; ovup needs root (CAP_SYS_ADMIN "
				"and CAP_SYS_MODULE)",
				what);
	if (ret == -EACCES)
		return lockdown_err(ret, what);
	if (ret == -ENOLCK)
		return ovup_err(ret,
				"kernel: %s: ovup.ko says this run does not hold its writer "
				"slot (an ovup bug: writes must come after BEGIN)",
				what);
	if (ret == -ENOKEY)
		return ovup_err(ret,
				"kernel: %s: the ovup module does not know where the idle "
				"tasks are (OVUP_IOC_IDLE was not done); reopen /dev/ovup",
				what);
	if (ret == -ENOTTY)
		return ovup_err(ret,
				"kernel: %s: /dev/ovup does not know this request; the loaded "
				"ovup.ko is from another version of ovup",
				what);
	return ret;
}

/* ---- opening the device ---- */

/* open(2) failed: the message for errno, 0 when a target opened offline
 * may go on without the module (symbols needs only /proc/kallsyms). */
static int open_failed(struct kern_target *k)
{
	int ret;

	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		ret = module_missing(k->dev);
	else if (errno == EACCES || errno == EPERM)
		ret = ovup_err(-EPERM,
			       "kernel: cannot open %s: permission denied; run ovup "
			       "as root (the device is 0600, and every request "
			       "needs CAP_SYS_ADMIN and CAP_SYS_MODULE)",
			       k->dev);
	else
		ret = ovup_err(-errno, "kernel: cannot open %s: %m", k->dev);
	if (k->base.offline && ret == -ENODEV) {
		ovup_err_clear();
		return 0;
	}
	return ret;
}

static int check_version(struct kern_target *k)
{
	int ret = ioctl(k->fd, OVUP_IOC_VERSION, &k->v) ? -errno : 0;

	if (ret == -EPERM)
		return ovup_err(ret,
				"kernel: %s: not permitted; ovup needs CAP_SYS_ADMIN and "
				"CAP_SYS_MODULE",
				k->dev);
	if (ret || k->v.version != OVUP_UAPI_VERSION)
		return ovup_err(-EPROTO,
				"kernel: the loaded ovup module speaks version %u, this ovup "
				"%u; load the ovup.ko built with this ovup",
				ret ? 0 : k->v.version, OVUP_UAPI_VERSION);
	return 0;
}

/* Tell the module where the idle tasks are; it refuses pawrite and revert
 * until it knows. */
static int tell_idle(struct kern_target *k)
{
	struct ovup_k_idle i;
	uint64_t addr;
	int ret = ovup_kern_idle_threads(&addr);

	if (ret)
		return ret;
	i.idle_threads = addr;
	if (ioctl(k->fd, OVUP_IOC_IDLE, &i))
		return ovup_err(-errno,
				"kernel: the ovup module refused 0x%" PRIx64 " as the "
				"address of idle_threads (%m); /proc/kallsyms does not "
				"match the running kernel?",
				(uint64_t)i.idle_threads);
	return 0;
}

int ovup_kern_device_open(struct kern_target *k)
{
	int ret;

	k->fd = open(k->dev, O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return open_failed(k);
	ret = check_version(k);
	return ret ? ret : tell_idle(k);
}

/*
 * Take the module's writer slot, for a verb that will write: from here to
 * the close of the fd no other ovup run can change the record this one
 * plans from.  Try first without waiting, to say who holds it; then wait
 * (a signal ends the wait: the module never restarts BEGIN).
 */
int ovup_kern_take_writer(struct kern_target *k)
{
	struct ovup_k_begin b = { .flags = OVUP_BEGIN_NOWAIT };
	int ret;

	if (k->writer)
		return 0;
	ret = ovup_kern_ioctl(k, OVUP_IOC_BEGIN, &b, "begin");
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
		return ovup_err(ret, "kernel: cannot take ovup.ko's writer slot: %s",
				strerror(-ret));
	k->writer = 1;
	/* tests: another run started now must wait, and name this one */
	if (ovup_fault("writer-sync"))
		ovup_test_sync();
	return 0;
}

/* What the module loader would patch for this CPU: asked once per run. */
int ovup_kern_cpu(struct kern_target *k, const struct ovup_k_cpu **out)
{
	int ret;

	if (!k->have_cpu) {
		ret = ovup_kern_ioctl(k, OVUP_IOC_CPU, &k->cpu, "cpu");
		if (ret) /* the first message stays: ovup_kern_ioctl()'s if set */
			return ovup_err(ret, "kernel: ovup.ko cannot tell the CPU's features: %s",
					strerror(-ret));
		if (k->cpu.nwords > OVUP_CPU_WORDS)
			return ovup_err(-EPROTO,
					"kernel: ovup.ko tells %u CPU feature words, "
					"more than the %u this ovup reads",
					k->cpu.nwords, OVUP_CPU_WORDS);
		k->have_cpu = 1;
	}
	*out = &k->cpu;
	return 0;
}

/* ---- the primitives: alloc, free, copyin, chgprot, read ---- */

int ovup_kern_alloc(struct ovup_target *t, enum ovup_block_kind kind, const char *owner,
		    uint64_t size, uint64_t lo, uint64_t hi, uint64_t near, int dry_run,
		    struct ovup_block *out)
{
	struct kern_target *k = ovup_to_kern(t);
	struct ovup_k_alloc a = { 0 };
	int ret;

	(void)owner; /* the module keeps the record that names the owner */
	(void)near;  /* the module's areas are all within reach */
	size = OVUP_ALIGN_UP(size, 4096);
	ret = ovup_kern_need_module(k);
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
	ret = ovup_kern_ioctl(k, OVUP_IOC_ALLOC, &a, "alloc");
	if (ret == -ENOMEM || ret == -ENOSPC)
		return ovup_err(ret,
				"kernel: ovup's %s area has no free %" PRIu64 " KiB left; revert "
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
		return ovup_err(-ERANGE,
				"kernel: ovup's area at 0x%" PRIx64 " is out of a jump's "
				"reach of the functions",
				(uint64_t)a.addr);
	}
	return 0;
}

int ovup_kern_free(struct ovup_target *t, const struct ovup_block *b, size_t n,
		   struct ovup_busy *busy)
{
	struct kern_target *k = ovup_to_kern(t);
	size_t i;
	int ret = 0;

	(void)busy;
	for (i = 0; i < n; i++) {
		struct ovup_k_free f = { b[i].addr };
		int r = ovup_kern_ioctl(k, OVUP_IOC_FREE, &f, "free");

		if (r && !ret)
			ret = ovup_err(r, "kernel: free of 0x%" PRIx64 " failed: %s", b[i].addr,
				       strerror(-r));
	}
	return ret;
}

int ovup_kern_copyin(struct ovup_target *t, uint64_t addr, const void *buf, size_t len)
{
	struct kern_target *k = ovup_to_kern(t);
	struct ovup_k_copyin c = { addr, (uint64_t)(uintptr_t)buf, len };
	int ret = ovup_kern_ioctl(k, OVUP_IOC_COPYIN, &c, "copyin");

	return ret ? ovup_err(ret, "kernel: copyin of %zu bytes to 0x%" PRIx64 " failed: %s", len,
			      addr, strerror(-ret))
		   : 0;
}

int ovup_kern_chgprot(struct ovup_target *t, uint64_t addr, uint64_t len, enum ovup_prot prot)
{
	struct kern_target *k = ovup_to_kern(t);
	struct ovup_k_chgprot c = { addr, OVUP_ALIGN_UP(len, 4096), 0, 0 };
	int ret;

	c.prot = prot == OVUP_PROT_READ_EXEC    ? OVUP_PROT_RX
		 : prot == OVUP_PROT_READ_WRITE ? OVUP_PROT_RW
						: OVUP_PROT_R;
	ret = ovup_kern_ioctl(k, OVUP_IOC_CHGPROT, &c, "chgprot");
	return ret ? ovup_err(ret, "kernel: chgprot at 0x%" PRIx64 " failed: %s", addr,
			      strerror(-ret))
		   : 0;
}

int ovup_kern_read(struct ovup_target *t, uint64_t addr, void *buf, size_t len)
{
	struct kern_target *k = ovup_to_kern(t);
	size_t done = 0;

	while (done < len) {
		size_t n = OVUP_MIN(len - done, 4096);
		struct ovup_k_read r = { addr + done, (uint64_t)(uintptr_t)((char *)buf + done),
					 n };
		int ret = ovup_kern_ioctl(k, OVUP_IOC_READ, &r, "read");

		if (ret)
			return ovup_err(ret, "kernel: cannot read %zu bytes at 0x%" PRIx64 ": %s",
					n, addr + done, strerror(-ret));
		done += n;
	}
	return 0;
}
