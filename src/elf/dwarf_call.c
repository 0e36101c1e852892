// SPDX-License-Identifier: MIT
/*
 * How a replacement is called, from its prototype in the patch's DWARF and
 * the SysV x86-64 classification: whether it may receive arguments on the
 * stack (a wrapper around it would move them) and which registers carry
 * its return value.  With dwarf_inline.c, the only files that call libdw.
 */
#define _GNU_SOURCE
#include "elf.h"
#include "../util/util.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What the SysV x86-64 ABI needs of an argument list to pass it all in
 * registers: eightbytes of class INTEGER (6 registers) and SSE (8). */
struct argregs {
	unsigned gp, sse;
	char *why; /* set when something goes to memory */
	size_t whylen;
};

enum cls { CLS_NONE = 0, CLS_SSE, CLS_INT, CLS_MEM };

static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *mem)
{
	Dwarf_Attribute a;
	int depth;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, mem))
		return NULL;
	/* through typedefs and qualifiers, which change no class */
	for (depth = 0; depth < 32; depth++) {
		int tag = dwarf_tag(mem);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type &&
		    tag != DW_TAG_atomic_type)
			return mem;
		if (!dwarf_attr_integrate(mem, DW_AT_type, &a) || !dwarf_formref_die(&a, mem))
			return NULL;
	}
	return NULL;
}

static uint64_t size_of(Dwarf_Die *t)
{
	Dwarf_Word size;

	return dwarf_aggregate_size(t, &size) == 0 ? size : 0;
}

static enum cls merge(enum cls a, enum cls b)
{
	return a > b ? a : b; /* NONE < SSE < INTEGER < MEMORY, as the ABI merges */
}

static void classify_into(Dwarf_Die *t, uint64_t off, enum cls *eb, size_t neb, int depth);

/* Merges cls into the eightbytes that size bytes at off cover. */
static void mark(enum cls *eb, size_t neb, uint64_t off, uint64_t size, enum cls cls)
{
	uint64_t i;

	for (i = off / 8; i < (off + size + 7) / 8 && i < neb; i++)
		eb[i] = merge(eb[i], cls);
}

/* A structure, union or class: each member at its offset. */
static void classify_members(Dwarf_Die *t, uint64_t off, enum cls *eb, size_t neb, int depth)
{
	Dwarf_Die child, mem;

	if (dwarf_child(t, &child) != 0)
		return; /* empty */
	do {
		Dwarf_Attribute a;
		Dwarf_Word loc = 0;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		if (dwarf_attr(&child, DW_AT_data_member_location, &a) &&
		    dwarf_formudata(&a, &loc) != 0) {
			eb[0] = CLS_MEM;
			return;
		}
		if (dwarf_hasattr(&child, DW_AT_bit_size) ||
		    dwarf_hasattr(&child, DW_AT_data_bit_offset)) {
			/* a bit-field lives in an integer eightbyte */
			if ((off + loc) / 8 < neb)
				eb[(off + loc) / 8] = merge(eb[(off + loc) / 8], CLS_INT);
			continue;
		}
		classify_into(type_of(&child, &mem), off + loc, eb, neb, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* An array of size bytes: a vector type (__m128 and friends) is SSE, any
 * other array each of its elements. */
static void classify_array(Dwarf_Die *t, uint64_t size, uint64_t off, enum cls *eb, size_t neb,
			   int depth)
{
	Dwarf_Die elem;
	uint64_t esize, i;

	if (dwarf_hasattr(t, DW_AT_GNU_vector)) {
		if (size > 16 || off % size) {
			eb[0] = CLS_MEM;
			return;
		}
		mark(eb, neb, off, size, CLS_SSE);
		return;
	}
	if (!type_of(t, &elem) || !(esize = size_of(&elem))) {
		eb[0] = CLS_MEM;
		return;
	}
	for (i = 0; i < size / esize; i++)
		classify_into(&elem, off + i * esize, eb, neb, depth + 1);
}

/* A scalar of size bytes with the given tag. */
static void classify_scalar(Dwarf_Die *t, int tag, uint64_t size, uint64_t off, enum cls *eb,
			    size_t neb)
{
	/* unaligned (packed) fields go to memory */
	if (off % size) {
		eb[0] = CLS_MEM;
		return;
	}
	if (tag == DW_TAG_base_type) {
		Dwarf_Attribute a;
		Dwarf_Word enc = 0;

		dwarf_formudata(dwarf_attr(t, DW_AT_encoding, &a), &enc);
		if (enc == DW_ATE_float || enc == DW_ATE_complex_float ||
		    enc == DW_ATE_decimal_float) {
			const char *n = dwarf_diename(t);

			/* long double is x87 class: memory when passed */
			if ((n && strstr(n, "long double")) || size > 16) {
				eb[0] = CLS_MEM;
				return;
			}
			mark(eb, neb, off, size, CLS_SSE);
			return;
		}
	}
	if (tag == DW_TAG_base_type || tag == DW_TAG_pointer_type ||
	    tag == DW_TAG_enumeration_type || tag == DW_TAG_reference_type ||
	    tag == DW_TAG_rvalue_reference_type || tag == DW_TAG_ptr_to_member_type) {
		if (size > 16) { /* _BitInt wider than 128 bits */
			eb[0] = CLS_MEM;
			return;
		}
		mark(eb, neb, off, size, CLS_INT);
		return;
	}
	eb[0] = CLS_MEM;
}

/* The class of each eightbyte of an aggregate (ABI 3.2.3), at offset off
 * into it; anything this does not understand is MEMORY, which can only
 * make ovup refuse, never wrongly accept. */
static void classify_into(Dwarf_Die *t, uint64_t off, enum cls *eb, size_t neb, int depth)
{
	int tag = t ? dwarf_tag(t) : -1;
	uint64_t size = t ? size_of(t) : 0;

	if (!t || depth > 16 || !size)
		eb[0] = CLS_MEM;
	else if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
		 tag == DW_TAG_class_type)
		classify_members(t, off, eb, neb, depth);
	else if (tag == DW_TAG_array_type)
		classify_array(t, size, off, eb, neb, depth);
	else
		classify_scalar(t, tag, size, off, eb, neb);
}

/* The classes of a value's eightbytes; eb[0] == CLS_MEM if in memory. */
static void classify(Dwarf_Die *t, enum cls eb[2])
{
	uint64_t size = t ? size_of(t) : 0;

	eb[0] = eb[1] = CLS_NONE;
	if (size > 16)
		eb[0] = CLS_MEM;
	else
		classify_into(t, 0, eb, 2, 0);
	if (eb[1] == CLS_MEM)
		eb[0] = CLS_MEM;
}

/* Adds one argument to the count. */
static void count_arg(struct argregs *c, Dwarf_Die *t, const char *what)
{
	enum cls eb[2];
	unsigned i;

	classify(t, eb);
	if (eb[0] == CLS_MEM) {
		if (!c->why[0])
			snprintf(c->why, c->whylen, "its argument %s is passed in memory", what);
		return;
	}
	for (i = 0; i < 2; i++) {
		c->gp += eb[i] == CLS_INT;
		c->sse += eb[i] == CLS_SSE;
	}
}

static int find_def(Dwarf_Die *cu, const char *name, Dwarf_Die *out)
{
	Dwarf_Die child;

	if (dwarf_child(cu, &child) != 0)
		return 0;
	do {
		Dwarf_Attribute a;
		bool decl = false;
		const char *n;

		if (dwarf_tag(&child) != DW_TAG_subprogram)
			continue;
		n = dwarf_formstring(dwarf_attr_integrate(&child, DW_AT_name, &a));
		dwarf_formflag(dwarf_attr(&child, DW_AT_declaration, &a), &decl);
		if (n && !strcmp(n, name) && !decl) {
			*out = child;
			return 1;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/* Where fn's return value comes back (into out); a large aggregate comes
 * back in the caller's memory, whose address is a hidden first argument
 * (counted into c). */
static void place_return(Dwarf_Die *fn, struct ovup_dwarf_call *out, struct argregs *c)
{
	Dwarf_Die mem, *t;
	enum cls eb[2];
	const char *tn;

	if (!dwarf_hasattr_integrate(fn, DW_AT_type))
		return; /* void */
	t = type_of(fn, &mem);
	tn = t ? dwarf_diename(t) : NULL;
	classify(t, eb);
	if (t && dwarf_tag(t) == DW_TAG_base_type && tn && strstr(tn, "long double")) {
		/* x87 class: st(0) (and st(1)), which no wrapper touches */
	} else if (eb[0] == CLS_MEM && t && size_of(t) > 16 &&
		   !dwarf_hasattr(t, DW_AT_GNU_vector)) {
		out->ret_int = 1; /* in the caller's memory; rax has its address */
		c->gp++;          /* which the caller passed in rdi */
	} else if (eb[0] == CLS_MEM) {
		out->ret_unknown = 1;
		snprintf(out->why, sizeof(out->why),
			 "ovup cannot tell which registers "
			 "hold its return value");
	} else {
		for (unsigned i = 0; i < 2; i++) {
			out->ret_int += eb[i] == CLS_INT;
			out->ret_sse += eb[i] == CLS_SSE;
		}
	}
}

/* Counts fn's parameters into c; c->why says the first that goes to
 * memory, or that fn is variadic. */
static void count_params(Dwarf_Die *fn, struct argregs *c)
{
	Dwarf_Die child, mem;
	unsigned k = 0;

	if (dwarf_child(fn, &child) != 0)
		return;
	do {
		char what[160];
		const char *pn;

		if (dwarf_tag(&child) == DW_TAG_unspecified_parameters) {
			if (!c->why[0])
				snprintf(c->why, c->whylen, "it takes variable arguments (...)");
			continue;
		}
		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		k++;
		pn = dwarf_diename(&child);
		if (!pn) {
			Dwarf_Attribute a;

			pn = dwarf_formstring(dwarf_attr_integrate(&child, DW_AT_name, &a));
		}
		snprintf(what, sizeof(what), "%u%s%.120s%s", k, pn ? " ('" : "", pn ? pn : "",
			 pn ? "')" : "");
		count_arg(c, type_of(&child, &mem), what);
	} while (dwarf_siblingof(&child, &child) == 0);
}

int ovup_dwarf_call(const char *path, const char *name, struct ovup_dwarf_call *out)
{
	static const Dwfl_Callbacks cb = {
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	char args[256] = "";
	struct argregs c = { 0, 0, args, sizeof(args) };
	Dwfl *dwfl = dwfl_begin(&cb);
	Dwfl_Module *mod;
	Dwarf_Die *cu = NULL, fn;
	Dwarf_Addr bias;
	int found = 0;

	memset(out, 0, sizeof(*out));
	if (!dwfl)
		return -ENOENT;
	/* libdwfl applies a relocatable object's relocations to its DWARF
	 * (the names in .debug_str are reached through them) */
	mod = dwfl_report_offline(dwfl, "patch", path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	while (mod && !found && (cu = dwfl_module_nextcu(mod, cu, &bias)))
		found = find_def(cu, name, &fn);
	if (!found) {
		dwfl_end(dwfl);
		return -ENOENT;
	}
	place_return(&fn, out, &c);
	count_params(&fn, &c);
	if (!args[0] && c.gp > 6)
		snprintf(args, sizeof(args),
			 "it takes %u integer or pointer arguments (6 go in registers)", c.gp);
	else if (!args[0] && c.sse > 8)
		snprintf(args, sizeof(args),
			 "it takes %u floating-point or vector arguments (8 go in registers)",
			 c.sse);
	out->stack_args = !!args[0];
	if (!out->ret_unknown)
		snprintf(out->why, sizeof(out->why), "%s", args);
	dwfl_end(dwfl);
	return 0;
}
