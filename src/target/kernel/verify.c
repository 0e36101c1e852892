// SPDX-License-Identifier: MIT
/*
 * Before ovup plans a kernel site: the function must be one ftrace lists
 * (its entry is a real ftrace site), and the bytes its jump displaces
 * (after the ftrace NOP5, which stays) must be the function's own — no
 * kprobe, no breakpoint in flight, and equal to what its object file holds
 * once relocated as the kernel did.  The algorithm is in docs/kernel.md.
 */
#define _GNU_SOURCE
#include "kfiles.h"
#include "../target.h"
#include "../../arch/arch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define JUMP 5    /* ovup's jmp rel32 */
#define WINDOW 24 /* the displaced instructions fit: 5 + a 15-byte one */
#define MAXPROBES 8

/* Any listed kprobe meeting the bytes the jump replaces: one int3 there, or
 * an optimized probe's jump.  Only an instruction start can hold a probe,
 * and every one the jump displaces starts in its first 5 bytes. */
static int check_kprobes(const struct ovup_sym *s, uint64_t site, size_t keep)
{
	struct ovup_kprobe k[MAXPROBES];
	int n = ovup_kprobes_in(site, site + JUMP, k, MAXPROBES);

	if (n <= 0)
		return n;
	return ovup_err(-EEXIST,
			"kernel: function '%s': a kprobe at %s%s%s lies in the bytes "
			"ovup's jump would replace (%s+0x%zx..+0x%zx)%s; remove the probe "
			"(echo '-:NAME' >> kprobe_events, or unload its module) and apply "
			"again",
			s->name, k[0].where, k[0].flags[0] ? " " : "", k[0].flags, s->name, keep,
			keep + JUMP - 1, n > 1 ? ", and others" : "");
}

/* An int3 no listed probe accounts for, at the entry or at an instruction
 * start in the displaced bytes (as code decodes them: the file's, or the
 * live ones over ovup's own jump): text_poke_bp() of a probe, a static key
 * or ftrace is half way.  Transient: busy.  Not every 0xcc is one: the
 * kernel pads a rewritten return with int3s after the ret. */
static int check_int3(const struct ovup_sym *s, const uint8_t *live, size_t n, size_t keep,
		      const uint8_t *code, size_t cover)
{
	size_t pos = 0;

	if (n && live[0] == 0xcc)
		return ovup_err(-EBUSY,
				"kernel: function '%s': a breakpoint (int3) at its ftrace "
				"site: an ftrace or kprobe update is in flight; try again",
				s->name);
	while (code && pos < cover && keep + pos < n) {
		size_t c;

		if (live[keep + pos] == 0xcc && code[pos] != 0xcc)
			return ovup_err(-EBUSY,
					"kernel: function '%s': a breakpoint (int3) at "
					"%s+0x%zx that no registered kprobe accounts for: "
					"a probe or text update is in flight; try again",
					s->name, s->name, keep + pos);
		c = ovup_arch_insn_cover(code, cover, s->addr + keep, pos + 1);
		if (c <= pos)
			break;
		pos = c;
	}
	return 0;
}

/* The instructions the jump displaces, as the file has them: whole ones
 * within the n bytes read live, and none the kernel rewrites itself.  0,
 * or -ENOTSUP with the message set. */
static int check_displaced(struct ovup_kfile *f, const struct ovup_sym *s, size_t n, size_t keep,
			   size_t cover)
{
	const char *kind;

	if (!cover || keep + cover > n)
		return ovup_err(-ENOTSUP,
				"kernel: function '%s': %s has no whole instructions in "
				"the bytes ovup's jump would replace",
				s->name, ovup_kfile_path(f));
	kind = ovup_kfile_rewritten(f, s->addr + keep, cover);
	if (kind)
		return ovup_err(-ENOTSUP,
				"kernel: function '%s': the bytes ovup's jump would "
				"replace (%s+0x%zx..+0x%zx) hold %s, which the kernel "
				"rewrites itself; ovup cannot check them against %s and "
				"does not patch there",
				s->name, s->name, keep, keep + cover - 1, kind, ovup_kfile_path(f));
	return 0;
}

/* The displaced bytes against the object file. */
static int check_file(const struct ovup_symtab *st, const struct ovup_sym *s, const uint8_t *entry,
		      size_t n, size_t keep)
{
	struct ovup_kfile *f = NULL;
	uint64_t site = s->addr + keep;
	uint8_t want[WINDOW];
	size_t len = WINDOW, cover;
	char live[3 * WINDOW], file[3 * WINDOW];
	int ret;

	if (s->size && s->size < keep + JUMP)
		return 0; /* the planner says it is too short */
	if (s->size && s->size - keep < len)
		len = (size_t)(s->size - keep);
	ret = ovup_kfile_open(st, s, &f);
	if (!ret)
		ret = ovup_kfile_read(f, site, want, len, 0);
	if (ret)
		goto unverified;
	/* the instructions as the file has them (a probe may have changed
	 * the live ones), then their bytes as the loader relocated them */
	cover = ovup_arch_insn_cover(want, len, site, JUMP);
	ret = check_displaced(f, s, n, keep, cover);
	if (!ret)
		ret = check_int3(s, entry, n, keep, want, cover);
	if (ret)
		goto out;
	ret = ovup_kfile_read(f, site, want, cover, 1);
	if (ret)
		goto unverified;
	if (memcmp(want, entry + keep, cover)) {
		ovup_hex_spaced(live, entry + keep, cover);
		ovup_hex_spaced(file, want, cover);
		ret = ovup_err(-EEXIST,
			       "kernel: function '%s' at 0x%" PRIx64 ": the bytes ovup's "
			       "jump would replace are %s, but %s holds %s: another tool or "
			       "a debugger changed them (or the file is not the one loaded); "
			       "refusing to overwrite them",
			       s->name, s->addr, live, ovup_kfile_path(f), file);
	}
out:
	ovup_kfile_close(f);
	return ret;
unverified:
	ovup_err_prefix("kernel: function '%s': cannot verify the bytes ovup's jump would replace: ",
			s->name);
	goto out;
}

int ovup_kverify_entry(struct ovup_target *t, const struct ovup_symtab *st,
		       const struct ovup_sym *s, const uint8_t *entry, size_t n, int stacked)
{
	char why[256];
	size_t keep;
	int ret = ovup_kftrace_site(st, s, why, sizeof(why));

	(void)t;
	if (ret < 0)
		return ret;
	if (!ret)
		return ovup_err(-ENOTSUP,
				"kernel: '%s' in %s is not an ftrace site (notrace, or not "
				"a function entry): %s; ovup patches only functions ftrace "
				"can trace, after their ftrace site; replace its callers "
				"instead",
				s->name, st->objs[s->obj].name, why);
	ret = check_int3(s, entry, n, 0, NULL, 0);
	if (ret)
		return ret;
	keep = ovup_arch_ftrace_site(entry, n);
	if (!keep)
		return 0; /* the planner says why */
	ret = check_kprobes(s, s->addr + keep, keep);
	if (ret)
		return ret;
	/* over ovup's own jump the records vouch for the bytes below */
	if (stacked) {
		if (keep < n && entry[keep] == 0xcc)
			return ovup_err(-EBUSY,
					"kernel: function '%s': a breakpoint (int3) on "
					"ovup's jump at %s+0x%zx that no registered kprobe "
					"accounts for: a probe is being placed; try again",
					s->name, s->name, keep);
		return 0;
	}
	return check_file(st, s, entry, n, keep);
}
