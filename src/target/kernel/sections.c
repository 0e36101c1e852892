// SPDX-License-Identifier: MIT
/*
 * The sections of a kernel patch: one table of the kernel's own section
 * names, each with where it goes and, for those refused, why.  The
 * classification, the reason given for a refusal and the mapfile's lists
 * are all read from it; every other section is sorted as in user space.
 * Also the last edit of a linked patch: its __fentry__ calls become NOPs.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../compile.h"
#include "../../arch/arch.h"

#include <stdio.h>
#include <string.h>

struct kern_section {
	const char *name;   /* exact, or a prefix when it ends in '*' (as ld's globs) */
	int cls;            /* enum ovup_sec_class */
	const char *reason; /* why OVUP_SEC_REJECT, for the message; NULL: none said */
};

#define ALTINSTR                                                                  \
	"it holds CPU alternatives (static_cpu_has(), some inlines), which ovup " \
	"does not apply; avoid them in the patch"

static const struct kern_section kern_sections[] = {
	/* objtool's and kbuild's metadata for the module loader: ovup's code
	 * needs none of it (no ORC: the module treats its blocks as busy) */
	{ ".retpoline_sites", OVUP_SEC_IGNORE, NULL },
	{ ".return_sites", OVUP_SEC_IGNORE, NULL },
	{ ".call_sites", OVUP_SEC_IGNORE, NULL },
	{ ".ibt_endbr_seal", OVUP_SEC_IGNORE, NULL },
	{ ".orc_unwind", OVUP_SEC_IGNORE, NULL },
	{ ".orc_unwind_ip", OVUP_SEC_IGNORE, NULL },
	{ ".orc_header", OVUP_SEC_IGNORE, NULL },
	{ ".smp_locks", OVUP_SEC_IGNORE, NULL },
	{ ".discard", OVUP_SEC_IGNORE, NULL },
	{ ".discard.*", OVUP_SEC_IGNORE, NULL },
	{ ".modinfo", OVUP_SEC_IGNORE, NULL },
	{ "__versions", OVUP_SEC_IGNORE, NULL },
	{ ".gnu.linkonce.this_module", OVUP_SEC_IGNORE, NULL },
	{ "__patchable_function_entries", OVUP_SEC_IGNORE, NULL },
	{ ".BTF", OVUP_SEC_IGNORE, NULL },
	{ ".BTF_ids", OVUP_SEC_IGNORE, NULL },
	/* the __fentry__ call sites: ovup_kern_fixup() reads them in the
	 * linked image */
	{ "__mcount_loc", OVUP_SEC_RO, NULL },
	/* what the kernel registers when it loads a module, and ovup does not */
	{ ".data..percpu*", OVUP_SEC_REJECT, "a patch cannot add per-CPU variables" },
	{ ".init.*", OVUP_SEC_REJECT, "__init/__exit code is never run by ovup" },
	{ ".exit.*", OVUP_SEC_REJECT, "__init/__exit code is never run by ovup" },
	{ "__ksymtab*", OVUP_SEC_REJECT, "a patch cannot export symbols" },
	{ ".altinstructions", OVUP_SEC_REJECT, ALTINSTR },
	{ ".altinstr_*", OVUP_SEC_REJECT, ALTINSTR },
	{ "__jump_table", OVUP_SEC_REJECT,
	  "static keys (static_branch_*(), tracepoints) need registration ovup does not do" },
	{ "__ex_table", OVUP_SEC_REJECT,
	  "user-memory access (copy_from_user(), get_user()) needs exception-table entries ovup "
	  "does not register" },
	{ "__bug_table", OVUP_SEC_REJECT,
	  "BUG()/WARN() need bug-table entries ovup does not register" },
	{ ".static_call*", OVUP_SEC_REJECT, "static calls need registration ovup does not do" },
	{ ".noinstr.text", OVUP_SEC_REJECT, NULL },
	{ ".entry.text", OVUP_SEC_REJECT, NULL },
};

/* sized for every entry and the NULL: ovup_kern_sections_init() fills them */
const char *ovup_kern_mapfile_discard[OVUP_ARRAY_SIZE(kern_sections) + 1];
const char *ovup_kern_mapfile_keep_ro[OVUP_ARRAY_SIZE(kern_sections) + 1];

static const struct kern_section *find_section(const char *name)
{
	size_t i;

	for (i = 0; i < OVUP_ARRAY_SIZE(kern_sections); i++) {
		const char *n = kern_sections[i].name;
		size_t len = strlen(n);

		if (n[len - 1] == '*' ? !strncmp(name, n, len - 1) : !strcmp(name, n))
			return &kern_sections[i];
	}
	return NULL;
}

int ovup_kern_classify(const char *name, uint64_t flags, uint32_t type)
{
	const struct kern_section *s = find_section(name);

	return s ? s->cls : ovup_classify_user(name, flags, type);
}

/* Appended to "section '%s' is not supported in a kernel patch". */
const char *ovup_kern_reject_hint(const char *section)
{
	static char hint[256];
	const struct kern_section *s = find_section(section);

	if (!s || !s->reason)
		return "";
	snprintf(hint, sizeof(hint), ": %s", s->reason);
	return hint;
}

/* The mapfile discards what the table ignores and keeps what it reads
 * (__mcount_loc) with the read-only data; the order is the table's. */
void ovup_kern_sections_init(void)
{
	size_t i, nd = 0, nr = 0;

	for (i = 0; i < OVUP_ARRAY_SIZE(kern_sections); i++) {
		if (kern_sections[i].cls == OVUP_SEC_IGNORE)
			ovup_kern_mapfile_discard[nd++] = kern_sections[i].name;
		else if (kern_sections[i].cls == OVUP_SEC_RO)
			ovup_kern_mapfile_keep_ro[nr++] = kern_sections[i].name;
	}
	ovup_kern_mapfile_discard[nd] = NULL;
	ovup_kern_mapfile_keep_ro[nr] = NULL;
}

/* Every `call __fentry__` the compiler put at a function entry becomes the
 * NOP5 the kernel's module loader would have made of it. */
int ovup_kern_fixup(struct ovup_target *t, struct ovup_img *img, const struct ovup_symtab *st)
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
