// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The paper's alloc, copyin and chgprot for the kernel target: a page
 * allocator over the two areas of ovup_area.S, writes into read-only pages
 * through a temporary writable alias, and real page-protection changes on
 * the areas' 4 KiB ptes.  Also the address classification (is this kernel
 * text? one of our areas?) that every ioctl uses to validate addresses.
 */
#define pr_fmt(fmt) "ovup: " fmt

#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>
#include "ovup_internal.h"

struct ovup_area ovup_text = { .name = "text", .kind = OVUP_K_TEXT };
struct ovup_area ovup_data = { .name = "data", .kind = OVUP_K_DATA };

LIST_HEAD(ovup_blocks);

/* Both the kernel image and the module area lie in this range; text is
 * told apart from data by the page's own protection below.
 */
static bool ovup_in_kernel_map(unsigned long addr)
{
	return addr >= __START_KERNEL_map && addr < MODULES_END;
}

static bool ovup_in_module_map(unsigned long addr)
{
	return addr >= MODULES_VADDR && addr < MODULES_END;
}

static bool ovup_in_area(const struct ovup_area *a, unsigned long addr,
			 unsigned long len)
{
	unsigned long end = a->base + (a->npages << PAGE_SHIFT);

	return addr >= a->base && addr < end && len <= end - addr;
}

/* The area holding all of [addr, addr+len), or NULL. */
struct ovup_area *ovup_area_of(unsigned long addr, unsigned long len)
{
	if (ovup_in_area(&ovup_text, addr, len))
		return &ovup_text;
	if (ovup_in_area(&ovup_data, addr, len))
		return &ovup_data;
	return NULL;
}

bool ovup_overlaps_areas(unsigned long addr, unsigned long len)
{
	const struct ovup_area *areas[] = { &ovup_text, &ovup_data };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(areas); i++) {
		unsigned long lo = areas[i]->base;
		unsigned long hi = lo + (areas[i]->npages << PAGE_SHIFT);

		if (addr < hi && addr + len > lo)
			return true;
	}
	return false;
}

/*
 * True if every page of [addr, addr+len) is mapped executable and
 * read-only in the kernel image or module area: core kernel or module
 * text.  This stands in for kernel_text_address(), which is not exported;
 * with STRICT_KERNEL_RWX and STRICT_MODULE_RWX nothing else there is X.
 */
bool ovup_is_kernel_text(unsigned long addr, unsigned long len)
{
	unsigned long page, last;

	if (!len || addr + len < addr)
		return false;
	last = (addr + len - 1) & PAGE_MASK;
	for (page = addr & PAGE_MASK; ; page += PAGE_SIZE) {
		unsigned int level;
		pte_t *pte;

		if (!ovup_in_kernel_map(page))
			return false;
		pte = lookup_address(page, &level);
		if (!pte || !pte_present(*pte) ||
		    (pte_flags(*pte) & (_PAGE_NX | _PAGE_RW)))
			return false;
		if (page == last)
			return true;
	}
}

static struct page *ovup_page_of(unsigned long addr)
{
	/* module memory is vmalloc'ed, but is_vmalloc_addr() says no there */
	if (ovup_in_module_map(addr))
		return vmalloc_to_page((void *)addr);
	return virt_to_page((void *)addr);
}

/*
 * A writable alias of [addr, addr+len), which may span pages and be
 * read-only where it is: vmap(PAGE_KERNEL) of the same physical pages.
 * Returns the alias of addr itself, or ERR_PTR(-EFAULT) for an unmapped
 * page, ERR_PTR(-ENOMEM).  May sleep.
 */
void *ovup_alias_map(unsigned long addr, unsigned long len)
{
	unsigned long first = addr & PAGE_MASK;
	unsigned int i, n = (PAGE_ALIGN(addr + len) - first) >> PAGE_SHIFT;
	struct page **pages;
	void *va = ERR_PTR(-ENOMEM);

	pages = kmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return va;
	for (i = 0; i < n; i++) {
		pages[i] = ovup_page_of(first + i * PAGE_SIZE);
		if (!pages[i]) {
			va = ERR_PTR(-EFAULT);
			goto free_pages;
		}
	}
	va = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	va = va ? va + offset_in_page(addr) : ERR_PTR(-ENOMEM);
free_pages:
	kfree(pages);
	return va;
}

void ovup_alias_unmap(void *alias)
{
	if (!IS_ERR_OR_NULL(alias))
		vunmap((void *)((unsigned long)alias & PAGE_MASK));
}

static void ovup_flush_tlb_local(void *unused)
{
	__flush_tlb_all();
}

/*
 * Set the protection of npages 4 KiB pages at addr.  All ptes are checked
 * before any is changed, so a refusal changes nothing.  __flush_tlb_all()
 * only flushes the calling CPU, hence the IPI to all of them.
 */
static int ovup_set_prot(unsigned long addr, unsigned long npages, u32 prot)
{
	pteval_t clear = _PAGE_RW | _PAGE_NX, set;
	unsigned long i;

	switch (prot) {
	case OVUP_PROT_RX:
		set = 0;
		break;
	case OVUP_PROT_R:
		set = _PAGE_NX;
		break;
	case OVUP_PROT_RW:
		set = _PAGE_RW | _PAGE_NX;
		break;
	default:
		return -EINVAL;
	}
	set &= __supported_pte_mask;

	for (i = 0; i < npages; i++) {
		unsigned int level;
		pte_t *pte = lookup_address(addr + i * PAGE_SIZE, &level);

		if (!pte || level != PG_LEVEL_4K || !pte_present(*pte))
			return -EOPNOTSUPP;
	}
	for (i = 0; i < npages; i++) {
		unsigned int level;
		pte_t *pte = lookup_address(addr + i * PAGE_SIZE, &level);

		set_pte(pte, __pte((pte_val(*pte) & ~clear) | set));
	}
	on_each_cpu(ovup_flush_tlb_local, NULL, 1);
	return 0;
}

static u32 ovup_default_prot(const struct ovup_area *a)
{
	/* what the module loader gives each area */
	return a->kind == OVUP_K_TEXT ? OVUP_PROT_RX : OVUP_PROT_RW;
}

int ovup_block_alloc(u32 kind, u64 size, struct file *file, unsigned long *addr)
{
	struct ovup_area *a = kind == OVUP_K_TEXT ? &ovup_text : &ovup_data;
	unsigned long n = PAGE_ALIGN(size) >> PAGE_SHIFT, start;
	struct ovup_block *b;
	void *alias;

	start = bitmap_find_next_zero_area(a->used, a->npages, 0, n, 0);
	if (start >= a->npages)
		return -ENOMEM;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->area = a;
	b->addr = a->base + (start << PAGE_SHIFT);
	b->npages = n;
	b->file = file;

	/* Pages come back zeroed even after a previous user wrote them. */
	alias = ovup_alias_map(b->addr, n << PAGE_SHIFT);
	if (IS_ERR(alias)) {
		kfree(b);
		return PTR_ERR(alias);
	}
	memset(alias, 0, n << PAGE_SHIFT);
	ovup_alias_unmap(alias);

	bitmap_set(a->used, start, n);
	list_add_tail(&b->node, &ovup_blocks);
	*addr = b->addr;
	return 0;
}

/* The block starting exactly at addr, or NULL.  Retired blocks are
 * nobody's to free, fill or jump to: they are not found.
 */
struct ovup_block *ovup_block_at(unsigned long addr)
{
	struct ovup_block *b;

	list_for_each_entry(b, &ovup_blocks, node)
		if (b->addr == addr && !b->retired)
			return b;
	return NULL;
}

/* The one block holding all of [addr, addr+len), or NULL. */
struct ovup_block *ovup_block_containing(unsigned long addr, unsigned long len)
{
	struct ovup_block *b;

	list_for_each_entry(b, &ovup_blocks, node) {
		unsigned long size = b->npages << PAGE_SHIFT;

		if (!b->retired && addr >= b->addr && addr - b->addr < size &&
		    len <= size - (addr - b->addr))
			return b;
	}
	return NULL;
}

void ovup_block_free(struct ovup_block *b)
{
	struct ovup_area *a = b->area;

	ovup_tables_forget(b);
	/* Free pages keep the area's default protection: the next alloc of
	 * a text block must not start out non-executable, nor data writable
	 * pages start out read-only.  The ptes were 4 KiB when alloc handed
	 * them out, so this cannot fail.
	 */
	WARN_ON_ONCE(ovup_set_prot(b->addr, b->npages, ovup_default_prot(a)));
	bitmap_clear(a->used, (b->addr - a->base) >> PAGE_SHIFT, b->npages);
	list_del(&b->node);
	kfree(b);
}

/* The fd is going away: its blocks that no record took are garbage. */
void ovup_blocks_release(struct file *file)
{
	struct ovup_block *b, *tmp;

	list_for_each_entry_safe(b, tmp, &ovup_blocks, node)
		if (b->file == file && !b->record)
			ovup_block_free(b);
}

int ovup_block_copyin(struct ovup_block *b, unsigned long addr,
		      const void __user *src, unsigned long len)
{
	void *alias;
	int ret = 0;

	alias = ovup_alias_map(addr, len);
	if (IS_ERR(alias))
		return PTR_ERR(alias);
	if (copy_from_user(alias, src, len))
		ret = -EFAULT;
	ovup_alias_unmap(alias);
	return ret;
}

int ovup_block_chgprot(struct ovup_block *b, unsigned long addr,
		       unsigned long len, u32 prot)
{
	/* W^X: text is never writable, data never executable */
	if (b->area->kind == OVUP_K_TEXT && prot != OVUP_PROT_RX && prot != OVUP_PROT_R)
		return -EINVAL;
	if (b->area->kind == OVUP_K_DATA && prot != OVUP_PROT_RW && prot != OVUP_PROT_R)
		return -EINVAL;
	return ovup_set_prot(addr, PAGE_ALIGN(len) >> PAGE_SHIFT, prot);
}

static int ovup_area_init(struct ovup_area *a, char *start, char *end)
{
	unsigned long i;

	a->base = (unsigned long)start;
	a->npages = (end - start) >> PAGE_SHIFT;
	if (!PAGE_ALIGNED(a->base) || !PAGE_ALIGNED(end) || !a->npages) {
		pr_err("%s area [%pS, %pS) is not page aligned\n", a->name, start, end);
		return -EINVAL;
	}
	/* chgprot works on 4 KiB ptes only; find out now, not at first use */
	for (i = 0; i < a->npages; i++) {
		unsigned int level;
		pte_t *pte = lookup_address(a->base + i * PAGE_SIZE, &level);

		if (!pte || level != PG_LEVEL_4K || !pte_present(*pte)) {
			pr_err("%s area page %lu is not mapped with a 4 KiB pte\n",
			       a->name, i);
			return -EINVAL;
		}
	}
	a->used = bitmap_zalloc(a->npages, GFP_KERNEL);
	return a->used ? 0 : -ENOMEM;
}

int ovup_mem_init(void)
{
	int ret;

	ret = ovup_area_init(&ovup_text, ovup_text_area, ovup_text_area_end);
	if (ret)
		return ret;
	if (!ovup_is_kernel_text(ovup_text.base, ovup_text.npages << PAGE_SHIFT)) {
		pr_err("text area %pS is not executable read-only memory\n",
		       (void *)ovup_text.base);
		ret = -EINVAL;
		goto free_text;
	}
	ret = ovup_area_init(&ovup_data, ovup_data_area, ovup_data_area_end);
	if (ret)
		goto free_text;
	return 0;

free_text:
	bitmap_free(ovup_text.used);
	ovup_text.used = NULL;
	return ret;
}

void ovup_mem_exit(void)
{
	struct ovup_block *b, *tmp;

	/* records hold module references, so only unowned blocks remain */
	list_for_each_entry_safe(b, tmp, &ovup_blocks, node)
		ovup_block_free(b);
	bitmap_free(ovup_text.used);
	bitmap_free(ovup_data.used);
}
