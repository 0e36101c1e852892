// SPDX-License-Identifier: MIT
/*
 * The sections of a kernel patch: one table of the kernel's own section
 * names, each with where it goes and, for those refused, why.  The
 * classification, the reason given for a refusal and the mapfile's lists
 * are all read from it; every other section is sorted as in user space.
 */
#define _GNU_SOURCE
#include "kernel.h"
#include "../compile.h"

#include <stdio.h>
#include <string.h>

struct kern_section {
	const char *name;   /* exact, or a prefix when it ends in '*' (as ld's globs) */
	int cls;            /* enum ovup_sec_class */
	const char *reason; /* why OVUP_SEC_REJECT, for the message; NULL: none said */
};

static const struct kern_section kern_sections[] = {
	/* objtool's and kbuild's metadata for the module loader that ovup's
	 * code does without, each for the reason docs/kernel.md gives: */
	{ ".orc_header", OVUP_SEC_IGNORE, NULL },
	/* calls stay on the trampoline, which every update rewrites */
	{ ".static_call_sites", OVUP_SEC_IGNORE, NULL },
	/* pv_ops calls stay indirect; native inlines come from alternatives */
	{ ".parainstructions", OVUP_SEC_IGNORE, NULL },
	/* lock prefixes stay: the kernel drops them only on a UP boot */
	{ ".smp_locks", OVUP_SEC_IGNORE, NULL },
	/* not emitted for this kernel (6.2+ call depth, IBT off) */
	{ ".call_sites", OVUP_SEC_IGNORE, NULL },
	{ ".ibt_endbr_seal", OVUP_SEC_IGNORE, NULL },
	{ ".discard", OVUP_SEC_IGNORE, NULL },
	{ ".discard.*", OVUP_SEC_IGNORE, NULL },
	{ ".modinfo", OVUP_SEC_IGNORE, NULL },
	{ "__versions", OVUP_SEC_IGNORE, NULL },
	{ ".gnu.linkonce.this_module", OVUP_SEC_IGNORE, NULL },
	{ "__patchable_function_entries", OVUP_SEC_IGNORE, NULL },
	{ ".BTF", OVUP_SEC_IGNORE, NULL },
	{ ".BTF_ids", OVUP_SEC_IGNORE, NULL },
	/* what ovup_kern_fixup() (finalize.c) reads in the linked image to
	 * edit the code as the module loader would: the __fentry__ calls, the
	 * returns, the CPU alternatives (never executed where they are), the
	 * indirect calls through the kernel's thunks */
	{ "__mcount_loc", OVUP_SEC_RO, NULL },
	{ "__jump_table", OVUP_SEC_RO, NULL },
	/* WARN/BUG: copied by ovup.ko into its own bug table (flags live there) */
	{ "__bug_table", OVUP_SEC_RO, NULL },
	/* user access fixups: merged by ovup.ko into its own exception table */
	{ "__ex_table", OVUP_SEC_RO, NULL },
	/* unwind rows: merged by ovup.ko into its own ORC table */
	{ ".orc_unwind_ip", OVUP_SEC_RO, NULL },
	{ ".orc_unwind", OVUP_SEC_RO, NULL },
	{ ".return_sites", OVUP_SEC_RO, NULL },
	{ ".retpoline_sites", OVUP_SEC_RO, NULL },
	{ ".altinstructions", OVUP_SEC_RO, NULL },
	{ ".altinstr_replacement", OVUP_SEC_RO, NULL },
	/* static_cpu_has()'s test of the boot CPU's bit, run until patched */
	{ ".altinstr_aux", OVUP_SEC_TEXT, NULL },
	{ ".altinstr_*", OVUP_SEC_REJECT, "an alternatives section this ovup does not know" },
	/* what the kernel registers when it loads a module, and ovup does not */
	{ ".data..percpu*", OVUP_SEC_REJECT, "a patch cannot add per-CPU variables" },
	{ ".init.*", OVUP_SEC_REJECT, "__init/__exit code is never run by ovup" },
	{ ".exit.*", OVUP_SEC_REJECT, "__init/__exit code is never run by ovup" },
	{ "__ksymtab*", OVUP_SEC_REJECT, "a patch cannot export symbols" },
	{ "__tracepoints*", OVUP_SEC_REJECT,
	  "a patch cannot define tracepoints (they are registered at module load); use the "
	  "kernel's" },
	{ "_ftrace_events", OVUP_SEC_REJECT,
	  "a patch cannot define trace events (they are registered at module load)" },
	{ "_ftrace_eval_map", OVUP_SEC_REJECT,
	  "a patch cannot define trace events (they are registered at module load)" },
	{ "__bpf_raw_tp_map", OVUP_SEC_REJECT,
	  "a patch cannot define tracepoints (they are registered at module load)" },
	{ "__tracepoint_str", OVUP_SEC_REJECT,
	  "tracepoint strings are registered at module load; use a plain string" },
	{ "__trace_printk_fmt", OVUP_SEC_REJECT,
	  "trace_printk() formats are registered at module load (and the trace buffer would "
	  "keep pointers into the patch after revert); use pr_info()" },
	{ "__dyndbg*", OVUP_SEC_REJECT,
	  "pr_debug()/dynamic debug descriptors are registered at module load; use pr_info()" },
	{ "__param", OVUP_SEC_REJECT, "a patch cannot add module parameters" },
	{ "__kcrctab*", OVUP_SEC_REJECT, "a patch cannot export symbols" },
	{ ".kprobes.text", OVUP_SEC_REJECT,
	  "code kprobes must not probe is registered at module load" },
	{ "_kprobe_blacklist", OVUP_SEC_REJECT,
	  "code kprobes must not probe is registered at module load" },
	{ ".static_call*", OVUP_SEC_REJECT,
	  "a patch cannot define static calls (their trampolines and keys are registered at "
	  "module load)" },
	{ ".noinstr.text", OVUP_SEC_REJECT, NULL },
	{ ".entry.text", OVUP_SEC_REJECT, NULL },
};

/* sized for every entry and the NULL: ovup_kern_sections_init() fills them */
const char *ovup_kern_mapfile_discard[OVUP_ARRAY_SIZE(kern_sections) + 1];
const char *ovup_kern_mapfile_keep_ro[OVUP_ARRAY_SIZE(kern_sections) + 1];
const char *ovup_kern_mapfile_keep_text[OVUP_ARRAY_SIZE(kern_sections) + 1];

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

/* The mapfile discards what the table ignores, keeps what the fixup reads
 * (__mcount_loc...) with the read-only data and .altinstr_aux with the
 * code; the order is the table's. */
void ovup_kern_sections_init(void)
{
	size_t i, nd = 0, nr = 0, nt = 0;

	for (i = 0; i < OVUP_ARRAY_SIZE(kern_sections); i++) {
		const char *n = kern_sections[i].name;

		if (kern_sections[i].cls == OVUP_SEC_IGNORE)
			ovup_kern_mapfile_discard[nd++] = n;
		else if (kern_sections[i].cls == OVUP_SEC_RO)
			ovup_kern_mapfile_keep_ro[nr++] = n;
		else if (kern_sections[i].cls == OVUP_SEC_TEXT)
			ovup_kern_mapfile_keep_text[nt++] = n;
	}
	ovup_kern_mapfile_discard[nd] = NULL;
	ovup_kern_mapfile_keep_ro[nr] = NULL;
	ovup_kern_mapfile_keep_text[nt] = NULL;
}
