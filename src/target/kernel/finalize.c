// SPDX-License-Identifier: MIT
/*
 * The last edits of a linked kernel patch: those Linux's module loader
 * makes to a module's code before it runs (module_finalize()), in its
 * order.  Each `call __fentry__` becomes the ftrace NOP; indirect calls
 * are refused where the ITS mitigation needs per-module thunks; each return
 * (.return_sites) goes where the kernel's own returns go on this CPU; each
 * CPU alternative (.altinstructions) is applied as the boot CPU selects;
 * each static branch (__jump_table) jumps to a stub that reads its key.
 * The bytes are not live yet: these are plain edits of the image before it
 * is copied in, and the module only tells what the loader decided
 * (OVUP_IOC_CPU).  docs/kernel.md says which sections ovup honours.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../../arch/arch.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALTINSTR_FLAG_INV 0x8000 /* replacement when the feature is absent */
#define ALT_ENTRY 12             /* struct alt_instr, packed */
#define JUMP_ENTRY 16            /* struct jump_entry: s32 code, target; long key */
#define STUBS ".ovup.key_stubs"  /* the image section of the stubs */

static struct ovup_img_sec *sec_named(struct ovup_img *img, const char *name)
{
	size_t i;

	for (i = 0; i < img->nsecs; i++)
		if (!strcmp(img->secs[i].name, name) && img->secs[i].data)
			return &img->secs[i];
	return NULL;
}

/* A table section of whole `size`-byte entries: 0 with *out NULL when it
 * is absent or empty, -EINVAL with the message set when it is not whole. */
static int table_sec(struct ovup_img *img, const char *name, unsigned size,
		     const struct ovup_img_sec **out)
{
	const struct ovup_img_sec *s = sec_named(img, name);

	*out = NULL;
	if (!s || !s->size)
		return 0;
	if (s->size % size)
		return ovup_err(-EINVAL,
				"kernel: %s is %" PRIu64 " bytes, not whole %u-byte entries; "
				"built for another kernel?",
				name, s->size, size);
	*out = s;
	return 0;
}

/* The image's bytes [addr, addr + n) inside one section, or NULL. */
static uint8_t *bytes_at(struct ovup_img *img, uint64_t addr, uint64_t n,
			 const struct ovup_img_sec **in)
{
	size_t i;

	for (i = 0; i < img->nsecs; i++) {
		const struct ovup_img_sec *s = &img->secs[i];

		if (s->data && addr >= s->addr && addr - s->addr <= s->size &&
		    n <= s->size - (addr - s->addr)) {
			if (in)
				*in = s;
			return s->data + (addr - s->addr);
		}
	}
	return NULL;
}

/* "func+0x1a" for a place in the patch's code, for the messages. */
static const char *where(const struct ovup_img *img, uint64_t addr)
{
	static char buf[160];
	const struct ovup_img_sym *best = NULL;
	size_t i;

	for (i = 0; i < img->nsyms; i++) {
		const struct ovup_img_sym *y = &img->syms[i];

		if (y->type == OVUP_SYM_FUNC && y->value <= addr && addr < y->value + y->size)
			best = y;
	}
	if (best)
		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, best->name, addr - best->value);
	else
		snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	return buf;
}

/* The address an s32 self-relative field points to (the loader's
 * `(void *)s + *s`). */
static uint64_t rel_target(const struct ovup_img_sec *s, uint64_t off)
{
	int32_t v;

	memcpy(&v, s->data + off, 4);
	return s->addr + off + (uint64_t)(int64_t)v;
}

static uint64_t label(const struct ovup_symtab *st, const char *name)
{
	return ovup_symtab_addr(st, name, -1, 0);
}

/* Every `call __fentry__` the compiler put at a function entry becomes the
 * NOP5 the loader would have made of it. */
static void fentry_nops(struct ovup_img *img, const struct ovup_symtab *st)
{
	const struct ovup_img_sec *mc = sec_named(img, "__mcount_loc");
	uint64_t fentry = label(st, "__fentry__"), k;

	for (k = 0; mc && k + 8 <= mc->size; k += 8) {
		uint64_t site, to;
		uint8_t *at;

		memcpy(&site, mc->data + k, 8);
		at = bytes_at(img, site, 5, NULL);
		if (at && ovup_arch_branch_decode(site, at, 5, &to) == OVUP_ARCH_CALL &&
		    (!fentry || to == fentry))
			ovup_arch_ftrace_nop(at);
	}
}

/* Where a return at addr goes on this CPU: the thunk, or 0 for `ret`.  The
 * loader's rule (cpu_wants_rethunk_at()): a kernel whose thunk is the ITS
 * one returns in place from an address with bit 5 set. */
static uint64_t return_to(const struct ovup_k_cpu *c, uint64_t addr)
{
	if (c->ret_how != OVUP_RET_THUNK)
		return 0;
	if (c->its_thunk && c->ret_thunk == c->its_thunk && (addr & 0x20))
		return 0;
	return c->ret_thunk;
}

static int returns(struct kern_target *k, struct ovup_img *img, const struct ovup_symtab *st)
{
	const struct ovup_img_sec *rs = sec_named(img, ".return_sites");
	const struct ovup_k_cpu *c;
	uint64_t was = label(st, "__x86_return_thunk"), off;
	int ret;

	if (!rs || !rs->size)
		return 0;
	ret = ovup_kern_cpu(k, &c);
	if (ret)
		return ret;
	if (!was || c->ret_how == OVUP_RET_UNKNOWN)
		return ovup_err(-ENOTSUP,
				"kernel: cannot tell how this kernel returns (%s); the patch's "
				"returns cannot be made the kernel's",
				!was ? "no __x86_return_thunk in /proc/kallsyms"
				     : "ovup.ko's return site is neither ret nor a jmp");
	for (off = 0; off + 4 <= rs->size; off += 4) {
		uint64_t site = rel_target(rs, off);
		uint8_t *at = bytes_at(img, site, 5, NULL);

		ret = at ? ovup_arch_return_site(at, 5, site, was, return_to(c, site)) : -EFAULT;
		if (ret)
			return ovup_err(ret,
					"kernel: .return_sites: the return at %s is not a jump to "
					"__x86_return_thunk in the patch's code",
					where(img, site));
	}
	return 0;
}

/*
 * Indirect calls (.retpoline_sites) stay calls of the kernel's
 * __x86_indirect_thunk_REG, which the kernel set up at boot for its
 * Spectre v2 mode; only the ITS mitigation without retpolines needs the
 * per-module thunks the loader makes (its_init_mod()), which ovup does not.
 */
static int indirect_calls(struct kern_target *k, struct ovup_img *img)
{
	const struct ovup_img_sec *rs = sec_named(img, ".retpoline_sites");
	const struct ovup_k_cpu *c;
	int ret;

	if (!rs || rs->size < 4)
		return 0;
	ret = ovup_kern_cpu(k, &c);
	if (ret || !(c->flags & OVUP_CPU_ITS_INDIRECT))
		return ret;
	return ovup_err(-ENOTSUP,
			"kernel: .retpoline_sites: the patch makes %" PRIu64 " indirect "
			"call(s), the first at %s, and this CPU's ITS mitigation needs "
			"them through thunks the module loader makes per module, which "
			"ovup does not; call the functions directly",
			rs->size / 4, where(img, rel_target(rs, 0)));
}

/* One entry of .altinstructions, as apply_alternatives() reads it. */
static int alternative(struct ovup_img *img, const struct ovup_img_sec *alt, uint64_t off,
		       const struct ovup_k_cpu *c)
{
	const struct ovup_img_sec *is, *rs;
	struct ovup_arch_alt a;
	uint16_t cpuid, feature;
	char why[256];
	int has, ret;

	memcpy(&cpuid, alt->data + off + 8, 2);
	feature = cpuid & ~ALTINSTR_FLAG_INV;
	a.instr_addr = rel_target(alt, off);
	a.repl_addr = rel_target(alt, off + 4);
	a.instrlen = alt->data[off + 10];
	a.repllen = alt->data[off + 11];
	a.instr = bytes_at(img, a.instr_addr, a.instrlen, &is);
	a.repl = bytes_at(img, a.repl_addr, a.repllen, &rs);
	if (!a.instr || !(is->flags & SHF_EXECINSTR))
		return ovup_err(-EINVAL,
				"kernel: .altinstructions entry %" PRIu64 " (feature %u*32+%u): "
				"its instructions at 0x%" PRIx64 " are not in the patch's code",
				off / ALT_ENTRY, feature >> 5, feature & 31, a.instr_addr);
	if (!a.repl || strcmp(rs->name, ".altinstr_replacement"))
		return ovup_err(-EINVAL,
				"kernel: .altinstructions entry at %s (feature %u*32+%u): its "
				"replacement is not in .altinstr_replacement",
				where(img, a.instr_addr), feature >> 5, feature & 31);
	if (feature >= c->nwords * 32u)
		return ovup_err(-ENOTSUP,
				"kernel: .altinstructions entry at %s: feature %u*32+%u is "
				"beyond the %u words the kernel's CPU data has",
				where(img, a.instr_addr), feature >> 5, feature & 31, c->nwords);
	has = !!(c->caps[feature / 32] & (1u << (feature % 32)));
	ret = ovup_arch_alternative(&a, has != !!(cpuid & ALTINSTR_FLAG_INV), why, sizeof(why));
	if (ret)
		return ovup_err(ret, "kernel: .altinstructions entry at %s (feature %u*32+%u): %s",
				where(img, a.instr_addr), feature >> 5, feature & 31, why);
	return 0;
}

/* In the table's order: where two entries patch the same instructions
 * (ALTERNATIVE_2), the later one wins, as in the loader. */
static int alternatives(struct kern_target *k, struct ovup_img *img)
{
	const struct ovup_img_sec *alt;
	const struct ovup_k_cpu *c;
	uint64_t off;
	int ret = table_sec(img, ".altinstructions", ALT_ENTRY, &alt);

	if (ret || !alt)
		return ret;
	ret = ovup_kern_cpu(k, &c);
	for (off = 0; !ret && off < alt->size; off += ALT_ENTRY)
		ret = alternative(img, alt, off, c);
	return ret;
}

uint64_t ovup_kern_text_extra(const struct ovup_obj *o)
{
	size_t i;

	for (i = 0; i < o->nsecs; i++)
		if (!strcmp(o->secs[i].name, "__jump_table"))
			return o->secs[i].size / JUMP_ENTRY * OVUP_ARCH_KEY_STUB + 16;
	return 0;
}

/* Where the patch's code ends in its block: the stubs go after it, in the
 * room ovup_kern_text_extra() reserved. */
static uint64_t code_end(const struct ovup_img *img)
{
	uint64_t end = 0;
	size_t i;

	for (i = 0; i < img->nsecs; i++) {
		const struct ovup_img_sec *s = &img->secs[i];

		if (!strcmp(s->name, ".text") || !strcmp(s->name, ".altinstr_aux"))
			end = OVUP_MAX(end, s->addr + s->size);
	}
	return OVUP_ALIGN_UP(end, 16);
}

/* One __jump_table entry: the site, a 5-byte jmp to the branch's target
 * as include/kernel/ovup_jump_label.h compiles it, becomes a jmp to stub
 * i, which tests the key each time. */
static int jump_label(struct ovup_img *img, const struct ovup_img_sec *jt, uint64_t off,
		      uint8_t *stub, uint64_t stub_addr)
{
	uint64_t code = rel_target(jt, off), target = rel_target(jt, off + 4), key, to;
	const struct ovup_img_sec *in;
	uint8_t *at = bytes_at(img, code, 5, &in);
	int64_t kv;
	int ret;

	memcpy(&kv, jt->data + off + 8, 8);
	key = (jt->addr + off + 8 + (uint64_t)kv) & ~3ull;
	if (!at || strcmp(in->name, ".text") ||
	    ovup_arch_branch_decode(code, at, 5, &to) != OVUP_ARCH_JMP || to != target ||
	    at[0] != 0xe9)
		return ovup_err(-ENOTSUP,
				"kernel: __jump_table: the static branch at %s is not a 5-byte "
				"jump in the patch's code (built without ovup's jump_label.h: "
				"rebuild with this ovup's `build -k`)",
				where(img, code));
	ret = ovup_arch_key_stub(stub, stub_addr, key, !(kv & 1), target, code + 5);
	if (ret < 0)
		return ovup_err(ret,
				"kernel: __jump_table: the key at 0x%" PRIx64 " of the static "
				"branch at %s is out of reach of the patch's code",
				key, where(img, code));
	return ovup_arch_jump(code, stub_addr, at) == 5 ? 0 : -ERANGE;
}

/* Static keys and tracepoints: the kernel patches a module's sites when
 * a key changes because the module registered its __jump_table; ovup
 * registers nothing, so no site is ever patched: each reads its key. */
static int jump_labels(struct ovup_img *img)
{
	const struct ovup_img_sec *jt;
	uint64_t base, off;
	uint8_t *stubs;
	int ret = table_sec(img, "__jump_table", JUMP_ENTRY, &jt);

	if (ret || !jt)
		return ret;
	base = code_end(img);
	stubs = ovup_elf_img_add(img, STUBS, base, jt->size / JUMP_ENTRY * OVUP_ARCH_KEY_STUB,
				 SHF_ALLOC | SHF_EXECINSTR);
	jt = sec_named(img, "__jump_table"); /* the table moved with the add */
	for (off = 0; !ret && off < jt->size; off += JUMP_ENTRY) {
		uint64_t i = off / JUMP_ENTRY;

		ret = jump_label(img, jt, off, stubs + i * OVUP_ARCH_KEY_STUB,
				 base + i * OVUP_ARCH_KEY_STUB);
	}
	return ret;
}

/* What ovup.ko adds to its tables for this patch: the linked
 * __bug_table and __ex_table, and each function of the code with its size (named at
 * pawrite, switch.c). */
static int module_tables(struct kern_target *k, const struct ovup_img *img)
{
	const struct ovup_img_sec *oip = sec_named((struct ovup_img *)img, ".orc_unwind_ip");
	const struct ovup_img_sec *orc = sec_named((struct ovup_img *)img, ".orc_unwind");
	const struct ovup_img_sec *bt = sec_named((struct ovup_img *)img, "__bug_table");
	const struct ovup_img_sec *ex = sec_named((struct ovup_img *)img, "__ex_table");
	const struct ovup_img_sec *text = sec_named((struct ovup_img *)img, ".text");
	size_t i;

	k->bugs = bt && bt->size ? bt->addr : 0;
	k->bugs_len = bt ? (uint32_t)bt->size : 0;
	k->extable = ex && ex->size ? ex->addr : 0;
	k->extable_len = ex ? (uint32_t)ex->size : 0;
	k->orc_ip = oip ? oip->addr : 0;
	k->orc = orc ? orc->addr : 0;
	k->norc = oip ? (uint32_t)(oip->size / 4) : 0;
	if (k->norc && (!orc || orc->size != (uint64_t)k->norc * 6))
		return ovup_err(-EINVAL,
				"kernel: .orc_unwind has %" PRIu64 " bytes for %u rows of "
				".orc_unwind_ip; built for another kernel?",
				orc ? orc->size : 0, k->norc);
	free(k->syms);
	k->syms = NULL;
	k->nsyms = 0;
	for (i = 0; text && i < img->nsyms; i++) {
		const struct ovup_img_sym *y = &img->syms[i];
		struct ovup_k_sym *s;

		if (y->type != OVUP_SYM_FUNC || !y->size || y->value < text->addr ||
		    y->value + y->size > text->addr + text->size || k->nsyms == OVUP_SYMS_MAX)
			continue;
		k->syms = ovup_xrealloc(k->syms, (k->nsyms + 1) * sizeof(*k->syms));
		s = &k->syms[k->nsyms++];
		memset(s, 0, sizeof(*s));
		s->addr = y->value;
		s->size = y->size;
		snprintf(s->name, sizeof(s->name), "%s", y->name);
	}
	return 0;
}

int ovup_kern_fixup(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st)
{
	struct kern_target *k = ovup_to_kern(t);
	int ret;

	ret = module_tables(k, img);
	if (ret)
		return ret;
	fentry_nops(img, st);
	ret = indirect_calls(k, img);
	if (!ret)
		ret = returns(k, img, st);
	if (!ret)
		ret = alternatives(k, img);
	return ret ? ret : jump_labels(img);
}
