// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kioctl: drives every ioctl of /dev/ovup directly, inside the QEMU guest
 * (tools/vmrun), and prints TAP.  It checks valid use, every class of bad
 * argument, privilege checks, a real branch on a kernel function observed
 * through /proc, the stack check (a sleeping task makes apply and revert
 * EBUSY), stacking, fd-release cleanup, module pinning and a stress loop.
 *   kioctl [all]        all groups
 *   kioctl GROUP...     some groups (see usage)
 *   kioctl stress [N]   N apply/revert cycles while another process reads
 *   kioctl fuzz [N]     N calls with random, structure-aware arguments
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#include "uapi/ovup_uapi.h"
#include "tap.h"

#define DEV "/dev/ovup"
#define PAGE 4096UL

/* ioctl returning 0 or -errno */
static int io(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static const char *ename(int neg)
{
	return neg ? strerrorname_np(-neg) : "0";
}

/* one TAP line: `ret` (0 or -errno) must equal `want` */
static bool is_err(int ret, int want, const char *what)
{
	return ok(ret == want, "%s -> %s (got %s)", what, ename(want), ename(ret));
}

/* ---- kernel symbols from /proc/kallsyms ----------------------------------- */

struct ksym {
	uint64_t addr;
	char type;
	char name[96];
};

static struct ksym *ksyms;
static size_t nksyms;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256];
	size_t cap = 0;

	if (!f)
		bail("cannot open /proc/kallsyms");
	nksyms = 0;
	free(ksyms);
	ksyms = NULL;
	while (fgets(line, sizeof(line), f)) {
		struct ksym k = { 0 };

		if (sscanf(line, "%" SCNx64 " %c %95s", &k.addr, &k.type, k.name) != 3)
			continue;
		if (nksyms == cap) {
			cap = cap ? cap * 2 : 65536;
			ksyms = realloc(ksyms, cap * sizeof(*ksyms));
			if (!ksyms)
				bail("out of memory");
		}
		ksyms[nksyms++] = k;
	}
	fclose(f);
	qsort(ksyms, nksyms, sizeof(*ksyms), ksym_cmp);
}

static const struct ksym *ksym_find(const char *name)
{
	for (size_t i = 0; i < nksyms; i++)
		if (!strcmp(ksyms[i].name, name))
			return &ksyms[i];
	return NULL;
}

static uint64_t ksym(const char *name)
{
	const struct ksym *k = ksym_find(name);

	if (!k || !k->addr)
		bail("symbol %s not in /proc/kallsyms", name);
	return k->addr;
}

/* end of a function: the next higher symbol address */
static uint64_t ksym_end(uint64_t addr)
{
	for (size_t i = 0; i < nksyms; i++)
		if (ksyms[i].addr > addr)
			return ksyms[i].addr;
	return addr + 16;
}

/* ---- small helpers ------------------------------------------------------- */

/* Opens /dev/ovup and tells the module where the idle tasks are, as the
 * tool does (refused without privileges: the perm group checks that). */
static int dev_open(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC);
	const struct ksym *k = ksym_find("idle_threads");
	struct ovup_k_idle idle = { .idle_threads = k ? k->addr : 0 };

	if (fd < 0)
		bail("open %s", DEV);
	ioctl(fd, OVUP_IOC_IDLE, &idle);
	return fd;
}

static int kbegin(int fd, uint32_t flags, struct ovup_k_begin *out)
{
	struct ovup_k_begin b = { .flags = flags, .holder = -2 };
	int ret = io(fd, OVUP_IOC_BEGIN, &b);

	if (out)
		*out = b;
	return ret;
}

/* take the writer slot, which every write needs */
static void writer(int fd)
{
	if (kbegin(fd, 0, NULL))
		bail("BEGIN");
}

static int kend(int fd)
{
	return io(fd, OVUP_IOC_END, NULL);
}

/* open /dev/ovup again under the same descriptor number, as the writer */
static void reopen(int fd)
{
	int nfd = dev_open();

	if (nfd != fd) {
		if (dup2(nfd, fd) < 0)
			bail("dup2");
		close(nfd);
	}
	writer(fd);
}

static int kread(int fd, uint64_t addr, void *buf, size_t len)
{
	struct ovup_k_read r = { .addr = addr, .uaddr = (uintptr_t)buf, .len = len };

	return io(fd, OVUP_IOC_READ, &r);
}

static uint64_t kalloc(int fd, uint32_t kind, uint64_t size)
{
	struct ovup_k_alloc a = { .size = size, .kind = kind };

	if (io(fd, OVUP_IOC_ALLOC, &a))
		bail("alloc %" PRIu64 " bytes", size);
	return a.addr;
}

static int kfree_(int fd, uint64_t addr)
{
	struct ovup_k_free f = { .addr = addr };

	return io(fd, OVUP_IOC_FREE, &f);
}

static int kcopyin(int fd, uint64_t addr, const void *buf, size_t len)
{
	struct ovup_k_copyin c = { .addr = addr, .uaddr = (uintptr_t)buf, .len = len };

	return io(fd, OVUP_IOC_COPYIN, &c);
}

static int kchgprot(int fd, uint64_t addr, uint64_t len, uint32_t prot)
{
	struct ovup_k_chgprot c = { .addr = addr, .len = len, .prot = prot };

	return io(fd, OVUP_IOC_CHGPROT, &c);
}

static uint32_t npatches(int fd)
{
	struct ovup_k_version v;

	if (io(fd, OVUP_IOC_VERSION, &v))
		bail("VERSION");
	return v.npatches;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n, total = 0;

	buf[0] = 0;
	if (fd < 0)
		return buf;
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	buf[total] = 0;
	close(fd);
	return buf;
}

static bool file_is(const char *path, const char *want)
{
	return !strcmp(slurp(path), want);
}

/* ---- x86-64 code for replacement functions -------------------------------- */

struct code {
	uint8_t b[512];
	size_t n;
	uint64_t base; /* where the code will run */
};

static void emit(struct code *c, const void *p, size_t n)
{
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

static void emit_rel32(struct code *c, uint64_t target)
{
	int64_t rel = (int64_t)(target - (c->base + c->n + 4));
	int32_t r32 = (int32_t)rel;

	if (rel != r32)
		bail("rel32 out of range: %#" PRIx64 " -> %#" PRIx64, c->base + c->n, target);
	emit(c, &r32, 4);
}

static void emit_call(struct code *c, uint64_t target)
{
	emit(c, "\xe8", 1);
	emit_rel32(c, target);
}

#define MSG_OFF 0x100 /* string constants live here in the block */

/* int f(struct seq_file *m, void *v) { [msleep(ms);] seq_puts(m, msg); return 0; } */
static struct code code_puts(uint64_t base, const char *msg, unsigned int sleep_ms)
{
	struct code c = { .base = base };

	if (sleep_ms) {
		uint32_t ms = sleep_ms;

		emit(&c, "\x53", 1);         /* push %rbx */
		emit(&c, "\x48\x89\xfb", 3); /* mov %rdi,%rbx */
		emit(&c, "\xbf", 1);         /* mov $ms,%edi */
		emit(&c, &ms, 4);
		emit_call(&c, ksym("msleep"));
		emit(&c, "\x48\x89\xdf", 3); /* mov %rbx,%rdi */
	}
	emit(&c, "\x48\x8d\x35", 3); /* lea msg(%rip),%rsi */
	emit_rel32(&c, base + MSG_OFF);
	emit_call(&c, ksym("seq_puts"));
	if (sleep_ms)
		emit(&c, "\x5b", 1); /* pop %rbx */
	emit(&c, "\x31\xc0\xc3", 3); /* xor %eax,%eax; ret */
	memset(c.b + c.n, 0xcc, MSG_OFF - c.n);
	c.n = MSG_OFF;
	emit(&c, msg, strlen(msg) + 1);
	return c;
}

/* int f(...) { return 0; }: the /proc file reads empty */
static struct code code_ret0(uint64_t base)
{
	struct code c = { .base = base };

	emit(&c, "\x31\xc0\xc3", 3);
	return c;
}

/* A text block holding `c`, made read-only executable: alloc, load, protect. */
static uint64_t load_code(int fd, struct code (*gen)(uint64_t, const char *, unsigned int),
			  const char *msg, unsigned int sleep_ms)
{
	uint64_t blk = kalloc(fd, OVUP_K_TEXT, PAGE);
	struct code c = gen(blk, msg, sleep_ms);

	if (kcopyin(fd, blk, c.b, c.n))
		bail("copyin");
	if (kchgprot(fd, blk, PAGE, OVUP_PROT_RX))
		bail("chgprot");
	return blk;
}

static struct code gen_ret0(uint64_t base, const char *msg, unsigned int ms)
{
	(void)msg;
	(void)ms;
	return code_ret0(base);
}

/* A site writing `jmp target` at func+5, expecting what is there now. */
static struct ovup_k_site site_jump(int fd, uint64_t func, uint64_t target)
{
	struct ovup_k_site s = { .addr = func + 5, .func = func, .len = 5 };
	int32_t rel = (int32_t)(target - (func + 10));

	if (kread(fd, s.addr, s.expect, 5))
		bail("read site %#llx", s.addr);
	s.write[0] = 0xe9;
	memcpy(s.write + 1, &rel, 4);
	return s;
}

struct patch {
	char name[OVUP_NAME_MAX];
	struct ovup_k_site sites[4];
	uint32_t nsites;
	struct ovup_k_range ranges[4];
	uint32_t nranges;
	uint64_t blocks[4];
	uint32_t nblocks;
	const char *blob;
	struct ovup_k_pawrite pw; /* last call, for failed/busy */
};

/* the PAWRITE argument for p, in p->pw */
static void fill_pw(struct patch *p)
{
	memset(&p->pw, 0, sizeof(p->pw));
	memcpy(p->pw.name, p->name, sizeof(p->pw.name));
	p->pw.sites = (uintptr_t)p->sites;
	p->pw.nsites = p->nsites;
	p->pw.ranges = (uintptr_t)p->ranges;
	p->pw.nranges = p->nranges;
	p->pw.blocks = (uintptr_t)p->blocks;
	p->pw.nblocks = p->nblocks;
	p->pw.blob = (uintptr_t)p->blob;
	p->pw.bloblen = p->blob ? strlen(p->blob) : 0;
}

static int apply(int fd, struct patch *p)
{
	fill_pw(p);
	return io(fd, OVUP_IOC_PAWRITE, &p->pw);
}

static int revert(int fd, const char *name, struct ovup_k_range *r, uint32_t nr,
		  struct ovup_k_revert *out)
{
	struct ovup_k_revert rv = { .ranges = (uintptr_t)r, .nranges = nr };
	int ret;

	snprintf(rv.name, sizeof(rv.name), "%s", name);
	ret = io(fd, OVUP_IOC_REVERT, &rv);
	if (out)
		*out = rv;
	return ret;
}

/* One-function patch of `func` to code in `blk`, stack-checked over the
 * function itself and the block. */
static struct patch patch_one(int fd, const char *name, uint64_t func, uint64_t blk)
{
	struct patch p = { .nsites = 1, .nranges = 2, .nblocks = 1 };

	snprintf(p.name, sizeof(p.name), "%s", name);
	p.sites[0] = site_jump(fd, func, blk);
	p.ranges[0] = (struct ovup_k_range){ func, ksym_end(func) };
	p.ranges[1] = (struct ovup_k_range){ blk, blk + PAGE };
	p.blocks[0] = blk;
	return p;
}

static bool dmesg_clean(const char **bad)
{
	static char buf[1 << 20];
	static const char *const pats[] = { "BUG:",       "Oops",
					    "WARNING:",   "general protection",
					    "Call Trace", "kernel tried to execute",
					    NULL };
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);

	if (n < 0) {
		*bad = "klogctl failed";
		return false;
	}
	buf[n] = 0;
	/* an empty or foreign log would make the check below vacuous */
	if (!strstr(buf, "ovup: ready")) {
		*bad = "ovup's load message is not in the log";
		return false;
	}
	for (int i = 0; pats[i]; i++)
		if (strstr(buf, pats[i])) {
			*bad = pats[i];
			return false;
		}
	return true;
}

static pid_t spawn(const char *cmd)
{
	pid_t pid = fork();

	if (pid < 0)
		bail("fork");
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* wait until `pid` sleeps in a function whose name contains `fn` */
static bool wait_wchan(pid_t pid, const char *fn)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	for (int i = 0; i < 300; i++) {
		if (strstr(slurp(path), fn))
			return true;
		usleep(10000);
	}
	diag("pid %d wchan is '%s', not %s", pid, slurp(path), fn);
	return false;
}

static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
static char cmdline_orig[4096];
static uint64_t f_cmdline, f_version;

/* ---- groups -------------------------------------------------------------- */

static void t_version(int fd)
{
	struct ovup_k_version v;
	int64_t dist;

	is_err(io(fd, OVUP_IOC_VERSION, &v), 0, "VERSION");
	ok(v.version == OVUP_UAPI_VERSION, "VERSION reports uapi version %u", v.version);
	ok(v.npatches == 0, "no patch applied at start (%u)", v.npatches);
	ok(v.text_size == 2u << 20 && v.data_size == 2u << 20, "areas are 2 MiB each");
	ok(v.text_base % PAGE == 0 && v.data_base % PAGE == 0, "areas are page aligned");
	dist = (int64_t)(v.text_base - f_cmdline);
	ok(dist > -(1LL << 31) && dist < (1LL << 31) - (int64_t)v.text_size,
	   "text area %#llx is within +-2 GiB of kernel text", v.text_base);
}

/* CPU: the boot CPU's words, and a return site of ovup.ko's that the
 * loader rewrote (the probe is 64-byte aligned: bit 5 clear). */
static void t_cpu(int fd)
{
	struct ovup_k_cpu c;
	uint32_t any = 0;

	memset(&c, 0xff, sizeof(c));
	is_err(io(fd, OVUP_IOC_CPU, &c), 0, "CPU");
	ok(c.nwords >= 20 && c.nwords <= OVUP_CPU_WORDS, "CPU tells %u capability words", c.nwords);
	for (uint32_t i = 0; i < c.nwords && i < OVUP_CPU_WORDS; i++)
		any |= c.caps[i];
	/* X86_FEATURE_ALWAYS (3*32+21) is set on every CPU */
	ok(c.nwords > 3 && (c.caps[3] >> 21 & 1), "... with X86_FEATURE_ALWAYS set");
	ok(c.ret_site % 64 == 0 && !(c.ret_site & 0x20), "the return probe %#llx: 64-byte aligned",
	   (unsigned long long)c.ret_site);
	ok(c.ret_how == OVUP_RET_PLAIN || (c.ret_how == OVUP_RET_THUNK && c.ret_thunk),
	   "... rewritten by the loader (how %u, thunk %#llx)", c.ret_how,
	   (unsigned long long)c.ret_thunk);
	ok(any != 0, "some capability bit is set");
}

static void t_ioctl(int fd)
{
	static const unsigned long cmds[] = {
		OVUP_IOC_VERSION, OVUP_IOC_ALLOC,   OVUP_IOC_FREE,   OVUP_IOC_COPYIN,
		OVUP_IOC_CHGPROT, OVUP_IOC_PAWRITE, OVUP_IOC_REVERT, OVUP_IOC_RECORD,
		OVUP_IOC_READ,    OVUP_IOC_BEGIN,   OVUP_IOC_CPU,
	};
	char name[64];

	is_err(io(fd, _IO(OVUP_IOC_MAGIC, 42), NULL), -ENOTTY, "unknown ioctl number");
	is_err(io(fd, _IOR(OVUP_IOC_MAGIC, 0, uint32_t), NULL), -ENOTTY,
	       "VERSION with a wrong size in the command");
	is_err(io(fd, _IO('T', 1), NULL), -ENOTTY, "ioctl of another magic");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(name, sizeof(name), "ioctl nr %lu with a NULL argument", _IOC_NR(cmds[i]));
		is_err(io(fd, cmds[i], NULL), -EFAULT, name);
		snprintf(name, sizeof(name), "ioctl nr %lu with an unmapped argument",
			 _IOC_NR(cmds[i]));
		is_err(io(fd, cmds[i], (void *)8), -EFAULT, name);
	}
}

static void t_alloc(int fd)
{
	struct ovup_k_version v;
	struct ovup_k_alloc a;
	uint8_t buf[PAGE], pat[64];
	uint64_t t, d, big[4];
	int nbig = 0, ret;

	io(fd, OVUP_IOC_VERSION, &v);
	memset(pat, 0xa5, sizeof(pat));

	a = (struct ovup_k_alloc){ .size = 100, .kind = OVUP_K_TEXT };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), 0, "ALLOC 100 bytes of text");
	t = a.addr;
	ok(t % PAGE == 0 && t >= v.text_base && t + PAGE <= v.text_base + v.text_size,
	   "text block %#" PRIx64 " is page aligned inside the text area", t);
	memset(buf, 1, sizeof(buf));
	is_err(kread(fd, t, buf, PAGE), 0, "READ the whole new text page");
	ok(!memcmp(buf, (uint8_t[PAGE]){ 0 }, PAGE), "new text block is zero-filled");

	is_err(kcopyin(fd, t + 10, pat, sizeof(pat)), 0, "COPYIN 64 bytes into read-only text");
	kread(fd, t, buf, 128);
	ok(!memcmp(buf + 10, pat, sizeof(pat)) && buf[9] == 0 && buf[74] == 0,
	   "READ sees exactly the copied bytes");
	is_err(kcopyin(fd, t + PAGE - 8, pat, 16), -EINVAL, "COPYIN past the block's end");
	is_err(kcopyin(fd, t, pat, 0), -EINVAL, "COPYIN of 0 bytes");
	is_err(kcopyin(fd, t, pat, OVUP_BLOCK_MAX + 1), -E2BIG,
	       "COPYIN larger than OVUP_BLOCK_MAX");
	is_err(kcopyin(fd, t, (void *)8, 16), -EFAULT, "COPYIN from an unmapped user buffer");
	is_err(kcopyin(fd, t, NULL, 16), -EFAULT, "COPYIN from a NULL user buffer");
	is_err(kcopyin(fd, f_cmdline, pat, 5), -EINVAL, "COPYIN into kernel text");
	is_err(kcopyin(fd, v.text_base + v.text_size - 16, pat, 16), -EINVAL,
	       "COPYIN into unallocated area pages");
	is_err(kcopyin(fd, -4096UL, pat, 8192), -EINVAL, "COPYIN range wrapping the address space");

	is_err(kchgprot(fd, t, PAGE, OVUP_PROT_R), 0, "CHGPROT text -> R");
	is_err(kread(fd, t + 10, buf, 4), 0, "READ of an R text block");
	is_err(kcopyin(fd, t, pat, 4), 0, "COPYIN into an R block (through the alias)");
	is_err(kchgprot(fd, t, PAGE, OVUP_PROT_RX), 0, "CHGPROT text -> RX");
	is_err(kchgprot(fd, t, PAGE, OVUP_PROT_RW), -EINVAL, "CHGPROT text -> RW (W^X)");
	is_err(kchgprot(fd, t, PAGE, 0), -EINVAL, "CHGPROT with prot 0");
	is_err(kchgprot(fd, t, PAGE, 99), -EINVAL, "CHGPROT with prot 99");
	is_err(kchgprot(fd, t + 1, PAGE, OVUP_PROT_RX), -EINVAL, "CHGPROT of an unaligned address");
	is_err(kchgprot(fd, t, 2 * PAGE, OVUP_PROT_RX), -EINVAL, "CHGPROT past the block's end");
	is_err(kchgprot(fd, t, 0, OVUP_PROT_RX), -EINVAL, "CHGPROT of 0 bytes");
	is_err(kchgprot(fd, f_cmdline & ~(PAGE - 1), PAGE, OVUP_PROT_RX), -EINVAL,
	       "CHGPROT of kernel text");
	{
		struct ovup_k_chgprot c = { .addr = t, .len = PAGE, .prot = OVUP_PROT_RX, .pad = 1 };

		is_err(io(fd, OVUP_IOC_CHGPROT, &c), -EINVAL, "CHGPROT with pad != 0");
	}

	a = (struct ovup_k_alloc){ .size = 3 * PAGE, .kind = OVUP_K_DATA };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), 0, "ALLOC 3 pages of data");
	d = a.addr;
	ok(d >= v.data_base && d + 3 * PAGE <= v.data_base + v.data_size,
	   "data block lies in the data area");
	is_err(kchgprot(fd, d, 3 * PAGE, OVUP_PROT_RX), -EINVAL, "CHGPROT data -> RX (never X)");
	is_err(kchgprot(fd, d + PAGE, PAGE, OVUP_PROT_R), 0, "CHGPROT one data page -> R");
	is_err(kcopyin(fd, d + PAGE - 4, pat, 8), 0, "COPYIN across RW and R data pages");
	is_err(kchgprot(fd, d, 3 * PAGE, OVUP_PROT_RW), 0, "CHGPROT data -> RW");
	kread(fd, d + PAGE - 4, buf, 8);
	ok(!memcmp(buf, pat, 8), "data block holds the copied bytes");

	a = (struct ovup_k_alloc){ .size = 1, .kind = 0 };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -EINVAL, "ALLOC kind 0");
	a = (struct ovup_k_alloc){ .size = 1, .kind = 3 };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -EINVAL, "ALLOC kind 3");
	a = (struct ovup_k_alloc){ .size = 1, .kind = OVUP_K_TEXT, .pad = 7 };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -EINVAL, "ALLOC with pad != 0");
	a = (struct ovup_k_alloc){ .size = 0, .kind = OVUP_K_TEXT };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -EINVAL, "ALLOC of 0 bytes");
	a = (struct ovup_k_alloc){ .size = OVUP_BLOCK_MAX + 1, .kind = OVUP_K_TEXT };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -E2BIG, "ALLOC above OVUP_BLOCK_MAX");
	a = (struct ovup_k_alloc){ .size = ~0ULL, .kind = OVUP_K_DATA };
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -E2BIG, "ALLOC of 2^64-1 bytes");

	/* fill the text area with 1 MiB blocks until it is full */
	do {
		a = (struct ovup_k_alloc){ .size = OVUP_BLOCK_MAX, .kind = OVUP_K_TEXT };
		ret = io(fd, OVUP_IOC_ALLOC, &a);
		if (!ret)
			big[nbig++] = a.addr;
	} while (!ret && nbig < 4);
	ok(ret == -ENOMEM && nbig >= 1, "text area runs out with -ENOMEM after %d MiB blocks",
	   nbig);
	for (int i = 0; i < nbig; i++)
		kfree_(fd, big[i]);

	is_err(kfree_(fd, t + PAGE / 2), -EINVAL, "FREE of an address inside a block");
	is_err(kfree_(fd, f_cmdline), -EINVAL, "FREE of a kernel address");
	is_err(kfree_(fd, 0), -EINVAL, "FREE of 0");
	is_err(kfree_(fd, t), 0, "FREE text block");
	is_err(kfree_(fd, t), -EINVAL, "FREE it again");
	is_err(kcopyin(fd, t, pat, 4), -EINVAL, "COPYIN into a freed block");
	is_err(kfree_(fd, d), 0, "FREE data block");

	/* first fit hands the same pages out again: they must be zero */
	t = kalloc(fd, OVUP_K_TEXT, PAGE);
	kcopyin(fd, t, pat, sizeof(pat));
	kchgprot(fd, t, PAGE, OVUP_PROT_R);
	kfree_(fd, t);
	a = (struct ovup_k_alloc){ .size = PAGE, .kind = OVUP_K_TEXT };
	io(fd, OVUP_IOC_ALLOC, &a);
	kread(fd, a.addr, buf, 128);
	ok(a.addr == t && !memcmp(buf, (uint8_t[128]){ 0 }, 128),
	   "a reused block comes back zero-filled");
	kfree_(fd, a.addr);
}

static void t_read(int fd)
{
	struct ovup_k_version v;
	uint8_t buf[PAGE + 1];

	io(fd, OVUP_IOC_VERSION, &v);
	is_err(kread(fd, f_cmdline, buf, 5), 0, "READ 5 bytes at cmdline_proc_show");
	ok(!memcmp(buf, nop5, 5), "cmdline_proc_show starts with the ftrace NOP5");
	is_err(kread(fd, f_cmdline & ~(PAGE - 1), buf, PAGE), 0, "READ a whole text page");
	is_err(kread(fd, f_cmdline, buf, PAGE + 1), -E2BIG, "READ of 4097 bytes");
	is_err(kread(fd, f_cmdline, buf, 0), -EINVAL, "READ of 0 bytes");
	is_err(kread(fd, ksym("linux_banner"), buf, 16), -EINVAL, "READ of kernel rodata");
	is_err(kread(fd, ksym("saved_command_line"), buf, 8), -EINVAL, "READ of kernel data");
	is_err(kread(fd, 0, buf, 8), -EINVAL, "READ at address 0");
	is_err(kread(fd, (uintptr_t)buf, buf, 8), -EINVAL, "READ of a user address");
	is_err(kread(fd, ~0ULL - 3, buf, 8), -EINVAL, "READ wrapping the address space");
	is_err(kread(fd, f_cmdline, (void *)8, 8), -EFAULT, "READ into an unmapped user buffer");
	is_err(kread(fd, v.data_base, buf, 8), 0, "READ of the data area");
}

static void t_perm(void)
{
	int fd = dev_open(), status;
	struct stat st;
	pid_t pid;

	ok(!stat(DEV, &st) && (st.st_mode & 07777) == 0600 && st.st_uid == 0,
	   "%s is mode 0600, owned by root (mode %o)", DEV, st.st_mode & 07777);

	/* child 1: keeps the root-opened fd, becomes nobody */
	pid = fork();
	if (!pid) {
		struct ovup_k_version v;
		struct ovup_k_alloc a = { .size = 1, .kind = OVUP_K_TEXT };
		int bad = 0;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (io(fd, OVUP_IOC_VERSION, &v) != -EPERM)
			bad |= 1;
		if (io(fd, OVUP_IOC_ALLOC, &a) != -EPERM)
			bad |= 2;
		if (io(fd, _IO(OVUP_IOC_MAGIC, 42), NULL) != -EPERM)
			bad |= 4;
		if (open(DEV, O_RDWR) >= 0 || errno != EACCES)
			bad |= 8;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "as uid 65534: ioctls on an inherited fd -> EPERM, open -> EACCES (status %#x)", status);

	/* child 2: still uid 0, but without CAP_SYS_ADMIN */
	pid = fork();
	if (!pid) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct c[2];
		struct ovup_k_version v;
		int fd2, bad = 0;

		if (syscall(SYS_capget, &h, c))
			_exit(10);
		c[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
		c[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
		if (syscall(SYS_capset, &h, c))
			_exit(11);
		if (io(fd, OVUP_IOC_VERSION, &v) != -EPERM)
			bad |= 1;
		fd2 = open(DEV, O_RDWR); /* root owns the node: DAC lets us open */
		if (fd2 < 0 || io(fd2, OVUP_IOC_VERSION, &v) != -EPERM)
			bad |= 2;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "uid 0 without CAP_SYS_ADMIN: ioctls -> EPERM (status %#x)", status);

	/* child 3: uid 0 with CAP_SYS_ADMIN, but without CAP_SYS_MODULE */
	pid = fork();
	if (!pid) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct c[2];
		struct ovup_k_version v;
		struct ovup_k_alloc a = { .size = 1, .kind = OVUP_K_TEXT };
		uint8_t b[8];
		int bad = 0;

		if (syscall(SYS_capget, &h, c))
			_exit(10);
		c[CAP_SYS_MODULE / 32].effective &= ~(1u << (CAP_SYS_MODULE % 32));
		c[CAP_SYS_MODULE / 32].permitted &= ~(1u << (CAP_SYS_MODULE % 32));
		if (syscall(SYS_capset, &h, c))
			_exit(11);
		if (io(fd, OVUP_IOC_VERSION, &v) != -EPERM)
			bad |= 1;
		if (kbegin(fd, OVUP_BEGIN_NOWAIT, NULL) != -EPERM)
			bad |= 2;
		if (io(fd, OVUP_IOC_ALLOC, &a) != -EPERM)
			bad |= 4;
		if (kread(fd, f_cmdline, b, 8) != -EPERM)
			bad |= 8;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "uid 0 with CAP_SYS_ADMIN but without CAP_SYS_MODULE: VERSION, BEGIN, ALLOC, READ "
	   "-> EPERM (status %#x)",
	   status);
	close(fd);
}

static void t_pawrite_args(int fd)
{
	uint64_t blk = load_code(fd, code_puts, "never shown\n", 0);
	uint64_t dblk = kalloc(fd, OVUP_K_DATA, PAGE);
	struct ovup_k_version v;
	struct patch p, q;
	uint8_t before[32], after[32], vbefore[16], vafter[16];
	char longname[OVUP_NAME_MAX];

	io(fd, OVUP_IOC_VERSION, &v);
	kread(fd, f_cmdline, before, sizeof(before));
	kread(fd, f_version, vbefore, sizeof(vbefore));
	p = patch_one(fd, "args", f_cmdline, blk);

#define TRY(mutate, want, what)                    \
	do {                                       \
		q = p;                             \
		mutate;                            \
		is_err(apply(fd, &q), want, what); \
	} while (0)
	TRY(q.name[0] = 0, -EINVAL, "PAWRITE with an empty name");
	TRY(strcpy(q.name, "a b"), -EINVAL, "PAWRITE with a space in the name");
	TRY(strcpy(q.name, "tab\t"), -EINVAL, "PAWRITE with a control character in the name");
	memset(longname, 'x', sizeof(longname));
	q = p;
	fill_pw(&q);
	memcpy(q.pw.name, longname, sizeof(longname));
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EINVAL, "PAWRITE with an unterminated name");
	q = p;
	fill_pw(&q); /* now corrupt single fields of the argument */
	{
		/* a dependency is an address inside a module; the core kernel
		 * cannot go away and is not one */
		uint64_t dep = f_cmdline;

		q.pw.ndeps = 1;
		q.pw.deps = (uintptr_t)&dep;
		is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EINVAL,
		       "PAWRITE with a dependency outside every module");
		q.pw.deps = 0;
		is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EFAULT,
		       "PAWRITE with dependencies at a NULL pointer");
		q.pw.ndeps = 0;
		q.pw.deps = (uintptr_t)&dep;
		is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EINVAL,
		       "PAWRITE with a dependency pointer but ndeps 0");
		q.pw.deps = 0;
	}
	q.pw.nsites = 0;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EINVAL, "PAWRITE of 0 sites");
	q.pw.nsites = OVUP_SITES_MAX + 1;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -E2BIG, "PAWRITE of 257 sites");
	q.pw.nsites = 1;
	q.pw.nranges = OVUP_RANGES_MAX + 1;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -E2BIG, "PAWRITE with 513 ranges");
	q.pw.nranges = 2;
	q.pw.nblocks = OVUP_BLOCKS_MAX + 1;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -E2BIG, "PAWRITE with 17 blocks");
	q.pw.nblocks = 1;
	q.pw.bloblen = OVUP_BLOB_MAX + 1;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -E2BIG, "PAWRITE with a 64 KiB + 1 blob");
	q.pw.bloblen = 16;
	q.pw.blob = 8;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EFAULT, "PAWRITE with an unmapped blob");
	q.pw.bloblen = 0;
	q.pw.sites = 0;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EFAULT, "PAWRITE with NULL sites");
	q.pw.sites = (uintptr_t)q.sites;
	q.pw.ranges = 16;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EFAULT, "PAWRITE with unmapped ranges");
	q.pw.ranges = (uintptr_t)q.ranges;
	q.pw.blocks = 24;
	is_err(io(fd, OVUP_IOC_PAWRITE, &q.pw), -EFAULT, "PAWRITE with unmapped blocks");

	TRY(q.sites[0].pad = 1, -EINVAL, "site with pad != 0");
	TRY(q.sites[0].len = 0, -EINVAL, "site of length 0");
	TRY(q.sites[0].len = 17, -E2BIG, "site of length 17");
	TRY(q.sites[0].addr += 1, -EINVAL, "site whose addr is not func+5");
	TRY((q.sites[0].func += 1, q.sites[0].addr += 1), -EINVAL,
	    "site at a non-function address (cmdline_proc_show+1)");
	TRY((q.sites[0].func = ksym("saved_command_line"), q.sites[0].addr = q.sites[0].func + 5),
	    -EINVAL, "site on a data symbol");
	TRY((q.sites[0].func = ksym("linux_banner"), q.sites[0].addr = q.sites[0].func + 5),
	    -EINVAL, "site on a rodata symbol");
	TRY((q.sites[0].func = 0x400000, q.sites[0].addr = 0x400005), -EINVAL,
	    "site at a user address");
	TRY((q.sites[0].func = ~0ULL - 8, q.sites[0].addr = ~0ULL - 3), -EINVAL,
	    "site wrapping the address space");
	TRY((q.sites[0].func = blk, q.sites[0].addr = blk + 5), -EINVAL,
	    "site inside ovup's own text area");
	TRY((q.sites[0].func = dblk, q.sites[0].addr = dblk + 5), -EINVAL,
	    "site inside ovup's own data area");
	TRY(q.sites[0] = site_jump(fd, f_cmdline, v.text_base + v.text_size - PAGE), -EINVAL,
	    "jump into unallocated text-area pages");
	TRY(q.sites[0] = site_jump(fd, f_cmdline, dblk), -EINVAL, "jump into a data block");
	TRY(q.sites[0] = site_jump(fd, f_cmdline, ksym("saved_command_line")), -EINVAL,
	    "jump to kernel data");
	TRY(q.nblocks = 0, -EINVAL, "jump into a block the PAWRITE does not take over");
	kchgprot(fd, blk, PAGE, OVUP_PROT_R);
	TRY((void)0, -EINVAL, "jump into a text block whose pte is R (not executable)");
	kchgprot(fd, blk, PAGE, OVUP_PROT_RX);
	TRY(q.blocks[0] = blk + PAGE / 2, -EINVAL, "owned block address not a block start");
	TRY((q.blocks[1] = blk, q.nblocks = 2), -EINVAL, "the same block listed twice");
	TRY((q.ranges[0].start = q.ranges[0].end), -EINVAL, "an empty stack-check range");
	TRY((q.sites[1] = q.sites[0], q.nsites = 2), -EINVAL, "two sites overlapping");

	/* expect mismatch on the second site: nothing at all is written */
	q = p;
	q.sites[1] = q.sites[0];
	q.sites[0] = site_jump(fd, f_version, blk);
	q.nsites = 2;
	q.sites[1].expect[2] ^= 0xff;
	is_err(apply(fd, &q), -ESTALE, "PAWRITE whose second site's expect mismatches");
	ok(q.pw.failed == 1, "failed names site index 1 (got %u)", q.pw.failed);
	kread(fd, f_cmdline, after, sizeof(after));
	kread(fd, f_version, vafter, sizeof(vafter));
	ok(!memcmp(before, after, sizeof(after)) && !memcmp(vbefore, vafter, sizeof(vafter)),
	   "after ESTALE both functions are byte-for-byte unchanged");
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline unchanged");
	ok(npatches(fd) == 0, "no record was created by any failed PAWRITE");
	is_err(kfree_(fd, blk), 0, "blocks of a failed PAWRITE stay free-able");
	kfree_(fd, dblk);
#undef TRY
}

static void t_patch(int fd)
{
	uint64_t blk = load_code(fd, code_puts, "ovup-patched\n", 0), blk2;
	struct patch p = patch_one(fd, "kioctl-cmdline", f_cmdline, blk), p2;
	struct ovup_k_site rs[2];
	struct ovup_k_record rec;
	uint64_t rblocks[2];
	char rblob[64] = { 0 };
	uint8_t cur[5];
	int ret;

	p.blob = "blob: tool data";
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline reads the boot command line");
	is_err(apply(fd, &p), 0, "PAWRITE jmp at cmdline_proc_show+5");
	ok(file_is("/proc/cmdline", "ovup-patched\n"), "/proc/cmdline now reads 'ovup-patched'");
	ok(!strstr(slurp("/proc/cmdline"), "console="), "the old text is gone from /proc/cmdline");
	kread(fd, f_cmdline + 5, cur, 5);
	ok(!memcmp(cur, p.sites[0].write, 5), "READ sees the jmp at the site");
	kread(fd, f_cmdline, cur, 5);
	ok(!memcmp(cur, nop5, 5), "the ftrace NOP5 in front is untouched");
	ok(npatches(fd) == 1, "VERSION counts 1 patch");

	rec = (struct ovup_k_record){ .index = 0 };
	is_err(io(fd, OVUP_IOC_RECORD, &rec), 0, "RECORD 0 with NULL buffers");
	ok(rec.nsites == 1 && rec.nblocks == 1 && rec.bloblen == strlen(p.blob) &&
		   !strcmp(rec.name, "kioctl-cmdline") && rec.seq > 0,
	   "RECORD 0 reports the name and counts (%u sites, %u blocks, %u blob bytes)", rec.nsites,
	   rec.nblocks, rec.bloblen);
	rec = (struct ovup_k_record){ .index = 0,
				      .nsites = 2,
				      .nblocks = 2,
				      .bloblen = 63,
				      .sites = (uintptr_t)rs,
				      .blocks = (uintptr_t)rblocks,
				      .blob = (uintptr_t)rblob };
	is_err(io(fd, OVUP_IOC_RECORD, &rec), 0, "RECORD 0 with buffers");
	ok(rs[0].addr == f_cmdline + 5 && rs[0].func == f_cmdline && rs[0].len == 5 &&
		   !memcmp(rs[0].expect, p.sites[0].expect, 5) &&
		   !memcmp(rs[0].write, p.sites[0].write, 5),
	   "RECORD site holds the saved original and the written bytes");
	ok(rblocks[0] == blk && !strcmp(rblob, p.blob),
	   "RECORD holds the owned block and the blob");
	rec.nsites = 0;
	is_err(io(fd, OVUP_IOC_RECORD, &rec), -ENOSPC, "RECORD with no room for the sites");
	ok(rec.nsites == 1, "ENOSPC still reports the site count");
	rec = (struct ovup_k_record){ .index = 1 };
	is_err(io(fd, OVUP_IOC_RECORD, &rec), -ENOENT, "RECORD 1 (past the end)");
	rec = (struct ovup_k_record){ .index = 0, .nsites = 1, .sites = 8 };
	is_err(io(fd, OVUP_IOC_RECORD, &rec), -EFAULT, "RECORD into an unmapped buffer");

	is_err(kfree_(fd, blk), -EBUSY, "FREE of a block a record owns");
	is_err(kcopyin(fd, blk, "x", 1), -EBUSY, "COPYIN into a block a record owns");
	is_err(kchgprot(fd, blk, PAGE, OVUP_PROT_R), -EBUSY, "CHGPROT of a block a record owns");
	p2 = p;
	p2.sites[0] = site_jump(fd, f_cmdline, blk);
	is_err(apply(fd, &p2), -EEXIST, "PAWRITE with a name already applied");
	snprintf(p2.name, sizeof(p2.name), "other-name");
	is_err(apply(fd, &p2), -EBUSY, "PAWRITE handing over a block another record owns");
	/* no fd open: only the record can be what holds the module */
	close(fd);
	ret = system("rmmod ovup 2>/dev/null");
	ok(ret != 0 && access(DEV, F_OK) == 0,
	   "rmmod ovup is refused while a patch is active (no fd open)");
	reopen(fd);
	is_err(revert(fd, "no-such-patch", NULL, 0, NULL), -ENOENT, "REVERT of an unknown name");
	is_err(revert(fd, "", NULL, 0, NULL), -EINVAL, "REVERT with an empty name");
	{
		struct ovup_k_revert rv = { .nranges = OVUP_RANGES_MAX + 1 };

		strcpy(rv.name, "kioctl-cmdline");
		is_err(io(fd, OVUP_IOC_REVERT, &rv), -E2BIG, "REVERT with 513 ranges");
		rv.nranges = 1;
		rv.ranges = 8;
		is_err(io(fd, OVUP_IOC_REVERT, &rv), -EFAULT, "REVERT with unmapped ranges");
	}

	/* a second patch stacked on the same site */
	blk2 = load_code(fd, gen_ret0, NULL, 0);
	p2 = patch_one(fd, "kioctl-stacked", f_cmdline, blk2);
	ok(!memcmp(p2.sites[0].expect, p.sites[0].write, 5), "stacked patch expects the first jmp");
	is_err(apply(fd, &p2), 0, "PAWRITE a second patch on the same site");
	ok(file_is("/proc/cmdline", ""), "/proc/cmdline now reads empty");
	is_err(revert(fd, "kioctl-cmdline", NULL, 0, NULL), -ENOTEMPTY,
	       "REVERT of the lower patch while one is stacked on it");
	ok(file_is("/proc/cmdline", ""), "the refused REVERT changed nothing");
	rec = (struct ovup_k_record){ .index = 1 };
	io(fd, OVUP_IOC_RECORD, &rec);
	ok(!strcmp(rec.name, "kioctl-stacked") && rec.seq > 1,
	   "RECORD 1 is the newer patch (seq %llu)", rec.seq);
	is_err(revert(fd, "kioctl-stacked", p2.ranges, p2.nranges, NULL), 0,
	       "REVERT the stacked patch");
	ok(file_is("/proc/cmdline", "ovup-patched\n"), "/proc/cmdline is back to the first patch");
	is_err(kfree_(fd, blk2), -EINVAL, "REVERT freed the stacked patch's block");
	is_err(revert(fd, "kioctl-cmdline", p.ranges, p.nranges, NULL), 0,
	       "REVERT the first patch");
	ok(file_is("/proc/cmdline", cmdline_orig),
	   "/proc/cmdline reads the boot command line again");
	kread(fd, f_cmdline + 5, cur, 5);
	ok(!memcmp(cur, p.sites[0].expect, 5), "the original bytes are back at the site");
	ok(npatches(fd) == 0, "VERSION counts 0 patches");
	is_err(revert(fd, "kioctl-cmdline", NULL, 0, NULL), -ENOENT, "REVERT twice");

	/* two functions switch in one batch, and back */
	blk = load_code(fd, code_puts, "ovup-batch\n", 0);
	p = patch_one(fd, "kioctl-batch", f_cmdline, blk);
	p.sites[1] = site_jump(fd, f_version, blk);
	p.nsites = 2;
	p.ranges[p.nranges++] = (struct ovup_k_range){ f_version, ksym_end(f_version) };
	is_err(apply(fd, &p), 0, "PAWRITE of two sites in one batch");
	ok(file_is("/proc/cmdline", "ovup-batch\n") && file_is("/proc/version", "ovup-batch\n"),
	   "/proc/cmdline and /proc/version both switched");
	is_err(revert(fd, "kioctl-batch", p.ranges, p.nranges, NULL), 0, "REVERT the batch");
	ok(file_is("/proc/cmdline", cmdline_orig) &&
		   !strncmp(slurp("/proc/version"), "Linux version", 13),
	   "both restored");

	/* a jump to other kernel code is not what ovup does: refused */
	p2 = patch_one(fd, "kioctl-redirect", f_version, f_cmdline);
	p2.nblocks = 0;
	p2.nranges = 1;
	is_err(apply(fd, &p2), -EINVAL,
	       "PAWRITE redirecting version_proc_show to cmdline_proc_show is refused");
	ok(!strncmp(slurp("/proc/version"), "Linux version", 13), "/proc/version unchanged");
}

/* kprobes and ftrace rewrite text too: they must meet ESTALE, not corruption */
static void t_tracing(int fd)
{
	uint64_t blk;
	struct patch p;
	struct ovup_k_revert rv;
	int ret;

	if (access("/sys/kernel/tracing/kprobe_events", F_OK) &&
	    system("mount -t tracefs nodev /sys/kernel/tracing")) {
		ok(false, "mount tracefs");
		return;
	}
	/* ftrace on the function: its NOP5 becomes a call, our jump still works */
	ret = system("cd /sys/kernel/tracing && echo cmdline_proc_show > set_ftrace_filter &&"
		     " echo function > current_tracer && echo > trace");
	blk = load_code(fd, code_puts, "ovup-traced\n", 0);
	p = patch_one(fd, "kioctl-ftrace", f_cmdline, blk);
	{
		uint8_t b[5];

		kread(fd, f_cmdline, b, 5);
		ok(ret == 0 && b[0] == 0xe8,
		   "with ftrace on, cmdline_proc_show starts with a call");
	}
	is_err(apply(fd, &p), 0, "PAWRITE behind an active ftrace call site");
	ok(file_is("/proc/cmdline", "ovup-traced\n"), "/proc/cmdline shows the patch");
	ok(strstr(slurp("/sys/kernel/tracing/trace"), "cmdline_proc_show") != NULL,
	   "ftrace still records calls of the patched function");
	system("cd /sys/kernel/tracing && echo nop > current_tracer && echo > set_ftrace_filter");

	/* a kprobe at our site replaces its first byte with int3 */
	ret = system("echo 'p:kioctl_kp cmdline_proc_show+5' > /sys/kernel/tracing/kprobe_events &&"
		     " echo 1 > /sys/kernel/tracing/events/kprobes/kioctl_kp/enable");
	ok(ret == 0, "kprobe armed on the patched site");
	is_err(revert(fd, "kioctl-ftrace", p.ranges, p.nranges, &rv), -ESTALE,
	       "REVERT while a kprobe changed the site");
	ok(rv.failed == 0, "failed names site 0 (got %u)", rv.failed);
	ok(file_is("/proc/cmdline", "ovup-traced\n"), "the refused REVERT left the patch working");
	system("echo 0 > /sys/kernel/tracing/events/kprobes/kioctl_kp/enable &&"
	       " echo > /sys/kernel/tracing/kprobe_events");
	is_err(revert(fd, "kioctl-ftrace", p.ranges, p.nranges, NULL), 0,
	       "REVERT once the kprobe is gone");
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline restored");
}

static int retired_get(int fd, uint32_t index, struct ovup_k_retired *r)
{
	memset(r, 0, sizeof(*r));
	r->index = index;
	return io(fd, OVUP_IOC_RETIRED, r);
}

/* `reader` sleeps inside the code of patch kioctl-slow, in block `slow`:
 * revert switches back and keeps the block, retired, until it left. */
static void t_retired(int fd, uint64_t slow, pid_t reader)
{
	struct ovup_k_alloc a = { .size = PAGE, .kind = OVUP_K_TEXT };
	struct ovup_k_free f = { .addr = slow };
	struct ovup_k_revert rv;
	struct ovup_k_retired r;
	int i, ret = 0;

	is_err(revert(fd, "kioctl-slow", NULL, 0, &rv), 0,
	       "REVERT of the patch whose code a task is in: the sites are restored");
	ok(rv.retired == 1, "... and its block is retired, not freed (retired %u)", rv.retired);
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline is the original again");
	is_err(retired_get(fd, 0, &r), 0, "RETIRED 0 lists it");
	ok(r.addr == slow && r.size == PAGE && !strcmp(r.name, "kioctl-slow") &&
		   r.busy.pid == reader && r.busy.addr >= slow && r.busy.addr < slow + PAGE,
	   "... at %#" PRIx64 " (%" PRIu64 " bytes) of '%s', task %d found at %#" PRIx64,
	   (uint64_t)r.addr, (uint64_t)r.size, r.name, r.busy.pid, (uint64_t)r.busy.addr);
	is_err(retired_get(fd, 1, &r), -ENOENT, "RETIRED 1: ENOENT");
	is_err(io(fd, OVUP_IOC_FREE, &f), -EINVAL, "FREE of a retired block is refused");
	is_err(io(fd, OVUP_IOC_ALLOC, &a), 0, "ALLOC while a block is retired");
	ok(a.addr != slow, "... never hands out the retired block (%#" PRIx64 ")",
	   (uint64_t)a.addr);
	f.addr = a.addr;
	io(fd, OVUP_IOC_FREE, &f);
	waitpid(reader, NULL, 0);
	ok(file_is("/tmp/slow.out", "ovup-slow\n"), "the sleeping reader finished normally "
						    "(it returned through the retired code)");
	for (i = 0; i < 60 && (ret = retired_get(fd, 0, &r)) == 0; i++)
		usleep(100000);
	is_err(ret, -ENOENT, "the module frees the retired block once no task is in it");
}

static void t_busy(int fd)
{
	uint64_t ns = ksym("do_nanosleep"), sri = ksym("seq_read_iter");
	struct ovup_k_range sleeping = { ns, ksym_end(ns) };
	uint64_t blk, slow;
	struct ovup_k_revert rv;
	struct patch p, s;
	pid_t pid, reader;
	uint8_t cur[5];

	/* a task asleep in do_nanosleep makes that range busy */
	pid = spawn("exec sleep 1000");
	wait_wchan(pid, "nanosleep");
	blk = load_code(fd, code_puts, "ovup-busy\n", 0);
	p = patch_one(fd, "kioctl-busy", f_cmdline, blk);
	p.ranges[p.nranges++] = sleeping;
	is_err(apply(fd, &p), -EBUSY, "PAWRITE while a task sleeps in a checked range");
	ok(p.pw.busy.pid == pid && !strcmp(p.pw.busy.comm, "sleep") &&
		   p.pw.busy.reason == OVUP_BUSY_FRAME && p.pw.busy.addr >= sleeping.start &&
		   p.pw.busy.addr < sleeping.end,
	   "busy names pid %d '%s' reason %u at %#llx in do_nanosleep", p.pw.busy.pid,
	   p.pw.busy.comm, p.pw.busy.reason, p.pw.busy.addr);
	kread(fd, f_cmdline + 5, cur, 5);
	ok(!memcmp(cur, p.sites[0].expect, 5) && file_is("/proc/cmdline", cmdline_orig),
	   "EBUSY left the function unchanged");
	ok(npatches(fd) == 0, "EBUSY created no record");
	reap(pid);
	is_err(apply(fd, &p), 0, "the same PAWRITE once the task is gone");
	pid = spawn("exec sleep 1000");
	wait_wchan(pid, "nanosleep");
	is_err(revert(fd, "kioctl-busy", &sleeping, 1, &rv), -EBUSY,
	       "REVERT while a task sleeps in a checked range");
	ok(rv.busy.pid == pid && rv.busy.reason == OVUP_BUSY_FRAME, "REVERT's busy names pid %d",
	   rv.busy.pid);
	ok(file_is("/proc/cmdline", "ovup-busy\n"), "the refused REVERT left the patch in place");
	reap(pid);
	is_err(revert(fd, "kioctl-busy", &sleeping, 1, NULL), 0, "REVERT once the task is gone");

	/* a task asleep inside replacement code (no ORC data there) */
	slow = load_code(fd, code_puts, "ovup-slow\n", 3000);
	s = patch_one(fd, "kioctl-slow", f_cmdline, slow);
	is_err(apply(fd, &s), 0, "PAWRITE a replacement that sleeps 3 s");
	reader = spawn("exec cat /proc/cmdline > /tmp/slow.out");
	wait_wchan(reader, "msleep");
	blk = load_code(fd, code_puts, "never\n", 0);
	p = patch_one(fd, "kioctl-other", f_version, blk);
	/* past replacement code (no ORC data) the rest of the stack is
	 * searched word by word: a caller's return address is found */
	p.ranges[p.nranges++] = (struct ovup_k_range){ sri, ksym_end(sri) };
	is_err(apply(fd, &p), -EBUSY,
	       "PAWRITE while a caller of replacement code returns into a "
	       "checked range (seq_read_iter)");
	ok(p.pw.busy.pid == reader && p.pw.busy.reason == OVUP_BUSY_FRAME &&
		   p.pw.busy.addr >= sri && p.pw.busy.addr < ksym_end(sri),
	   "busy: pid %d reason %u (a return address) at %#llx in seq_read_iter", p.pw.busy.pid,
	   p.pw.busy.reason, p.pw.busy.addr);
	p.nranges--;
	is_err(apply(fd, &p), 0,
	       "PAWRITE elsewhere while a task sleeps in replacement code "
	       "(nothing of its stack in the ranges)");
	ok(p.pw.stats.tasks > 0 && p.pw.stats.rechecked <= p.pw.stats.tasks &&
		   p.pw.stats.stop_ns > 0,
	   "stats: %u tasks, %u walked inside the stop, %" PRIu64 " ns", p.pw.stats.tasks,
	   p.pw.stats.rechecked, (uint64_t)p.pw.stats.stop_ns);
	is_err(revert(fd, "kioctl-other", p.ranges, p.nranges, NULL), 0, "REVERT it");
	t_retired(fd, slow, reader);
	blk = load_code(fd, code_puts, "never\n", 0);
	p = patch_one(fd, "kioctl-other", f_version, blk);
	is_err(apply(fd, &p), 0, "the other PAWRITE again");
	ok(strcmp(slurp("/proc/version"), "never\n") == 0, "/proc/version patched");
	is_err(revert(fd, "kioctl-other", p.ranges, p.nranges, NULL), 0, "REVERT it");
	ok(strncmp(slurp("/proc/version"), "Linux version", 13) == 0, "/proc/version restored");
}

static void t_release(void)
{
	uint64_t got[4];
	int fd = dev_open(), fd2, n = 0;
	struct patch p;
	uint64_t blk;
	char cmd[64];

	writer(fd);
	while (n < 4) {
		struct ovup_k_alloc a = { .size = OVUP_BLOCK_MAX, .kind = OVUP_K_TEXT };

		if (io(fd, OVUP_IOC_ALLOC, &a))
			break;
		got[n++] = a.addr;
	}
	ok(n == 2, "one fd takes the whole text area (%d MiB)", n);
	close(fd);
	fd = dev_open();
	writer(fd);
	n = 0;
	while (n < 4) {
		struct ovup_k_alloc a = { .size = OVUP_BLOCK_MAX, .kind = OVUP_K_TEXT };

		if (io(fd, OVUP_IOC_ALLOC, &a))
			break;
		got[n++] = a.addr;
	}
	ok(n == 2, "closing that fd freed its blocks: a new fd gets %d MiB again", n);
	for (int i = 0; i < n; i++)
		kfree_(fd, got[i]);

	/* a block handed to a record survives the fd that allocated it */
	blk = load_code(fd, code_puts, "ovup-survivor\n", 0);
	p = patch_one(fd, "kioctl-release", f_cmdline, blk);
	is_err(apply(fd, &p), 0, "PAWRITE through a short-lived fd");
	close(fd);
	ok(file_is("/proc/cmdline", "ovup-survivor\n"), "the patch outlives the fd");
	fd2 = dev_open();
	writer(fd2);
	is_err(kfree_(fd2, blk), -EBUSY, "its block is still owned by the record");
	is_err(revert(fd2, "kioctl-release", p.ranges, p.nranges, NULL), 0,
	       "REVERT through another fd");
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline restored");

	/* a process killed between alloc and pawrite leaks nothing either */
	snprintf(cmd, sizeof(cmd), "kioctl _alloc_and_die");
	kend(fd2); /* the child needs the slot; its death gives it back */
	system(cmd);
	writer(fd2);
	n = 0;
	while (n < 4) {
		struct ovup_k_alloc a = { .size = OVUP_BLOCK_MAX, .kind = OVUP_K_TEXT };

		if (io(fd2, OVUP_IOC_ALLOC, &a))
			break;
		got[n++] = a.addr;
	}
	ok(n == 2, "a killed process's blocks were freed (%d MiB free)", n);
	for (int i = 0; i < n; i++)
		kfree_(fd2, got[i]);
	close(fd2);
}

static void alloc_and_die(void)
{
	int fd = dev_open();

	writer(fd);
	kalloc(fd, OVUP_K_TEXT, OVUP_BLOCK_MAX);
	kalloc(fd, OVUP_K_DATA, OVUP_BLOCK_MAX);
	raise(SIGKILL);
}

/* a function of another module: patchable, and pinned while patched */
static void t_module(int fd)
{
	const char *ko = "/lib/ovup/ovup_target.ko";
	uint64_t f, blk;
	struct patch p;

	if (access(ko, F_OK)) {
		ok(false, "%s is packed (make -C tests/kernel)", ko);
		return;
	}
	if (!ok(system("insmod /lib/ovup/ovup_target.ko") == 0, "insmod ovup_target.ko"))
		return;
	ksyms_load();
	f = ksym("ovup_target_show");
	ok(file_is("/proc/ovup_target", "target-original\n"),
	   "/proc/ovup_target reads the original");
	blk = load_code(fd, code_puts, "target-patched\n", 0);
	p = patch_one(fd, "kioctl-module", f, blk);
	is_err(apply(fd, &p), 0, "PAWRITE on a module function");
	ok(file_is("/proc/ovup_target", "target-patched\n"), "/proc/ovup_target shows the patch");
	ok(system("rmmod ovup_target 2>/dev/null") != 0, "rmmod of the patched module is refused");
	is_err(revert(fd, "kioctl-module", p.ranges, p.nranges, NULL), 0,
	       "REVERT the module patch");
	ok(file_is("/proc/ovup_target", "target-original\n"), "/proc/ovup_target restored");

	/* a site whose 5 bytes straddle a page boundary */
	f = ksym("ovup_target_cross_show");
	ok((f + 5) / PAGE != (f + 9) / PAGE,
	   "ovup_target_cross_show+5 (%#" PRIx64 ") crosses a page boundary", f + 5);
	ok(file_is("/proc/ovup_target_cross", "cross-original\n"),
	   "/proc/ovup_target_cross reads the original");
	blk = load_code(fd, code_puts, "cross-patched\n", 0);
	p = patch_one(fd, "kioctl-cross", f, blk);
	is_err(apply(fd, &p), 0, "PAWRITE at a site crossing pages");
	ok(file_is("/proc/ovup_target_cross", "cross-patched\n"),
	   "/proc/ovup_target_cross shows the patch");
	is_err(revert(fd, "kioctl-cross", p.ranges, p.nranges, NULL), 0, "REVERT it");
	ok(file_is("/proc/ovup_target_cross", "cross-original\n"),
	   "/proc/ovup_target_cross restored");

	ok(system("rmmod ovup_target") == 0, "rmmod works once reverted");
	ksyms_load();
}

/* int f(...) { *(char *)addr = 0x42; return 0; } */
static struct code code_store(uint64_t base, uint64_t addr)
{
	struct code c = { .base = base };

	emit(&c, "\xc6\x05", 2);  /* movb $0x42, addr(%rip) */
	emit_rel32(&c, addr - 1); /* rip is after the imm8 */
	emit(&c, "\x42", 1);
	emit(&c, "\x31\xc0\xc3", 3); /* xor %eax,%eax; ret */
	return c;
}

/* read /proc/cmdline in a child; its wait status */
static int read_in_child(void)
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		char buf[64];
		int f = open("/proc/cmdline", O_RDONLY);

		_exit(f >= 0 && read(f, buf, sizeof(buf)) >= 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Real page protections, seen by kernel code: a store into a data block
 * works while it is RW and faults (an oops, which kills the reader) once it
 * is R.  Destructive: the oops stays in the log, so this group runs alone.
 */
static void t_prot(int fd)
{
	static char log[1 << 20];
	uint64_t d, t;
	struct code c;
	struct patch p;
	uint8_t b = 0;
	char want[96];
	int status, n;

	for (int ro = 0; ro <= 1; ro++) {
		d = kalloc(fd, OVUP_K_DATA, PAGE);
		t = kalloc(fd, OVUP_K_TEXT, PAGE);
		c = code_store(t, d + 8);
		kcopyin(fd, t, c.b, c.n);
		kchgprot(fd, t, PAGE, OVUP_PROT_RX);
		if (ro)
			is_err(kchgprot(fd, d, PAGE, OVUP_PROT_R), 0, "CHGPROT data block -> R");
		p = patch_one(fd, ro ? "kioctl-store-ro" : "kioctl-store-rw", f_cmdline, t);
		p.blocks[p.nblocks++] = d;
		is_err(apply(fd, &p), 0, "PAWRITE code that stores into the data block");
		status = read_in_child();
		kread(fd, d + 8, &b, 1);
		if (!ro) {
			ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && b == 0x42,
			   "RW data: the kernel's store lands (status %#x, byte %#x)", status, b);
		} else {
			ok(!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && b == 0,
			   "R data: the store faults and kills the reader (status %#x, byte %#x)",
			   status, b);
			n = klogctl(3, log, sizeof(log) - 1);
			log[n > 0 ? n : 0] = 0;
			snprintf(want, sizeof(want),
				 "unable to handle page fault for address: %016" PRIx64, d + 8);
			ok(strstr(log, want) && strstr(log, "permissions violation"),
			   "the kernel log shows a write-protection fault at %#" PRIx64, d + 8);
		}
		is_err(revert(fd, p.name, p.ranges, p.nranges, NULL), 0, "REVERT the store patch");
	}
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline restored");
}

static void t_dmesg(void)
{
	const char *bad = NULL;

	ok(dmesg_clean(&bad), "kernel log has no BUG/Oops/WARNING/Call Trace (%s)", bad ?: "clean");
}

/* A fresh module knows no idle tasks: PAWRITE and REVERT refuse until
 * IDLE names a per-CPU variable that reads like idle_threads. */
static void t_idle(void)
{
	uint64_t it = ksym("idle_threads"), blk;
	struct ovup_k_idle bad[] = { { 0 },
				     { 1ULL << 40 },
				     { ksym("init_task") },
				     { it + 8 },
				     { 0xffffffffffffff00ULL } };
	struct ovup_k_idle good = { it };
	struct ovup_k_revert rv = { .name = "kioctl-idle" };
	struct patch p;
	int fd;

	ok(system("rmmod ovup") == 0 && system("insmod /lib/ovup/ovup.ko") == 0, "a fresh ovup.ko");
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		bail("open %s", DEV);
	writer(fd);
	blk = load_code(fd, code_puts, "ovup-idle\n", 0);
	p = patch_one(fd, "kioctl-idle", f_cmdline, blk);
	is_err(apply(fd, &p), -ENOKEY, "PAWRITE before IDLE: ENOKEY");
	is_err(io(fd, OVUP_IOC_REVERT, &rv), -ENOKEY, "REVERT before IDLE: ENOKEY");
	ok(file_is("/proc/cmdline", cmdline_orig), "... nothing was switched");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[96];

		snprintf(what, sizeof(what), "IDLE %#" PRIx64 " (not idle_threads): EINVAL",
			 (uint64_t)bad[i].idle_threads);
		is_err(io(fd, OVUP_IOC_IDLE, &bad[i]), -EINVAL, what);
	}
	is_err(apply(fd, &p), -ENOKEY, "a refused IDLE leaves PAWRITE refused");
	is_err(io(fd, OVUP_IOC_IDLE, &good), 0, "IDLE with idle_threads from /proc/kallsyms");
	is_err(apply(fd, &p), 0, "then PAWRITE works");
	ok(p.pw.stats.tasks > 2, "... and the stop considered %u tasks (idle tasks included)",
	   p.pw.stats.tasks);
	ok(file_is("/proc/cmdline", "ovup-idle\n"), "... /proc/cmdline patched");
	is_err(revert(fd, "kioctl-idle", p.ranges, p.nranges, NULL), 0, "REVERT");
	close(fd);
}

static void t_rmmod(void)
{
	ok(system("rmmod ovup") == 0 && access(DEV, F_OK) != 0,
	   "rmmod ovup succeeds once nothing is applied and no fd is open");
	ok(system("insmod /lib/ovup/ovup.ko") == 0 && access(DEV, F_OK) == 0,
	   "insmod ovup.ko again");
}

/* ---- stress ---------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reader: every read must be the old or the new text, never anything else. */
static void reader_loop(const char *path, const char *a, const char *b, volatile int *stats)
{
	for (;;) {
		const char *s = slurp(path);

		if (!strcmp(s, a))
			stats[0]++;
		else if (!strcmp(s, b))
			stats[1]++;
		else
			stats[2]++;
	}
}

static void t_stress(int fd, int rounds)
{
	volatile int *stats = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				   -1, 0);
	double t0, apply_max = 0, revert_max = 0, apply_sum = 0, revert_sum = 0;
	int good = 0, seen_bad = 0, busy = 0;
	pid_t reader;

	if (stats == MAP_FAILED)
		bail("mmap");
	reader = fork();
	if (!reader) {
		reader_loop("/proc/cmdline", cmdline_orig, "ovup-stress\n", stats);
		_exit(0);
	}
	for (int i = 0; i < rounds; i++) {
		uint64_t blk = load_code(fd, code_puts, "ovup-stress\n", 0);
		struct patch p = patch_one(fd, "kioctl-stress", f_cmdline, blk);
		int ret, tries = 0;
		double t;

		for (;;) {
			t0 = now();
			ret = apply(fd, &p);
			t = now() - t0;
			if (ret != -EBUSY || ++tries == 50)
				break;
			busy++;
		}
		if (ret) {
			diag("round %d: apply -> %s", i, ename(ret));
			kfree_(fd, blk);
			continue;
		}
		apply_sum += t;
		apply_max = t > apply_max ? t : apply_max;
		if (strcmp(slurp("/proc/cmdline"), "ovup-stress\n"))
			seen_bad++;
		tries = 0;
		for (;;) {
			t0 = now();
			ret = revert(fd, "kioctl-stress", p.ranges, p.nranges, NULL);
			t = now() - t0;
			if (ret != -EBUSY || ++tries == 50)
				break;
			busy++;
		}
		if (ret) {
			diag("round %d: revert -> %s", i, ename(ret));
			break;
		}
		revert_sum += t;
		revert_max = t > revert_max ? t : revert_max;
		if (strcmp(slurp("/proc/cmdline"), cmdline_orig))
			seen_bad++;
		good++;
	}
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	ok(good == rounds, "%d of %d apply/revert rounds succeeded (%d EBUSY retries)", good,
	   rounds, busy);
	ok(seen_bad == 0, "after each apply/revert /proc/cmdline was the expected text");
	ok(stats[2] == 0 && stats[0] > 0 && stats[1] > 0,
	   "concurrent reader: %d old, %d new, %d torn reads", stats[0], stats[1], stats[2]);
	if (good)
		diag("apply avg %.2f ms max %.2f ms, revert avg %.2f ms max %.2f ms",
		     apply_sum / good * 1e3, apply_max * 1e3, revert_sum / good * 1e3,
		     revert_max * 1e3);
	ok(npatches(fd) == 0, "no record left over");
}

/* ---- fuzz ------------------------------------------------------------------- */

/*
 * Random, structure-aware arguments for every ioctl: addresses from pools
 * (0, user, kernel text and data, function entries and sites, our areas,
 * live blocks, wrap-arounds), sizes around every limit, bad user pointers.
 * PAWRITE always writes the bytes it expects, so even an accepted one
 * leaves the kernel's code as it was.  The module must answer every call
 * with a plain errno or success and never oops.
 */
static uint64_t fz_state;

static uint64_t fz(void)
{
	fz_state ^= fz_state << 13;
	fz_state ^= fz_state >> 7;
	fz_state ^= fz_state << 17;
	return fz_state;
}

#define FZ_POOL 64
static uint64_t fz_blocks[FZ_POOL];
static uint8_t fz_buf[2 * OVUP_BLOCK_MAX];

static uint64_t fz_addr(const struct ovup_k_version *v)
{
	const struct ksym *k = &ksyms[fz() % nksyms];

	switch (fz() % 12) {
	case 0:
		return 0;
	case 1:
		return fz() % 4096;
	case 2:
		return (uintptr_t)fz_buf + fz() % 64;
	case 3:
		return k->addr;
	case 4:
		return k->addr + 5;
	case 5:
		return k->addr + fz() % 64;
	case 6:
		return v->text_base + (fz() % (v->text_size + 2 * PAGE)) - PAGE;
	case 7:
		return v->data_base + (fz() % (v->data_size + 2 * PAGE)) - PAGE;
	case 8:
		return fz_blocks[fz() % FZ_POOL] + (fz() % 3 == 0 ? fz() % 8192 : 0);
	case 9:
		return ~0ULL - fz() % 64;
	case 10:
		return 0xffff800000000000ULL + fz() % 4096;
	default:
		return fz();
	}
}

static uint64_t fz_size(void)
{
	static const uint64_t sizes[] = { 0,
					  1,
					  5,
					  16,
					  17,
					  4095,
					  4096,
					  4097,
					  8192,
					  OVUP_BLOCK_MAX,
					  OVUP_BLOCK_MAX + 1,
					  ~0ULL,
					  1ULL << 32 };

	return fz() % 4 ? sizes[fz() % (sizeof(sizes) / sizeof(sizes[0]))] : fz() % 20000;
}

static uint64_t fz_uptr(void)
{
	switch (fz() % 5) {
	case 0:
		return 0;
	case 1:
		return 8;
	case 2:
		return ~0ULL - 7;
	case 3:
		return 0xffffffff81000000ULL; /* kernel memory as a user pointer */
	default:
		return (uintptr_t)fz_buf;
	}
}

static uint32_t fz_count(uint32_t max)
{
	switch (fz() % 6) {
	case 0:
		return 0;
	case 1:
		return max;
	case 2:
		return max + 1;
	case 3:
		return (uint32_t)fz();
	default:
		return 1 + fz() % 3;
	}
}

static void fz_site(int fd, struct ovup_k_site *s, const struct ovup_k_version *v)
{
	memset(s, 0, sizeof(*s));
	s->func = fz_addr(v);
	s->addr = fz() % 4 ? s->func + 5 : fz_addr(v);
	s->len = fz() % 8 ? 1 + fz() % 16 : (uint32_t)fz_size();
	s->pad = fz() % 16 == 0;
	if (fz() % 4 == 0 || kread(fd, s->addr, s->expect, s->len <= 16 ? s->len : 16))
		for (int i = 0; i < OVUP_SITE_BYTES; i++)
			s->expect[i] = fz();
	/* never change what is there: write == expect */
	memcpy(s->write, s->expect, sizeof(s->write));
}

/* entries of real functions that start with the ftrace NOP5 */
#define FZ_FUNCS 64
static uint64_t fz_funcs[FZ_FUNCS];

static void fz_find_funcs(int fd)
{
	int n = 0;

	for (int tries = 0; n < FZ_FUNCS && tries < 100000; tries++) {
		const struct ksym *k = &ksyms[fz() % nksyms];
		uint8_t b[5];

		if ((k->type == 't' || k->type == 'T') && !kread(fd, k->addr, b, 5) &&
		    !memcmp(b, nop5, 5))
			fz_funcs[n++] = k->addr;
	}
	for (; n < FZ_FUNCS; n++)
		fz_funcs[n] = f_cmdline;
}

/* A text block of `return 0`, or 0 when the fuzzer left no room. */
static uint64_t fz_valid_block(int fd)
{
	struct ovup_k_alloc a = { .size = PAGE, .kind = OVUP_K_TEXT };
	struct code c;

	if (io(fd, OVUP_IOC_ALLOC, &a))
		return 0;
	c = code_ret0(a.addr);
	if (kcopyin(fd, a.addr, c.b, c.n) || kchgprot(fd, a.addr, PAGE, OVUP_PROT_RX)) {
		kfree_(fd, a.addr);
		return 0;
	}
	return a.addr;
}

static void t_fuzz(int fd, long rounds)
{
	static const char *const names[] = { "fz-a", "fz-b", "fz-c", "", "bad name" };
	static struct ovup_k_site sites[OVUP_SITES_MAX + 1];
	static struct ovup_k_range ranges[OVUP_RANGES_MAX + 1];
	static uint64_t blocks[OVUP_BLOCKS_MAX + 1];
	struct ovup_k_version v;
	long counts[10] = { 0 }, accepted[10] = { 0 };
	int ret;

	fz_state = (uint64_t)time(NULL) * 2654435761u | 1;
	diag("fuzz seed %#" PRIx64 ", %ld calls", fz_state, rounds);
	io(fd, OVUP_IOC_VERSION, &v);
	fz_find_funcs(fd);
	for (long r = 0; r < rounds; r++) {
		unsigned int op = fz() % 10;

		switch (op) {
		case 0: {
			struct ovup_k_alloc a = { .size = fz_size(),
						  .kind = fz() % 4,
						  .pad = fz() % 8 == 0 };

			ret = io(fd, OVUP_IOC_ALLOC, &a);
			if (!ret)
				fz_blocks[fz() % FZ_POOL] = a.addr;
			break;
		}
		case 1: {
			struct ovup_k_free f = { .addr = fz_addr(&v) };

			ret = io(fd, OVUP_IOC_FREE, &f);
			break;
		}
		case 2: {
			struct ovup_k_copyin c = { .addr = fz_addr(&v),
						   .uaddr = fz_uptr(),
						   .len = fz_size() };

			ret = io(fd, OVUP_IOC_COPYIN, &c);
			break;
		}
		case 3: {
			struct ovup_k_chgprot c = { .addr = fz_addr(&v),
						    .len = fz_size(),
						    .prot = fz() % 5,
						    .pad = fz() % 8 == 0 };

			ret = io(fd, OVUP_IOC_CHGPROT, &c);
			break;
		}
		case 4: {
			struct ovup_k_read rd = { .addr = fz_addr(&v),
						  .uaddr = fz_uptr(),
						  .len = fz_size() };

			ret = io(fd, OVUP_IOC_READ, &rd);
			break;
		}
		case 5: {
			struct ovup_k_pawrite pw = { 0 };
			uint64_t valid = 0;
			uint32_t n;

			snprintf(pw.name, sizeof(pw.name), "%s", names[fz() % 5]);
			if (fz() % 16 == 0)
				memset(pw.name, 'x', sizeof(pw.name));
			pw.nsites = fz_count(OVUP_SITES_MAX);
			pw.nranges = fz_count(OVUP_RANGES_MAX);
			pw.nblocks = fz_count(OVUP_BLOCKS_MAX);
			pw.bloblen = fz() % 4 ? fz() % 100 : fz_count(OVUP_BLOB_MAX);
			n = pw.nsites <= OVUP_SITES_MAX ? pw.nsites : 0;
			for (uint32_t i = 0; i < n && i < 4; i++)
				fz_site(fd, &sites[i], &v);
			for (uint32_t i = 4; i < n; i++)
				sites[i] = sites[i % 4];
			for (uint32_t i = 0; i < 4; i++) {
				ranges[i].start = fz_addr(&v);
				ranges[i].end = fz() % 4 ? ranges[i].start + fz() % 4096
							 : fz_addr(&v);
				blocks[i] = fz_addr(&v);
			}
			pw.sites = fz() % 8 ? (uintptr_t)sites : fz_uptr();
			pw.ranges = fz() % 8 ? (uintptr_t)ranges : fz_uptr();
			pw.blocks = fz() % 8 ? (uintptr_t)blocks : fz_uptr();
			pw.blob = fz() % 8 ? (uintptr_t)fz_buf : fz_uptr();
			pw.ndeps = fz() % 16 == 0;
			if (fz() % 3 == 0 && (valid = fz_valid_block(fd))) {
				/* mostly valid: a real entry, its real bytes, a jmp
				 * to `return 0` in a block of ours (random functions
				 * only with the no-change write, which is refused) */
				snprintf(pw.name, sizeof(pw.name), "%s", names[fz() % 3]);
				sites[0].func = fz() % 4 ? (fz() % 2 ? f_cmdline : f_version)
							 : fz_funcs[fz() % FZ_FUNCS];
				sites[0].addr = sites[0].func + 5;
				sites[0].len = fz() % 4 ? 5 : 1 + fz() % 16;
				sites[0].pad = 0;
				kread(fd, sites[0].addr, sites[0].expect, sites[0].len);
				memcpy(sites[0].write, sites[0].expect, sizeof(sites[0].write));
				if (sites[0].func == f_cmdline || sites[0].func == f_version) {
					int32_t rel = (int32_t)(valid - (sites[0].addr + 5));

					sites[0].write[0] = 0xe9;
					memcpy(sites[0].write + 1, &rel, 4);
				}
				blocks[0] = valid;
				pw.sites = (uintptr_t)sites;
				pw.nsites = 1;
				pw.ranges = (uintptr_t)ranges;
				pw.nranges = fz() % 3;
				for (uint32_t i = 0; i < pw.nranges; i++) {
					ranges[i].start = fz_addr(&v);
					ranges[i].end = ranges[i].start + 1 + fz() % 4096;
				}
				pw.blocks = (uintptr_t)blocks;
				pw.nblocks = 1;
				pw.bloblen = fz() % 64;
				pw.blob = (uintptr_t)fz_buf;
				pw.ndeps = 0;
			}
			ret = io(fd, OVUP_IOC_PAWRITE, &pw);
			if (ret && valid)
				kfree_(fd, valid);
			break;
		}
		case 6: {
			struct ovup_k_revert rv = { .ranges = fz_uptr(),
						    .nranges = fz_count(OVUP_RANGES_MAX) };

			snprintf(rv.name, sizeof(rv.name), "%s", names[fz() % 5]);
			if (fz() % 2) {
				rv.ranges = (uintptr_t)ranges;
				rv.nranges = fz() % 4;
			}
			ret = io(fd, OVUP_IOC_REVERT, &rv);
			break;
		}
		case 7: {
			struct ovup_k_record rec = { .index = fz() % 4,
						     .nsites = fz_count(8),
						     .nblocks = fz_count(8),
						     .bloblen = fz_count(200),
						     .sites = fz_uptr(),
						     .blocks = fz_uptr(),
						     .blob = fz_uptr() };

			ret = io(fd, OVUP_IOC_RECORD, &rec);
			break;
		}
		case 8:
			if (fz() % 3 == 0) {
				/* near idle_threads, or anywhere: only the real one passes */
				struct ovup_k_idle id = {
					.idle_threads = fz() % 2 ? ksym("idle_threads") +
									   (fz() % 64) * 8
								 : fz_addr(&v)
				};

				ret = io(fd, OVUP_IOC_IDLE,
					 fz() % 8 ? (void *)&id : (void *)(uintptr_t)fz_uptr());
			} else if (fz() % 2) {
				struct ovup_k_retired rt = { .index = fz() % 4,
							     .pad = fz() % 8 == 0 };

				ret = io(fd, OVUP_IOC_RETIRED,
					 fz() % 8 ? (void *)&rt : (void *)(uintptr_t)fz_uptr());
			} else {
				ret = io(fd, OVUP_IOC_VERSION,
					 fz() % 4 ? (void *)&v : (void *)(uintptr_t)fz_uptr());
			}
			break;
		default:
			ret = io(fd, _IOC(fz() % 4, OVUP_IOC_MAGIC, fz() % 16, fz() % 300), fz_buf);
			break;
		}
		counts[op]++;
		accepted[op] += ret == 0;
		if (op == 9) /* a random command may have been END */
			kbegin(fd, 0, NULL);
	}
	diag("calls (accepted) per op: alloc %ld (%ld) free %ld (%ld) copyin %ld (%ld) chgprot %ld (%ld)"
	     " read %ld (%ld) pawrite %ld (%ld) revert %ld (%ld) record %ld (%ld)",
	     counts[0], accepted[0], counts[1], accepted[1], counts[2], accepted[2], counts[3],
	     accepted[3], counts[4], accepted[4], counts[5], accepted[5], counts[6], accepted[6],
	     counts[7], accepted[7]);
	ok(accepted[0] > 0 && accepted[2] > 0 && accepted[4] > 0 && accepted[5] > 0 &&
		   accepted[6] > 0 && accepted[7] > 0,
	   "the fuzzer reached the success paths too (alloc, copyin, read, pawrite, revert, record)");

	/* undo what was accepted: every record, then every block (close) */
	for (int tries = 0; npatches(fd) && tries < 100; tries++) {
		struct ovup_k_record rec = { .index = npatches(fd) - 1 };

		if (io(fd, OVUP_IOC_RECORD, &rec) || revert(fd, rec.name, NULL, 0, NULL))
			break;
	}
	ok(npatches(fd) == 0, "every accepted PAWRITE reverted");
	ok(file_is("/proc/cmdline", cmdline_orig) &&
		   !strncmp(slurp("/proc/version"), "Linux version", 13),
	   "the kernel still serves /proc/cmdline and /proc/version");
}

/* ---- the writer slot (K1) ---------------------------------------------------- */

static void on_alarm(int sig)
{
	(void)sig;
}

/* A child that takes the slot on its own fd, says so on `ready`, then
 * holds it for `ms` (0: until killed). */
static pid_t holder_child(int ready, unsigned int ms)
{
	pid_t pid = fork();

	if (pid < 0)
		bail("fork");
	if (!pid) {
		int fd = dev_open();

		if (kbegin(fd, 0, NULL))
			_exit(1);
		if (write(ready, "x", 1) != 1)
			_exit(2);
		if (ms)
			usleep(ms * 1000);
		else
			pause();
		_exit(0); /* the exit closes the fd: the slot is free again */
	}
	return pid;
}

static void t_gate(int fd)
{
	uint64_t blk = load_code(fd, gen_ret0, NULL, 0), x = 0;
	struct patch p = patch_one(fd, "kioctl-gate", f_cmdline, blk);
	struct ovup_k_record rec = { .index = 0 };
	struct ovup_k_begin b;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	int fd2 = dev_open(), pfd[2];
	uint8_t buf[8];
	double t0;
	pid_t pid;

	is_err(apply(fd, &p), 0, "PAWRITE by the holder");
	io(fd, OVUP_IOC_RECORD, &rec);
	ok(p.pw.seq > 0 && p.pw.seq == rec.seq,
	   "PAWRITE returns the module's seq %llu"
	   " (RECORD says %llu)",
	   p.pw.seq, rec.seq);
	is_err(kbegin(fd, 0, NULL), -EALREADY, "BEGIN on the fd that holds the slot");
	is_err(kbegin(fd2, OVUP_BEGIN_NOWAIT | 2, NULL), -EINVAL, "BEGIN with an unknown flag");
	is_err(kbegin(fd2, OVUP_BEGIN_NOWAIT, &b), -EBUSY, "BEGIN NOWAIT on a second fd");
	ok(b.holder == getpid(), "EBUSY names the holder: pid %d (we are %d)", b.holder, getpid());
	{
		struct ovup_k_alloc a = { .size = 1, .kind = OVUP_K_TEXT };

		is_err(io(fd2, OVUP_IOC_ALLOC, &a), -EBUSY, "ALLOC from an fd without the slot");
	}
	is_err(kcopyin(fd2, blk, "x", 1), -EBUSY, "COPYIN from an fd without the slot");
	is_err(revert(fd2, "kioctl-gate", NULL, 0, NULL), -EBUSY,
	       "REVERT from an fd without the slot");
	is_err(kend(fd2), -EBUSY, "END from an fd that does not hold the slot");
	is_err(kread(fd2, f_cmdline, buf, 8), 0, "READ needs no slot");
	is_err(io(fd2, OVUP_IOC_RECORD, &rec), 0, "RECORD needs no slot");

	is_err(kend(fd), 0, "END by the holder");
	{
		struct ovup_k_alloc a = { .size = 1, .kind = OVUP_K_TEXT };
		struct ovup_k_chgprot c = { .addr = blk, .len = PAGE, .prot = OVUP_PROT_R };
		struct ovup_k_free f = { .addr = blk };

		is_err(io(fd, OVUP_IOC_ALLOC, &a), -ENOLCK, "ALLOC with nobody holding the slot");
		is_err(io(fd, OVUP_IOC_CHGPROT, &c), -ENOLCK,
		       "CHGPROT with nobody holding the slot");
		is_err(io(fd, OVUP_IOC_FREE, &f), -ENOLCK, "FREE with nobody holding the slot");
		is_err(kcopyin(fd, blk, "x", 1), -ENOLCK, "COPYIN with nobody holding the slot");
		is_err(apply(fd, &p), -ENOLCK, "PAWRITE with nobody holding the slot");
		is_err(revert(fd, "kioctl-gate", NULL, 0, NULL), -ENOLCK,
		       "REVERT with nobody holding the slot");
	}
	is_err(kend(fd), -ENOLCK, "END with nobody holding the slot");
	is_err(kbegin(fd2, OVUP_BEGIN_NOWAIT, &b), 0, "BEGIN NOWAIT on a free slot");
	ok(b.seq == rec.seq, "BEGIN reports the newest seq %llu (want %llu)", b.seq, rec.seq);
	close(fd2);
	is_err(kbegin(fd, OVUP_BEGIN_NOWAIT, NULL), 0, "closing the holder's fd freed the slot");
	is_err(revert(fd, "kioctl-gate", p.ranges, p.nranges, NULL), 0, "REVERT by the new holder");
	kend(fd);

	/* another process holds it: NOWAIT names it, a blocking BEGIN waits */
	if (pipe(pfd))
		bail("pipe");
	pid = holder_child(pfd[1], 1000);
	ok(read(pfd[0], buf, 1) == 1, "a child took the slot");
	is_err(kbegin(fd, OVUP_BEGIN_NOWAIT, &b), -EBUSY, "BEGIN NOWAIT while a child holds it");
	ok(b.holder == pid, "EBUSY names the child, pid %d (got %d)", pid, b.holder);
	t0 = now();
	is_err(kbegin(fd, 0, NULL), 0, "a blocking BEGIN returns once the child exits");
	ok(now() - t0 > 0.3, "... after waiting for it (%.2f s)", now() - t0);
	waitpid(pid, NULL, 0);
	kend(fd);

	/* a signal ends the wait even under SA_RESTART: Ctrl-C works */
	pid = holder_child(pfd[1], 0);
	ok(read(pfd[0], buf, 1) == 1, "a child holds the slot until killed");
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	is_err(kbegin(fd, 0, NULL), -EINTR,
	       "a blocking BEGIN interrupted by a signal (SA_RESTART)");
	reap(pid);
	is_err(kbegin(fd, OVUP_BEGIN_NOWAIT, NULL), 0, "the killed holder's slot is free");
	close(pfd[0]);
	close(pfd[1]);
	(void)x;
}

/* ---- the ioctl interface is no stronger than ovup needs (K5) ----------------- */

/* PAWRITE of one site over func, refused with `want`, text unchanged */
static void k5_try(int fd, struct patch *p, int want, const char *what)
{
	uint8_t before[32], after[32];
	uint64_t func = p->sites[0].func ? p->sites[0].func : f_cmdline;

	kread(fd, func, before, sizeof(before));
	is_err(apply(fd, p), want, what);
	kread(fd, func, after, sizeof(after));
	ok(!memcmp(before, after, sizeof(after)), "... the text of %#" PRIx64 " is byte-identical",
	   func);
}

static void t_k5(int fd)
{
	uint64_t blk = load_code(fd, code_puts, "never shown\n", 0), blk2, other;
	uint64_t f_abort = ksym("abort");
	struct patch p = patch_one(fd, "kioctl-k5", f_cmdline, blk), q, a;
	uint64_t user = (uintptr_t)&p;
	int fd2;

	ok(npatches(fd) == 0, "no patch applied at the start");
	q = p;
	q.sites[0].len = 3;
	memcpy(q.sites[0].write, "\x31\xc0\xc3", 3);
	k5_try(fd, &q, -EINVAL, "`xor eax,eax; ret` (3 bytes) at func+5");
	q = p;
	memcpy(q.sites[0].write, "\x31\xc0\xc3\x90\x90", 5);
	k5_try(fd, &q, -EINVAL, "`xor eax,eax; ret; nop; nop` (5 bytes) at func+5");
	q = p;
	q.sites[0].len = 1;
	q.sites[0].write[0] = 0xcc;
	k5_try(fd, &q, -EINVAL, "a lone int3");
	q = p;
	q.sites[0].write[0] = 0xcc;
	k5_try(fd, &q, -EINVAL, "int3 in the first byte of a 5-byte write");
	q = p;
	q.sites[0].len = 12;
	kread(fd, q.sites[0].addr, q.sites[0].expect, 12);
	memcpy(q.sites[0].write, "\x48\xb8", 2); /* movabs rax, user */
	memcpy(q.sites[0].write + 2, &user, 8);
	memcpy(q.sites[0].write + 10, "\xff\xe0", 2); /* jmp rax */
	k5_try(fd, &q, -EINVAL, "`movabs rax, <user address>; jmp rax`");
	q = p;
	q.sites[0] = site_jump(fd, f_abort, blk);
	q.sites[0].len = 16;
	kread(fd, q.sites[0].addr, q.sites[0].expect, 16);
	memset(q.sites[0].write + 5, 0x90, 11);
	k5_try(fd, &q, -EINVAL, "16 bytes at abort+5, past the end of abort");
	q = p;
	q.sites[0].len = 6;
	kread(fd, q.sites[0].addr, q.sites[0].expect, 6);
	q.sites[0].write[5] = 0x90;
	k5_try(fd, &q, -EINVAL, "a jmp rel32 plus one byte (len 6)");
	q = p;
	q.sites[0] = site_jump(fd, f_cmdline, f_version);
	k5_try(fd, &q, -EINVAL, "a jmp to kernel text outside ovup's blocks");
	q = p;
	q.sites[0] = site_jump(fd, f_cmdline, user);
	k5_try(fd, &q, -EINVAL, "a jmp to a user address");
	/* a 7-byte function (tests/kernel/target/target_short.S) */
	if (ok(system("insmod /lib/ovup/ovup_target.ko") == 0, "insmod ovup_target.ko")) {
		uint64_t sh;

		ksyms_load();
		sh = ksym("ovup_target_short");
		q = p;
		q.sites[0] = site_jump(fd, sh, blk);
		k5_try(fd, &q, -EINVAL,
		       "a jmp at entry+5 of a 7-byte function (3 bytes past its end)");
		ok(system("rmmod ovup_target") == 0, "rmmod ovup_target");
	}

	/* expect: a jump into ovup's area that no record wrote */
	q = p;
	q.sites[0].expect[0] = 0xe9;
	{
		int32_t rel = (int32_t)(blk - (q.sites[0].addr + 5));

		memcpy(q.sites[0].expect + 1, &rel, 4);
	}
	k5_try(fd, &q, -EINVAL, "expect (the saved original) is a jmp into ovup's area");

	/* another record's block */
	other = load_code(fd, code_puts, "ovup-k5-a\n", 0);
	a = patch_one(fd, "kioctl-k5-a", f_version, other);
	is_err(apply(fd, &a), 0, "PAWRITE a first patch (version_proc_show)");
	q = p;
	q.sites[0] = site_jump(fd, f_cmdline, other);
	k5_try(fd, &q, -EINVAL, "a jmp into the block of another record");
	q.blocks[0] = other;
	k5_try(fd, &q, -EBUSY, "... listing that block as ours");
	/* stacking on ovup's own jump is allowed: expect = the record's write */
	blk2 = load_code(fd, gen_ret0, NULL, 0);
	q = patch_one(fd, "kioctl-k5-b", f_version, blk2);
	ok(!memcmp(q.sites[0].expect, a.sites[0].write, 5), "stacking expects the first jmp");
	is_err(apply(fd, &q), 0, "PAWRITE stacked on ovup's own jmp");
	is_err(revert(fd, "kioctl-k5-b", q.ranges, q.nranges, NULL), 0, "REVERT the stacked patch");
	is_err(revert(fd, "kioctl-k5-a", a.ranges, a.nranges, NULL), 0, "REVERT the first patch");

	/* an unowned block of another fd */
	kend(fd);
	fd2 = dev_open();
	writer(fd2);
	other = load_code(fd2, code_puts, "ovup-k5-fd2\n", 0);
	kend(fd2);
	writer(fd);
	q = p;
	q.sites[0] = site_jump(fd, f_cmdline, other);
	k5_try(fd, &q, -EINVAL, "a jmp into an unowned block of another fd");
	q.blocks[0] = other;
	k5_try(fd, &q, -EINVAL, "... listing that block as ours");
	is_err(kcopyin(fd, other, "x", 1), -EINVAL, "COPYIN into another fd's block");
	is_err(kfree_(fd, other), -EINVAL, "FREE of another fd's block");
	close(fd2);
	ok(npatches(fd) == 0, "no refused PAWRITE left a record");
	ok(file_is("/proc/cmdline", cmdline_orig), "/proc/cmdline unchanged");
	is_err(kfree_(fd, blk), 0, "our block is still ours to free");
}

/* ---- lockdown (K6): raises it, so it runs last, alone ------------------------ */

static bool lockdown_set(const char *level)
{
	int f;
	bool done;

	mkdir("/sys/kernel/security", 0755);
	mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	f = open("/sys/kernel/security/lockdown", O_WRONLY);
	done = f >= 0 && write(f, level, strlen(level)) == (ssize_t)strlen(level);
	if (f >= 0)
		close(f);
	return done && strstr(slurp("/sys/kernel/security/lockdown"), level);
}

static void t_lockdown(int fd)
{
	uint64_t blk = load_code(fd, code_puts, "ovup-before-lockdown\n", 0);
	uint64_t spare = kalloc(fd, OVUP_K_TEXT, PAGE), nblk;
	struct patch p = patch_one(fd, "kioctl-lock", f_cmdline, blk), q;
	struct ovup_k_alloc a = { .size = 1, .kind = OVUP_K_TEXT };
	struct ovup_k_version v;
	struct ovup_k_record rec = { .index = 0 };
	uint8_t before[32], after[32];

	is_err(apply(fd, &p), 0, "PAWRITE before lockdown");
	nblk = load_code(fd, gen_ret0, NULL, 0);
	q = patch_one(fd, "kioctl-lock2", f_version, nblk);
	ok(lockdown_set("integrity"), "lockdown raised to integrity");
	kread(fd, f_version, before, sizeof(before));
	is_err(io(fd, OVUP_IOC_ALLOC, &a), -EACCES, "integrity: ALLOC -> EACCES");
	is_err(kcopyin(fd, spare, "x", 1), -EACCES, "integrity: COPYIN -> EACCES");
	is_err(kchgprot(fd, spare, PAGE, OVUP_PROT_RX), -EACCES, "integrity: CHGPROT -> EACCES");
	is_err(apply(fd, &q), -EACCES, "integrity: PAWRITE (prepared before) -> EACCES");
	kread(fd, f_version, after, sizeof(after));
	ok(!memcmp(before, after, sizeof(after)), "integrity: the text is byte-identical");
	is_err(kread(fd, f_cmdline, before, 8), 0, "integrity: READ still works");
	is_err(io(fd, OVUP_IOC_VERSION, &v), 0, "integrity: VERSION still works");
	is_err(io(fd, OVUP_IOC_RECORD, &rec), 0, "integrity: RECORD still works");
	is_err(revert(fd, "kioctl-lock", p.ranges, p.nranges, NULL), 0,
	       "integrity: REVERT of a patch applied before lockdown");
	ok(file_is("/proc/cmdline", cmdline_orig), "integrity: /proc/cmdline restored");
	is_err(kfree_(fd, spare), 0, "integrity: FREE still works");
	is_err(kfree_(fd, nblk), 0, "integrity: FREE of the refused patch's block");
}

static void t_confidentiality(int fd)
{
	struct ovup_k_version v;
	uint8_t b[8];

	ok(lockdown_set("confidentiality"), "lockdown raised to confidentiality");
	is_err(kread(fd, f_cmdline, b, 8), -EACCES, "confidentiality: READ -> EACCES");
	{
		struct ovup_k_cpu c;

		is_err(io(fd, OVUP_IOC_CPU, &c), -EACCES,
		       "confidentiality: CPU (kernel addresses) -> EACCES");
	}
	is_err(io(fd, OVUP_IOC_VERSION, &v), 0, "confidentiality: VERSION still works");
}

/* A patch of version_proc_show with no blob: the tool sees no record of
 * it, only ovup's jump at the site (kept until `unstray`). */
static void t_stray(int fd, bool apply_it)
{
	uint64_t blk;
	struct patch p;

	if (!apply_it) {
		struct ovup_k_range r = { f_version, ksym_end(f_version) };

		is_err(revert(fd, "kioctl-stray", &r, 1, NULL), 0, "REVERT the blobless patch");
		return;
	}
	blk = load_code(fd, code_puts, "ovup-stray\n", 0);
	p = patch_one(fd, "kioctl-stray", f_version, blk);
	is_err(apply(fd, &p), 0, "PAWRITE a patch of version_proc_show with no blob");
}

/* ---- main -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kioctl [all | GROUP...]\n"
		"       kioctl stress [ROUNDS]\n"
		"       kioctl fuzz [CALLS]\n"
		"groups: version ioctl alloc read perm args patch tracing busy release gate k5\n"
		"        module idle dmesg rmmod; prot (oopses on purpose, not part of all);\n"
		"        lockdown, confidentiality (raise lockdown: last, not part of all);\n"
		"        stray, unstray (a blobless patch of version_proc_show, and its revert)\n");
}

int main(int argc, char **argv)
{
	static const char *const all[] = { "version", "ioctl",   "alloc", "read",    "perm", "args",
					   "patch",   "tracing", "busy",  "release", "gate", "k5",
					   "module",  "idle",    "dmesg", "rmmod",   NULL };
	const char *const *groups = all;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "_alloc_and_die")) {
		alloc_and_die();
		return 1;
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "all"))
		groups = (const char *const *)argv + 1;

	ksyms_load();
	f_cmdline = ksym("cmdline_proc_show");
	f_version = ksym("version_proc_show");
	snprintf(cmdline_orig, sizeof(cmdline_orig), "%s", slurp("/proc/cmdline"));
	fd = dev_open();
	writer(fd);

	if (!strcmp(groups[0], "fuzz")) {
		long rounds = groups[1] ? atol(groups[1]) : 20000;

		t_fuzz(fd, rounds > 0 ? rounds : 20000);
		close(fd);
		t_rmmod(); /* no block or reference leaked: the module unloads */
		fd = dev_open();
		writer(fd);
		t_dmesg();
		groups = NULL;
	} else if (!strcmp(groups[0], "stress")) {
		int rounds = groups[1] ? atoi(groups[1]) : 100;

		t_stress(fd, rounds > 0 ? rounds : 100);
		t_dmesg();
		groups = NULL;
	}
	for (; groups && *groups; groups++) {
		const char *g = *groups;

		diag("group %s", g);
		if (!strcmp(g, "version")) {
			t_version(fd);
			t_cpu(fd);
		} else if (!strcmp(g, "ioctl"))
			t_ioctl(fd);
		else if (!strcmp(g, "alloc"))
			t_alloc(fd);
		else if (!strcmp(g, "read"))
			t_read(fd);
		else if (!strcmp(g, "perm"))
			t_perm();
		else if (!strcmp(g, "args"))
			t_pawrite_args(fd);
		else if (!strcmp(g, "patch"))
			t_patch(fd);
		else if (!strcmp(g, "tracing"))
			t_tracing(fd);
		else if (!strcmp(g, "busy"))
			t_busy(fd);
		else if (!strcmp(g, "release")) {
			kend(fd);
			t_release();
			writer(fd);
		} else if (!strcmp(g, "gate")) {
			t_gate(fd);
		} else if (!strcmp(g, "k5")) {
			t_k5(fd);
		} else if (!strcmp(g, "lockdown")) {
			t_lockdown(fd);
		} else if (!strcmp(g, "confidentiality")) {
			t_confidentiality(fd);
		} else if (!strcmp(g, "stray") || !strcmp(g, "unstray")) {
			t_stray(fd, !strcmp(g, "stray"));
		} else if (!strcmp(g, "module"))
			t_module(fd);
		else if (!strcmp(g, "prot"))
			t_prot(fd);
		else if (!strcmp(g, "dmesg"))
			t_dmesg();
		else if (!strcmp(g, "idle")) {
			close(fd);
			t_idle();
			fd = dev_open();
			writer(fd);
		} else if (!strcmp(g, "rmmod")) {
			close(fd);
			t_rmmod();
			fd = dev_open();
			writer(fd);
		} else {
			usage(stderr);
			return 2;
		}
	}
	close(fd);
	return tap_done();
}
