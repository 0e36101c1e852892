// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What the kernel looks up for an address by the module that contains it,
 * for patch code as for any code of ovup.ko (patch code lies in ovup.ko's
 * own text area):
 *
 *  - the bug table (WARN/BUG: report_bug() -> module_find_bug() walks each
 *    module's bug_table[num_bugs], comparing addresses).  THIS_MODULE's
 *    pointer goes to one of two equal halves below (in ovup.ko's .bss,
 *    within reach of every block for the relative fields): ovup's own
 *    entries and every live patch's.  An apply builds the idle half
 *    outside the stop and publishes it inside the stop that switches the
 *    patch in; a freed block's entries are made never to match, in place.
 *    The tail of each half never matches either, so a reader racing a
 *    publish (only an NMI can, inside the stop) stays in bounds.
 *  - the exception table (a fault at a user access: fixup_exception() ->
 *    search_module_extables() bsearches the module's extable): the same
 *    two halves, sorted; a freed block's entries stay until the next
 *    apply drops them (nothing runs at their addresses until then);
 *  - the unwind data (ORC: orc_find() -> orc_module_find() bsearches the
 *    module's orc_unwind_ip): the same two halves, sorted, section
 *    terminators first among equals as the loader sorts them; the stack
 *    check then walks through patch code (ovup_orc_covers());
 *  - the symbols (kallsyms: %pS, /proc/kallsyms, /proc/PID/stack): a copy
 *    of the loader's table with one symbol per patch function, published
 *    by RCU (no stop needed), from before the switch until the blocks are
 *    freed.
 *
 * All with ovup_lock held; see docs/kernel.md for the picture.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/bitfield.h>
#include <linux/bug.h>
#include <linux/ctype.h>
#include <linux/elf.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stop_machine.h>
#include <asm/extable.h>
#include <asm/extable_fixup_types.h>
#include <asm/orc_types.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "ovup_internal.h"

#if !defined(CONFIG_GENERIC_BUG_RELATIVE_POINTERS) || !defined(CONFIG_DEBUG_BUGVERBOSE) || \
	!defined(CONFIG_KALLSYMS)
#error "ovup.ko expects relative bug entries with file and line, and kallsyms"
#endif

#define OVUP_BUGS_MAX 2048

static void ovup_ext_publish(void);
static void ovup_orc_publish(void);

static struct bug_entry ovup_bugs[2][OVUP_BUGS_MAX];
static int ovup_bugs_live = -1;		/* the half published, -1: the loader's table */
static int ovup_bugs_next = -1;		/* the half prepared for the next publish */
static unsigned int ovup_bugs_nnext;
static struct bug_entry *ovup_bugs_loader;	/* the loader's, put back at exit */
static unsigned int ovup_bugs_nloader;

static unsigned long ovup_bug_addr(const struct bug_entry *b)
{
	return (unsigned long)&b->bug_addr_disp + b->bug_addr_disp;
}

static unsigned long ovup_bug_file(const struct bug_entry *b)
{
	return (unsigned long)&b->file_disp + b->file_disp;
}

/* disp 0: the entry's own address, never a trapping instruction's */
static bool ovup_bug_dead(const struct bug_entry *b)
{
	return !READ_ONCE(b->bug_addr_disp);
}

static int ovup_rel(unsigned long to, const void *field, int *disp)
{
	long d = (long)(to - (unsigned long)field);

	if (d != (int)d)
		return -ERANGE;
	*disp = (int)d;
	return 0;
}

/* s moved to d: the relative fields still point where they did */
static int ovup_bug_copy(struct bug_entry *d, const struct bug_entry *s)
{
	unsigned long addr = ovup_bug_addr(s), file = ovup_bug_file(s);

	*d = *s;
	if (ovup_rel(addr, &d->bug_addr_disp, &d->bug_addr_disp) ||
	    ovup_rel(file, &d->file_disp, &d->file_disp))
		return -ERANGE;
	return 0;
}

static bool ovup_in_blocks(unsigned long addr, unsigned long len, struct ovup_block **blocks,
			   u32 nblocks, u32 kind, unsigned long *end)
{
	u32 i;

	for (i = 0; i < nblocks; i++) {
		const struct ovup_block *b = blocks[i];
		unsigned long size = b->npages << PAGE_SHIFT;

		if ((!kind || b->area->kind == kind) && addr >= b->addr &&
		    addr - b->addr < size && len <= size - (addr - b->addr)) {
			if (end)
				*end = b->addr + size;
			return true;
		}
	}
	return false;
}

/*
 * The patch's __bug_table at [addr, addr + len): each entry a ud2 in one
 * of the record's text blocks, its file a string in one of its blocks.
 * *failed: the entry that is not.
 */
static int ovup_bugs_check(unsigned long addr, u32 len, struct ovup_block **blocks,
			   u32 nblocks, u32 *failed)
{
	const struct bug_entry *e = (const struct bug_entry *)addr;
	u32 i, n = len / sizeof(*e);

	/* ld may place it at any byte (the section asks for no alignment) */
	if (len % sizeof(*e) || !ovup_in_blocks(addr, len, blocks, nblocks, 0, NULL))
		return -ENOEXEC;
	if (n > OVUP_BUGS_MAX / 2)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		unsigned long at = ovup_bug_addr(&e[i]), file = ovup_bug_file(&e[i]), end;

		*failed = i;
		if (!ovup_in_blocks(at, 2, blocks, nblocks, OVUP_K_TEXT, NULL) ||
		    *(const u16 *)at != 0x0b0f)
			return -ENOEXEC;
		if (!ovup_in_blocks(file, 1, blocks, nblocks, 0, &end) ||
		    strnlen((const char *)file, end - file) == end - file)
			return -ENOEXEC;
	}
	*failed = U32_MAX;
	return 0;
}

/* The idle half: the live entries (ovup's own and the live patches',
 * their _ONCE flags kept) without the dead ones, then the new patch's.
 */
static int ovup_bugs_prepare(unsigned long addr, u32 len)
{
	const struct bug_entry *cur = THIS_MODULE->bug_table, *add = (const void *)addr;
	unsigned int ncur = THIS_MODULE->num_bugs, nadd = len / sizeof(*add), i, n = 0;
	int half = ovup_bugs_live == 0;
	struct bug_entry *d = ovup_bugs[half];

	memset(d, 0, sizeof(ovup_bugs[half]));
	for (i = 0; i < ncur; i++) {
		if (ovup_bug_dead(&cur[i]))
			continue;
		if (n == OVUP_BUGS_MAX)
			return -ENOSPC;
		if (ovup_bug_copy(&d[n++], &cur[i]))
			return -ERANGE;
	}
	for (i = 0; i < nadd; i++) {
		if (n == OVUP_BUGS_MAX)
			return -ENOSPC;
		if (ovup_bug_copy(&d[n], &add[i]))
			return -ERANGE;
		d[n++].flags &= ~BUGFLAG_DONE;
	}
	ovup_bugs_next = half;
	ovup_bugs_nnext = n;
	return 0;
}

/* Inside the stop: the prepared half becomes the module's bug table. */
void ovup_tables_publish(void)
{
	ovup_orc_publish();
	ovup_ext_publish();
	if (ovup_bugs_next < 0)
		return;
	WRITE_ONCE(THIS_MODULE->bug_table, ovup_bugs[ovup_bugs_next]);
	WRITE_ONCE(THIS_MODULE->num_bugs, ovup_bugs_nnext);
	ovup_bugs_live = ovup_bugs_next;
	ovup_bugs_next = -1;
}

/* A block is being freed: its entries never match again. */
static void ovup_bugs_forget(const struct ovup_block *b)
{
	struct bug_entry *e = THIS_MODULE->bug_table;
	unsigned long size = b->npages << PAGE_SHIFT;
	unsigned int i;

	if (ovup_bugs_live < 0)
		return;
	for (i = 0; i < THIS_MODULE->num_bugs; i++) {
		unsigned long at = ovup_bug_addr(&e[i]), file = ovup_bug_file(&e[i]);

		if (!ovup_bug_dead(&e[i]) &&
		    ((at >= b->addr && at - b->addr < size) ||
		     (file >= b->addr && file - b->addr < size)))
			WRITE_ONCE(e[i].bug_addr_disp, 0);
	}
}

/* ---- exception table ---------------------------------------------------------- */

#define OVUP_EXT_MAX 2048

static struct exception_table_entry ovup_ext[2][OVUP_EXT_MAX];
static int ovup_ext_live = -1;
static int ovup_ext_next = -1;
static unsigned int ovup_ext_nnext;
static struct exception_table_entry *ovup_ext_loader;
static unsigned int ovup_ext_nloader;

/* An entry with absolute addresses, while the next table is sorted. */
struct ovup_ext_abs {
	unsigned long insn, fixup;
	int data;
};

static unsigned long ovup_ext_insn(const struct exception_table_entry *e)
{
	return (unsigned long)&e->insn + e->insn;
}

static unsigned long ovup_ext_fixup(const struct exception_table_entry *e)
{
	return (unsigned long)&e->fixup + e->fixup;
}

static int ovup_ext_cmp(const void *a, const void *b)
{
	const struct ovup_ext_abs *x = a, *y = b;

	return x->insn < y->insn ? -1 : x->insn > y->insn;
}

/* Code an old entry may stand for: ovup's own, or a block a record owns
 * or retired code (a task may still fault there).  Not a block of the
 * apply in progress: its pages may be a freed block's.
 */
static const struct ovup_record *ovup_drop_rec;	/* blocks about to be freed */
static const struct ovup_block *ovup_drop_block;
static bool ovup_tables_exiting;

static bool ovup_ext_keep(unsigned long insn)
{
	struct ovup_block *b;

	if (insn < ovup_text.base || insn >= ovup_text.base + (ovup_text.npages << PAGE_SHIFT))
		return true;
	list_for_each_entry(b, &ovup_blocks, node)
		if ((b->record || b->retired) && b != ovup_drop_block &&
		    (!ovup_drop_rec || b->record != ovup_drop_rec) && insn >= b->addr &&
		    insn - b->addr < (b->npages << PAGE_SHIFT))
			return true;
	return false;
}

/* The patch's __ex_table: each insn and fixup in the record's text, a
 * type the kernel knows and that is not BPF's.
 */
static int ovup_ext_check(unsigned long addr, u32 len, struct ovup_block **blocks, u32 nblocks,
			  u32 *failed)
{
	const struct exception_table_entry *e = (const void *)addr;
	u32 i, n = len / sizeof(*e);

	if (len % sizeof(*e) || !ovup_in_blocks(addr, len, blocks, nblocks, 0, NULL))
		return -ENOEXEC;
	if (n > OVUP_EXT_MAX / 2)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		int type = FIELD_GET(EX_DATA_TYPE_MASK, e[i].data);

		*failed = i | OVUP_FAILED_EXTABLE;
		if (!ovup_in_blocks(ovup_ext_insn(&e[i]), 1, blocks, nblocks, OVUP_K_TEXT, NULL) ||
		    !ovup_in_blocks(ovup_ext_fixup(&e[i]), 1, blocks, nblocks, OVUP_K_TEXT, NULL) ||
		    type > EX_TYPE_ZEROPAD || type == EX_TYPE_BPF)
			return -ENOEXEC;
	}
	*failed = U32_MAX;
	return 0;
}

/* The idle half: the live entries still standing for code, and the
 * patch's, sorted by instruction as bsearch needs.
 */
static int ovup_ext_prepare(unsigned long addr, u32 len)
{
	const struct exception_table_entry *cur = THIS_MODULE->extable, *add = (const void *)addr;
	unsigned int ncur = THIS_MODULE->num_exentries, nadd = len / sizeof(*add), i, n = 0;
	int half = ovup_ext_live == 0, ret = 0;
	struct exception_table_entry *d = ovup_ext[half];
	struct ovup_ext_abs *t;

	t = kvmalloc_array(ncur + nadd ?: 1, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	for (i = 0; i < ncur; i++)
		if (ovup_ext_keep(ovup_ext_insn(&cur[i])))
			t[n++] = (struct ovup_ext_abs){ ovup_ext_insn(&cur[i]),
							ovup_ext_fixup(&cur[i]), cur[i].data };
	for (i = 0; i < nadd; i++)
		t[n++] = (struct ovup_ext_abs){ ovup_ext_insn(&add[i]), ovup_ext_fixup(&add[i]),
						add[i].data };
	if (n > OVUP_EXT_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	sort(t, n, sizeof(*t), ovup_ext_cmp, NULL);
	memset(d, 0, sizeof(ovup_ext[half]));
	for (i = 0; i < n && !ret; i++) {
		d[i].data = t[i].data;
		ret = ovup_rel(t[i].insn, &d[i].insn, &d[i].insn);
		if (!ret)
			ret = ovup_rel(t[i].fixup, &d[i].fixup, &d[i].fixup);
	}
	if (!ret) {
		ovup_ext_next = half;
		ovup_ext_nnext = n;
	}
out:
	kvfree(t);
	return ret;
}

static void ovup_ext_publish(void)
{
	if (ovup_ext_next < 0)
		return;
	WRITE_ONCE(THIS_MODULE->extable, ovup_ext[ovup_ext_next]);
	WRITE_ONCE(THIS_MODULE->num_exentries, ovup_ext_nnext);
	ovup_ext_live = ovup_ext_next;
	ovup_ext_next = -1;
}

/* ---- ORC ------------------------------------------------------------------------ */

#define OVUP_ORC_MAX 8192

static int ovup_orc_ip[2][OVUP_ORC_MAX];
static struct orc_entry ovup_orc[2][OVUP_ORC_MAX];
static int ovup_orc_live = -1;
static int ovup_orc_next = -1;
static unsigned int ovup_orc_nnext;
static int *ovup_orc_loader_ip;
static struct orc_entry *ovup_orc_loader;
static unsigned int ovup_orc_nloader;

struct ovup_orc_abs {
	unsigned long ip;
	struct orc_entry e;
};

static unsigned long ovup_orc_at(const int *p)
{
	return (unsigned long)p + *p;
}

/* by ip; a section terminator ("weak": sp undefined, not an end) first */
static int ovup_orc_cmp(const void *a, const void *b)
{
	const struct ovup_orc_abs *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->e.sp_reg == ORC_REG_UNDEFINED && !x->e.end) ? -1 : 1;
}

bool ovup_orc_covers(unsigned long addr)
{
	struct ovup_block *b;

	list_for_each_entry(b, &ovup_blocks, node)
		if (b->orc_end && addr >= b->addr && addr < b->orc_end)
			return true;
	return false;
}

/* The patch's rows: each ip in one of the record's text blocks (its end
 * included: objtool's terminator sits at the end of .text).
 */
static int ovup_orc_check(const struct ovup_k_pawrite *pw, struct ovup_block **blocks,
			  u32 nblocks, u32 *failed)
{
	const int *ip = (const int *)pw->orc_ip;
	u32 i;

	if (pw->norc > OVUP_ORC_MAX / 2)
		return -E2BIG;
	if (!ovup_in_blocks(pw->orc_ip, pw->norc * sizeof(int), blocks, nblocks, 0, NULL) ||
	    !ovup_in_blocks(pw->orc, pw->norc * sizeof(struct orc_entry), blocks, nblocks, 0,
			    NULL))
		return -ENOEXEC;
	for (i = 0; i < pw->norc; i++) {
		unsigned long at = ovup_orc_at(&ip[i]);

		*failed = i | OVUP_FAILED_ORC;
		if (!ovup_in_blocks(at, 1, blocks, nblocks, OVUP_K_TEXT, NULL) &&
		    !ovup_in_blocks(at - 1, 1, blocks, nblocks, OVUP_K_TEXT, NULL))
			return -ENOEXEC;
	}
	*failed = U32_MAX;
	return 0;
}

static int ovup_orc_prepare(const int *aip, const struct orc_entry *ae, u32 nadd)
{
	const int *cip = THIS_MODULE->arch.orc_unwind_ip;
	const struct orc_entry *ce = THIS_MODULE->arch.orc_unwind;
	unsigned int ncur = THIS_MODULE->arch.num_orcs, i, n = 0;
	int half = ovup_orc_live == 0, ret = 0;
	struct ovup_orc_abs *t;

	t = kvmalloc_array(ncur + nadd ?: 1, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	for (i = 0; i < ncur; i++)
		if (ovup_ext_keep(ovup_orc_at(&cip[i])))
			t[n++] = (struct ovup_orc_abs){ ovup_orc_at(&cip[i]), ce[i] };
	for (i = 0; i < nadd; i++)
		t[n++] = (struct ovup_orc_abs){ ovup_orc_at(&aip[i]), ae[i] };
	if (n > OVUP_ORC_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	sort(t, n, sizeof(*t), ovup_orc_cmp, NULL);
	memset(ovup_orc_ip[half], 0, sizeof(ovup_orc_ip[half]));
	memset(ovup_orc[half], 0, sizeof(ovup_orc[half]));
	for (i = 0; i < n && !ret; i++) {
		ovup_orc[half][i] = t[i].e;
		ret = ovup_rel(t[i].ip, &ovup_orc_ip[half][i], &ovup_orc_ip[half][i]);
	}
	if (!ret) {
		ovup_orc_next = half;
		ovup_orc_nnext = n;
	}
out:
	kvfree(t);
	return ret;
}

static void ovup_orc_publish(void)
{
	if (ovup_orc_next < 0)
		return;
	/* a torn read (only an NMI's, in the stop) stays in the halves */
	WRITE_ONCE(THIS_MODULE->arch.orc_unwind_ip, ovup_orc_ip[ovup_orc_next]);
	WRITE_ONCE(THIS_MODULE->arch.orc_unwind, ovup_orc[ovup_orc_next]);
	WRITE_ONCE(THIS_MODULE->arch.num_orcs, ovup_orc_nnext);
	ovup_orc_live = ovup_orc_next;
	ovup_orc_next = -1;
}

/* The record's text blocks: where the rows say the code ends. */
static void ovup_orc_mark(const struct ovup_k_pawrite *pw, struct ovup_block **blocks,
			  u32 nblocks)
{
	const int *ip = (const int *)pw->orc_ip;
	u32 i, k;

	for (k = 0; k < nblocks; k++)
		blocks[k]->orc_end = 0;
	for (i = 0; i < pw->norc; i++) {
		unsigned long at = ovup_orc_at(&ip[i]);

		for (k = 0; k < nblocks; k++) {
			struct ovup_block *b = blocks[k];

			if (b->area->kind == OVUP_K_TEXT && at > b->addr &&
			    at <= b->addr + (b->npages << PAGE_SHIFT) && at > b->orc_end)
				b->orc_end = at;
		}
	}
}

/* ---- dropping the rows of freed code -------------------------------------------- */

/* Does the live exception or ORC table hold rows for [lo, hi)? */
static bool ovup_rows_in(unsigned long lo, unsigned long hi)
{
	const struct exception_table_entry *e = THIS_MODULE->extable;
	const int *ip = THIS_MODULE->arch.orc_unwind_ip;
	unsigned int i;

	for (i = 0; ovup_ext_live >= 0 && i < THIS_MODULE->num_exentries; i++)
		if (ovup_ext_insn(&e[i]) >= lo && ovup_ext_insn(&e[i]) < hi)
			return true;
	for (i = 0; ovup_orc_live >= 0 && i < THIS_MODULE->arch.num_orcs; i++)
		if (ovup_orc_at(&ip[i]) >= lo && ovup_orc_at(&ip[i]) <= hi)
			return true;
	return false;
}

/* The next exception and ORC tables without the rows of rec's blocks (or
 * of block b): published by the revert's stop when it frees them at once.
 */
static int ovup_tables_prepare_drop(const struct ovup_record *rec, const struct ovup_block *b)
{
	int ret;

	ovup_drop_rec = rec;
	ovup_drop_block = b;
	ovup_ext_next = -1;
	ovup_orc_next = -1;
	ovup_bugs_next = -1;
	ret = ovup_ext_live >= 0 ? ovup_ext_prepare(0, 0) : 0;
	if (!ret && ovup_orc_live >= 0)
		ret = ovup_orc_prepare(NULL, NULL, 0);
	ovup_drop_rec = NULL;
	ovup_drop_block = NULL;
	if (ret)
		ovup_tables_cancel();
	return ret;
}

int ovup_tables_prepare_revert(const struct ovup_record *rec)
{
	return ovup_tables_prepare_drop(rec, NULL);
}

/* stop_machine() with no cpumask: runs on one CPU, the others wait */
static int ovup_tables_drop_stop(void *unused)
{
	ovup_orc_publish();
	ovup_ext_publish();
	return 0;
}

/* Retired code freed after its revert: its rows go in a stop of their own. */
static void ovup_rows_drop(const struct ovup_block *b)
{
	unsigned long hi = b->addr + (b->npages << PAGE_SHIFT);

	if (ovup_tables_exiting || b->area->kind != OVUP_K_TEXT || !ovup_rows_in(b->addr, hi))
		return;
	if (ovup_tables_prepare_drop(NULL, b)) {
		pr_warn("no memory to drop freed code's rows from ovup.ko's tables\n");
		return;
	}
	stop_machine(ovup_tables_drop_stop, NULL, NULL);
}

/* ---- kallsyms -------------------------------------------------------------- */

static bool ovup_sym_name_ok(const char *name)
{
	size_t i, n = strnlen(name, OVUP_SYM_NAME_MAX);

	if (!n || n == OVUP_SYM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum(name[i]) && name[i] != '_' && name[i] != '.')
			return false;
	return true;
}

/* The names, copied in and checked: each in a text block of the record. */
static int ovup_syms_in(struct ovup_k_pawrite *pw, struct ovup_block **blocks,
			u32 nblocks, struct ovup_k_sym **out)
{
	struct ovup_k_sym *s;
	u32 i;

	*out = NULL;
	if (!pw->nsyms)
		return 0;
	if (pw->nsyms > OVUP_SYMS_MAX)
		return -E2BIG;
	s = kvmalloc_array(pw->nsyms, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (copy_from_user(s, u64_to_user_ptr(pw->syms), pw->nsyms * sizeof(*s))) {
		kvfree(s);
		return -EFAULT;
	}
	for (i = 0; i < pw->nsyms; i++)
		if (!ovup_sym_name_ok(s[i].name) || !s[i].size ||
		    !ovup_in_blocks(s[i].addr, s[i].size, blocks, nblocks, OVUP_K_TEXT, NULL)) {
			kvfree(s);
			pw->failed = U32_MAX;
			return -ENOEXEC;
		}
	*out = s;
	return 0;
}

/* copies a name with its NUL; returns where the next one goes */
static char *ovup_put_name(char *p, const char *name)
{
	size_t n = strlen(name) + 1;

	memcpy(p, name, n);
	return p + n;
}

static struct mod_kallsyms *ovup_syms_build(void)
{
	const struct mod_kallsyms *base = &THIS_MODULE->core_kallsyms;
	struct mod_kallsyms *k;
	struct ovup_block *b;
	unsigned int n = base->num_symtab, i, j;
	size_t slen = 1;
	char *p;

	for (i = 0; i < base->num_symtab; i++)
		slen += strlen(base->strtab + base->symtab[i].st_name) + 1;
	list_for_each_entry(b, &ovup_blocks, node)
		for (i = 0; i < b->nsyms; i++, n++)
			slen += strlen(b->syms[i].name) + 1;
	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (!k)
		return NULL;
	k->symtab = kvcalloc(n, sizeof(*k->symtab), GFP_KERNEL);
	k->strtab = kvmalloc(slen, GFP_KERNEL);
	k->typetab = kvmalloc(n, GFP_KERNEL);
	if (!k->symtab || !k->strtab || !k->typetab)
		goto fail;
	/* [0] the loader's null symbol, then the patches' names, then the
	 * loader's others: where two share an address (a patch at the start
	 * of ovup_text_area) lookups take the first, the patch's
	 */
	p = k->strtab;
	*p++ = 0;
	k->symtab[0] = base->symtab[0];
	k->symtab[0].st_name = 0;
	k->typetab[0] = base->typetab[0];
	i = 1;
	list_for_each_entry(b, &ovup_blocks, node) {
		u32 j;

		for (j = 0; j < b->nsyms; j++, i++) {
			typeof(*k->symtab) *s = &k->symtab[i];

			s->st_name = p - k->strtab;
			s->st_value = b->syms[j].addr;
			s->st_size = b->syms[j].size;
			s->st_info = (STB_LOCAL << 4) | STT_FUNC;
			s->st_shndx = SHN_ABS;
			k->typetab[i] = 't';
			p = ovup_put_name(p, b->syms[j].name);
		}
	}
	for (j = 1; j < base->num_symtab; j++, i++) {
		k->symtab[i] = base->symtab[j];
		k->symtab[i].st_name = p - k->strtab;
		k->typetab[i] = base->typetab[j];
		p = ovup_put_name(p, base->strtab + base->symtab[j].st_name);
	}
	k->num_symtab = n;
	return k;
fail:
	kvfree(k->symtab);
	kvfree(k->strtab);
	kvfree(k->typetab);
	kfree(k);
	return NULL;
}

static void ovup_syms_free(struct mod_kallsyms *k)
{
	if (!k || k == &THIS_MODULE->core_kallsyms)
		return;
	kvfree(k->symtab);
	kvfree(k->strtab);
	kvfree(k->typetab);
	kfree(k);
}

/* The module's symbols become the loader's plus every block's names. */
static int ovup_syms_publish(bool none)
{
	struct mod_kallsyms *old, *k = none ? &THIS_MODULE->core_kallsyms : ovup_syms_build();

	if (!k)
		return -ENOMEM;
	old = rcu_dereference_protected(THIS_MODULE->kallsyms, true);
	rcu_assign_pointer(THIS_MODULE->kallsyms, k);
	/* readers are preempt-off (rcu_dereference_sched) */
	synchronize_rcu();
	ovup_syms_free(old);
	return 0;
}

/* ---- the apply, the free, the module ---------------------------------------- */

/*
 * Before the stop of an apply: the patch's names published (attached to
 * its first text block), its bug entries checked and the next bug table
 * prepared.  On error nothing is published but names a retry replaces.
 */
int ovup_tables_prepare(struct ovup_k_pawrite *pw, struct ovup_block **blocks, u32 nblocks)
{
	struct ovup_block *owner = NULL;
	struct ovup_k_sym *syms;
	u32 i;
	int ret;

	ovup_bugs_next = -1;
	ovup_ext_next = -1;
	ovup_orc_next = -1;
	/* without the loader's rows in a half (too many), patch code keeps
	 * none: the stack check scans its callers' words, as before ORC
	 */
	if (pw->norc && ovup_orc_live >= 0) {
		ret = ovup_orc_check(pw, blocks, nblocks, &pw->failed);
		if (!ret)
			ret = ovup_orc_prepare((const int *)pw->orc_ip, (const void *)pw->orc,
					       pw->norc);
		if (ret)
			return ret;
		ovup_orc_mark(pw, blocks, nblocks);
	}
	if (pw->extable || pw->extable_len) {
		ret = ovup_ext_check(pw->extable, pw->extable_len, blocks, nblocks, &pw->failed);
		if (!ret)
			ret = ovup_ext_prepare(pw->extable, pw->extable_len);
		if (ret)
			return ret;
	}
	if (pw->bugs || pw->bugs_len) {
		ret = ovup_bugs_check(pw->bugs, pw->bugs_len, blocks, nblocks, &pw->failed);
		if (!ret)
			ret = ovup_bugs_prepare(pw->bugs, pw->bugs_len);
		if (ret)
			return ret;
	}
	ret = ovup_syms_in(pw, blocks, nblocks, &syms);
	if (ret || !syms)
		return ret;
	for (i = 0; i < nblocks && !owner; i++)
		if (blocks[i]->area->kind == OVUP_K_TEXT)
			owner = blocks[i];
	if (!owner) {
		kvfree(syms);
		return -EINVAL;
	}
	kvfree(owner->syms);
	owner->syms = syms;
	owner->nsyms = pw->nsyms;
	return ovup_syms_publish(false);
}

/* The apply failed after the prepare: the prepared bug table is dropped. */
void ovup_tables_cancel(void)
{
	ovup_bugs_next = -1;
	ovup_ext_next = -1;
	ovup_orc_next = -1;
}

/* b is about to be freed (nobody runs in it any more). */
void ovup_tables_forget(struct ovup_block *b)
{
	ovup_bugs_forget(b);
	ovup_rows_drop(b);
	b->orc_end = 0;
	if (!b->syms)
		return;
	kvfree(b->syms);
	b->syms = NULL;
	b->nsyms = 0;
	/* no memory for the new table: the old one goes on naming the block
	 * (names only; its code is gone)
	 */
	if (ovup_syms_publish(false))
		pr_warn("no memory to drop a freed block's names from kallsyms\n");
}

/* Init: the loader's bug entries move to half 0 (same count, same order,
 * so a reader sees the same table either way).
 */
int ovup_tables_init(void)
{
	unsigned int i, n = THIS_MODULE->num_bugs;

	ovup_bugs_loader = THIS_MODULE->bug_table;
	ovup_bugs_nloader = n;
	if (n > OVUP_BUGS_MAX / 2)
		return -E2BIG;
	for (i = 0; i < n; i++)
		if (ovup_bug_copy(&ovup_bugs[0][i], &ovup_bugs_loader[i]))
			return -ERANGE;
	WRITE_ONCE(THIS_MODULE->bug_table, ovup_bugs[0]);
	ovup_bugs_live = 0;

	/* the loader's exception table, sorted, to half 0 in its order */
	ovup_ext_loader = THIS_MODULE->extable;
	ovup_ext_nloader = THIS_MODULE->num_exentries;
	n = ovup_ext_nloader;
	if (n > OVUP_EXT_MAX / 2)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		const struct exception_table_entry *e = &ovup_ext_loader[i];
		struct exception_table_entry *d = &ovup_ext[0][i];

		d->data = e->data;
		if (ovup_rel(ovup_ext_insn(e), &d->insn, &d->insn) ||
		    ovup_rel(ovup_ext_fixup(e), &d->fixup, &d->fixup))
			return -ERANGE;
	}
	WRITE_ONCE(THIS_MODULE->extable, ovup_ext[0]);
	ovup_ext_live = 0;

	/* the loader's ORC rows (sorted by it) to half 0, in its order */
	ovup_orc_loader_ip = THIS_MODULE->arch.orc_unwind_ip;
	ovup_orc_loader = THIS_MODULE->arch.orc_unwind;
	n = THIS_MODULE->arch.num_orcs;
	ovup_orc_nloader = n;
	if (!ovup_orc_loader_ip || !ovup_orc_loader || n > OVUP_ORC_MAX / 2)
		return 0; /* no rows to merge with: patch code keeps none */
	for (i = 0; i < n; i++) {
		ovup_orc[0][i] = ovup_orc_loader[i];
		if (ovup_rel(ovup_orc_at(&ovup_orc_loader_ip[i]), &ovup_orc_ip[0][i],
			     &ovup_orc_ip[0][i]))
			return -ERANGE;
	}
	WRITE_ONCE(THIS_MODULE->arch.orc_unwind_ip, ovup_orc_ip[0]);
	WRITE_ONCE(THIS_MODULE->arch.orc_unwind, ovup_orc[0]);
	ovup_orc_live = 0;
	return 0;
}

/* What the tables hold now: live bug entries (not killed), exception
 * entries, ORC rows, kallsyms symbols.
 */
void ovup_tables_count(struct ovup_k_version *v)
{
	const struct bug_entry *b = THIS_MODULE->bug_table;
	const struct mod_kallsyms *k;
	unsigned int i;

	v->nbugs = 0;
	for (i = 0; i < THIS_MODULE->num_bugs; i++)
		v->nbugs += !ovup_bug_dead(&b[i]);
	v->nexentries = THIS_MODULE->num_exentries;
	v->norcs = THIS_MODULE->arch.num_orcs;
	rcu_read_lock_sched();
	k = rcu_dereference_sched(THIS_MODULE->kallsyms);
	v->nsyms = k->num_symtab;
	rcu_read_unlock_sched();
}

/* Module exit starts: blocks freed from now on keep their rows until
 * ovup_tables_exit() puts the loader's tables back (nothing runs there).
 */
void ovup_tables_quiesce(void)
{
	ovup_tables_exiting = true;
}

/* Exit, every block freed: the loader's tables again. */
void ovup_tables_exit(void)
{
	if (ovup_bugs_live >= 0) {
		/* ovup's own entries are the first nloader of the live half, in
		 * the loader's order: shrink to them, let readers of the longer
		 * table finish, then point back at the loader's
		 */
		WRITE_ONCE(THIS_MODULE->num_bugs, ovup_bugs_nloader);
		synchronize_rcu();
		WRITE_ONCE(THIS_MODULE->bug_table, ovup_bugs_loader);
		ovup_bugs_live = -1;
	}
	if (ovup_ext_live >= 0) {
		/* none, then the loader's: never the loader's pointer with a
		 * longer count
		 */
		WRITE_ONCE(THIS_MODULE->num_exentries, 0);
		synchronize_rcu();
		WRITE_ONCE(THIS_MODULE->extable, ovup_ext_loader);
		WRITE_ONCE(THIS_MODULE->num_exentries, ovup_ext_nloader);
		ovup_ext_live = -1;
	}
	if (ovup_orc_live >= 0) {
		WRITE_ONCE(THIS_MODULE->arch.num_orcs, 0);
		synchronize_rcu();
		WRITE_ONCE(THIS_MODULE->arch.orc_unwind_ip, ovup_orc_loader_ip);
		WRITE_ONCE(THIS_MODULE->arch.orc_unwind, ovup_orc_loader);
		WRITE_ONCE(THIS_MODULE->arch.num_orcs, ovup_orc_nloader);
		ovup_orc_live = -1;
	}
	if (rcu_access_pointer(THIS_MODULE->kallsyms) != &THIS_MODULE->core_kallsyms)
		ovup_syms_publish(true);
}
