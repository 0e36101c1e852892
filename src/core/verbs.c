// SPDX-License-Identifier: MIT
/*
 * The verbs: apply (the eight steps), build, revert, list, symbols.  Each
 * reads the record of applied patches first, so every run sees what
 * earlier runs did, and prints its result for people or, with --json, for
 * programs.
 */
#define _GNU_SOURCE
#include "procedure.h"
#include "../arch/arch.h"
#include "../util/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct ovup_record *find_record(struct ovup_records *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].name, name))
			return &rs->r[i];
	return NULL;
}

static struct ovup_record *latest(struct ovup_records *rs)
{
	struct ovup_record *best = NULL;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (!best || rs->r[i].seq > best->seq)
			best = &rs->r[i];
	return best;
}

/* ---- apply ---- */

static char *name_from_file(const char *path)
{
	char *name = ovup_xstrdup(ovup_basename(path)), *dot = strrchr(name, '.');

	if (dot && dot != name)
		*dot = 0;
	return name;
}

static int valid_name(const char *name)
{
	const char *s;

	if (!*name || strlen(name) >= 64)
		return 0;
	for (s = name; *s; s++)
		if (!(*s == '-' || *s == '_' || *s == '.' || *s == '+' ||
		      (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return 0;
	return 1;
}

static const char *const step_names[] = { "labels", "size", "alloc", "mapfile",
					  "link", "load", "protect", "branch" };

static void print_json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* What keeping the register contract took, in words; "" if unchecked. */
static void contract_text(const struct ovup_plan *p, const struct ovup_pfunc *f, char *out,
			  size_t len)
{
	const char *obj = p->st.objs[f->old->obj].name;
	char regs[512], full[256] = "";

	ovup_arch_regs_format(f->regs_extra, regs, sizeof(regs));
	if (f->why_new[0])
		snprintf(full, sizeof(full), "; the new code may write any of them: %s", f->why_new);
	switch (f->contract) {
	case OVUP_CONTRACT_UNCHECKED:
		snprintf(out, len, "%s", "");
		break;
	case OVUP_CONTRACT_KEPT:
		snprintf(out, len, "registers: the new code writes none its callers may rely on");
		break;
	case OVUP_CONTRACT_WRAPPED:
		snprintf(out, len, "wrapper at 0x%" PRIx64 " saves %s (the old code left them intact; "
				   "callers in %s may rely on that%s)",
			 f->wrap_addr, regs, obj, full);
		break;
	case OVUP_CONTRACT_INTERPOSABLE:
		snprintf(out, len, "no wrapper: the new code also writes %s, but '%s' is a global of "
				   "%s that another object could interpose, so its callers assume "
				   "every call-clobbered register changes",
			 regs, f->old->name, obj);
		break;
	case OVUP_CONTRACT_FAULT:
		snprintf(out, len, "no wrapper (OVUP_FAULT=no-wrapper): the new code also writes %s, "
				   "which callers in %s may rely on",
			 regs, obj);
		break;
	}
}

static void print_json_regs(ovup_regset s)
{
	char buf[512], *save = NULL, *r;
	int first = 1;

	ovup_arch_regs_format(s, buf, sizeof(buf));
	putchar('[');
	for (r = strtok_r(buf, " ", &save); r; r = strtok_r(NULL, " ", &save), first = 0)
		printf("%s\"%s\"", first ? "" : ",", r);
	putchar(']');
}

static void print_json_contract(const struct ovup_pfunc *f)
{
	static const char *const kind[] = {
		[OVUP_CONTRACT_UNCHECKED] = "unchecked", [OVUP_CONTRACT_KEPT] = "kept",
		[OVUP_CONTRACT_WRAPPED] = "wrapped", [OVUP_CONTRACT_INTERPOSABLE] = "interposable",
		[OVUP_CONTRACT_FAULT] = "fault-no-wrapper",
	};

	printf(",\"registers\":{\"contract\":\"%s\"", kind[f->contract]);
	if (f->contract != OVUP_CONTRACT_UNCHECKED) {
		printf(",\"old\":");
		print_json_regs(f->regs_old);
		printf(",\"new\":");
		print_json_regs(f->regs_new);
		printf(",\"extra\":");
		print_json_regs(f->regs_extra);
		if (f->why_new[0]) {
			printf(",\"new_why\":");
			print_json_str(f->why_new);
		}
	}
	if (f->wrap_len) {
		printf(",\"wrapper\":{\"addr\":%" PRIu64 ",\"size\":%u,\"saves\":", f->wrap_addr,
		       f->wrap_len);
		print_json_regs(f->regs_extra);
		printf("}");
	} else {
		printf(",\"wrapper\":null");
	}
	printf("}");
}

static void print_plan(struct ovup_plan *p, int dry, const uint64_t *ns, uint64_t total)
{
	size_t i;
	char hex[64];

	if (p->o->json) {
		printf("{\"target\":");
		print_json_str(p->t->desc);
		printf(",\"patch\":");
		print_json_str(p->name);
		printf(",\"dry_run\":%s,\"text\":{\"addr\":%" PRIu64 ",\"size\":%" PRIu64 "}",
		       dry ? "true" : "false", p->text.addr, p->text.size);
		printf(",\"data\":{\"addr\":%" PRIu64 ",\"size\":%" PRIu64 "},\"functions\":[",
		       p->data.addr, p->data.size);
		for (i = 0; i < p->nfuncs; i++) {
			struct ovup_pfunc *f = &p->funcs[i];

			ovup_hex_spaced(hex, f->jump, f->len);
			printf("%s{\"name\":", i ? "," : "");
			print_json_str(f->name);
			printf(",\"object\":");
			print_json_str(p->st.objs[f->old->obj].path);
			printf(",\"old\":%" PRIu64 ",\"size\":%" PRIu64 ",\"site\":%" PRIu64
			       ",\"new\":%" PRIu64 ",\"jump\":\"%s\"",
			       f->old->addr, f->old->size, f->site, f->new_addr, hex);
			if (f->under) {
				printf(",\"stacks_on\":");
				print_json_str(f->under);
			}
			print_json_contract(f);
			printf("}");
		}
		printf("],\"timing_ns\":{");
		for (i = 0; i < OVUP_ARRAY_SIZE(step_names); i++)
			printf("%s\"%s\":%" PRIu64, i ? "," : "", step_names[i], ns[i]);
		printf(",\"pause\":%" PRIu64 ",\"total\":%" PRIu64 "}", p->pause_ns, total);
		printf(",\"stop\":{\"tasks\":%" PRIu32 ",\"rechecked\":%" PRIu32 "}}\n",
		       p->pause_tasks, p->pause_rechecked);
		return;
	}
	if (dry)
		printf("plan for '%s' on %s (dry run: the target is not touched)\n", p->name,
		       p->t->desc);
	else
		printf("applied '%s' to %s in %.1f ms (pause %.0f us)\n", p->name, p->t->desc,
		       (double)total / 1e6, (double)p->pause_ns / 1e3);
	if (dry) {
		printf("  code at 0x%" PRIx64 " (%" PRIu64 " bytes, r-x)", p->text.addr, p->text.size);
		if (p->data.size)
			printf(", data at 0x%" PRIx64 " (%" PRIu64 " bytes: r-- %" PRIu64 ", rw- %" PRIu64
			       ")",
			       p->data.addr, p->data.size, OVUP_ALIGN_UP(p->ro_size, 4096),
			       OVUP_ALIGN_UP(p->rw_size, 4096));
		printf("\n");
	}
	for (i = 0; i < p->nfuncs; i++) {
		struct ovup_pfunc *f = &p->funcs[i];
		char contract[1024];

		ovup_hex_spaced(hex, f->jump, f->len);
		contract_text(p, f, contract, sizeof(contract));
		const char *impl = strcmp(f->name, f->old->name) ? f->old->name : NULL;

		if (dry) {
			printf("  %s (%s)%s%s\n", f->name, p->st.objs[f->old->obj].path,
			       impl ? ", an IFUNC: replacing its selected implementation " : "",
			       impl ? impl : "");
			printf("    old 0x%" PRIx64 ", %" PRIu64 " bytes; branch at 0x%" PRIx64 "%s\n",
			       f->old->addr, f->old->size, f->site,
			       f->keep ? " (after the kept entry bytes)" : "");
			printf("    new 0x%" PRIx64 "\n    jump %s\n", f->new_addr, hex);
			if (f->under)
				printf("    stacks on patch '%s'\n", f->under);
			if (contract[0])
				printf("    %s\n", contract);
		} else {
			char shown[256];

			snprintf(shown, sizeof(shown), "%s%s%s", f->name, impl ? "=" : "", impl ? impl : "");
			printf("  %-24s %s 0x%" PRIx64 " -> 0x%" PRIx64 "%s%s%s\n", shown,
			       p->st.objs[f->old->obj].name, f->old->addr, f->new_addr,
			       f->under ? " (over '" : "", f->under ? f->under : "",
			       f->under ? "')" : "");
			if (ovup_verbose && contract[0])
				printf("    %s: %s\n", f->name, contract);
		}
	}
}

/* .ovup.build, written by `ovup build`: refuse a patch built for other
 * binaries than the ones running. */
static int check_build(struct ovup_plan *p)
{
	char *copy, *line, *save = NULL;
	int ret = 0;

	if (!p->obj.build && p->t->ops->needs_build_info && !strcmp(p->objpath, p->source))
		return ovup_err(-EINVAL, "%s: has no .ovup.build section, so nothing says which %s it "
					 "was compiled for; build it with 'ovup build -k' (or give "
					 "the .c file)",
				p->source, p->t->ops->kind);
	if (!p->obj.build)
		return 0;
	copy = ovup_xstrdup(p->obj.build);
	for (line = strtok_r(copy, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
		char path[4096], id[160], have[160];
		size_t i, k;

		if (!strncmp(line, "target ", 7)) {
			if (strcmp(line + 7, p->t->ops->kind))
				ret = ovup_err(-EINVAL, "%s: built for a %s target, not a %s", p->source,
					       line + 7, p->t->ops->kind);
			continue;
		}
		if (!strncmp(line, "kernel-release ", 15) && strcmp(line + 15, p->t->release)) {
			ret = ovup_err(-EINVAL, "%s: built for kernel %s, but the running kernel is %s; "
						"rebuild it with that kernel's headers",
				       p->source, line + 15, p->t->release);
			continue;
		}
		if (!strncmp(line, "kernel-version ", 15) && strcmp(line + 15, p->t->version)) {
			ret = ovup_err(-EINVAL, "%s: built for kernel build '%s', but the running "
						"kernel is build '%s'; rebuild it with that kernel's "
						"headers",
				       p->source, line + 15, p->t->version);
			continue;
		}
		if (sscanf(line, "object %4095s %159s", path, id) != 2)
			continue;
		/* the same path, else the same file name elsewhere */
		for (i = 0; i < p->st.nobjs && strcmp(p->st.objs[i].path, path); i++)
			;
		for (k = 0; i == p->st.nobjs && k < p->st.nobjs; k++)
			if (!strcmp(p->st.objs[k].name, ovup_basename(path)))
				i = k;
		if (i == p->st.nobjs) {
			ret = ovup_err(-EINVAL, "%s: built for %s (build-id %s), which %s has not "
						"loaded; rebuild the patch against this target",
				       p->source, path, id, p->t->desc);
			break;
		}
		ovup_hex(have, p->st.objs[i].build_id, p->st.objs[i].build_id_len);
		if (strcmp(have, id))
			ret = ovup_err(-EINVAL, "%s: built for %s with build-id %s, but %s runs "
						"build-id %s; rebuild the patch for this build",
				       p->source, path, id, p->t->desc, have);
	}
	free(copy);
	return ret;
}

/* The patch file, its name and a scratch directory. */
static int prepare_files(struct ovup_plan *p)
{
	p->source = ovup_xstrdup(p->o->patch);
	p->name = p->o->name ? ovup_xstrdup(p->o->name) : name_from_file(p->o->patch);
	if (!valid_name(p->name))
		return ovup_err(-EINVAL, "patch name '%s': use at most 63 letters, digits, '.', '_', "
					 "'-' or '+' (--name)",
				p->name);
	if (access(p->source, R_OK) < 0)
		return ovup_err(-errno, "%s: %s; give the path of a patch file", p->source,
				strerror(errno));
	p->tmp = ovup_tmpdir();
	if (!p->tmp)
		return ovup_err(-errno, "cannot create a temporary directory: %m");
	return 0;
}

/* Steps 1 and 2, timed; resolve counts as part of size. */
static int prepare(struct ovup_plan *p, uint64_t *ns)
{
	uint64_t t0;
	int ret;

	ret = prepare_files(p);
	if (ret)
		return ret;
	t0 = ovup_now_ns();
	ret = ovup_step_labels(p);
	ns[0] = ovup_now_ns() - t0;
	if (ret)
		return ret;
	t0 = ovup_now_ns();
	ret = ovup_step_resolve(p);
	if (!ret)
		ret = ovup_step_size(p);
	if (!ret)
		ret = check_build(p);
	ns[1] = ovup_now_ns() - t0;
	return ret;
}

int ovup_apply(struct ovup_target *t, const struct ovup_apply_opts *o)
{
	struct ovup_plan p;
	uint64_t ns[8] = { 0 }, start = ovup_now_ns(), t0;
	struct ovup_record *dup;
	int ret;

	ovup_plan_init(&p, t, o);
	ret = ovup_records_load(t, &p.rs);
	if (ret)
		goto out;
	{
		char *name = o->name ? ovup_xstrdup(o->name) : name_from_file(o->patch);

		dup = find_record(&p.rs, name);
		if (dup && !o->dry_run)
			ret = ovup_err(-EEXIST, "%s: patch '%s' is already applied (seq %" PRIu64 "); "
						"revert it first or pick another --name",
				       t->desc, name, dup->seq);
		free(name);
		if (ret)
			goto out;
	}
	ret = prepare(&p, ns);
	if (ret)
		goto out;
	/* up to the branch, a signal rolls everything back */
#define STEP(i, call)                                                  \
	do {                                                           \
		ret = ovup_check_signal("nothing was applied");        \
		if (ret)                                               \
			goto out;                                      \
		t0 = ovup_now_ns();                                    \
		ret = (call);                                          \
		ns[i] = ovup_now_ns() - t0;                            \
		if (ret)                                               \
			goto out;                                      \
	} while (0)
	STEP(2, ovup_step_alloc(&p, o->dry_run));
	STEP(3, ovup_step_mapfile(&p));
	STEP(4, ovup_step_link(&p));
	if (!o->dry_run) {
		STEP(5, ovup_step_load(&p));
		STEP(6, ovup_fault("fail-at-protect")
				? ovup_err(-EIO, "fault injected by OVUP_FAULT=fail-at-protect")
				: ovup_step_protect(&p));
		STEP(7, ovup_step_branch(&p));
	}
#undef STEP
	print_plan(&p, o->dry_run, ns, ovup_now_ns() - start);
	if (ovup_verbose && !o->json) {
		size_t i;

		fprintf(stderr, "ovup: timing:");
		for (i = 0; i < 8; i++)
			fprintf(stderr, " %s %.2f ms", step_names[i], (double)ns[i] / 1e6);
		fprintf(stderr, ", pause %.1f us, total %.2f ms\n", (double)p.pause_ns / 1e3,
			(double)(ovup_now_ns() - start) / 1e6);
	}
out:
	ovup_plan_release(&p);
	return ret;
}

/* ---- build ---- */

int ovup_build(struct ovup_target *t, const struct ovup_apply_opts *o, const char *out)
{
	struct ovup_plan p;
	uint64_t ns[8] = { 0 };
	struct ovup_buf rec = { 0 };
	char *recpath = NULL, *output = NULL, *addsec = NULL, hex[2 * OVUP_BUILD_ID_MAX + 1];
	size_t i, k, nfuncs = 0;
	int ret;

	ovup_plan_init(&p, t, o);
	if (t->ops->build_compiles_only) {
		/* a kernel patch is built on a build machine: compile with the
		 * headers' flags now, resolve on the target at apply */
		ret = prepare_files(&p);
		if (ret)
			goto out;
		p.objpath = ovup_xasprintf("%s/patch.o", p.tmp);
		ret = t->ops->compile(t, p.source, p.objpath, o->cflags, o->ncflags);
		if (!ret)
			ret = ovup_elf_obj_read(p.objpath, &p.obj);
		if (!ret) {
			size_t s;

			for (s = 0; s < p.obj.nsyms; s++)
				nfuncs += p.obj.syms[s].defined && p.obj.syms[s].bind != OVUP_BIND_LOCAL &&
					  p.obj.syms[s].type == OVUP_SYM_FUNC;
		}
		if (ret)
			goto out;
	} else {
		ret = prepare(&p, ns);
		if (ret)
			goto out;
		nfuncs = p.nfuncs;
	}
	/* the build record: which binaries the patch was resolved against */
	ovup_buf_printf(&rec, "ovup-build 1\ntarget %s\n", t->ops->kind);
	if (t->release[0])
		ovup_buf_printf(&rec, "kernel-release %s\n", t->release);
	if (t->version[0])
		ovup_buf_printf(&rec, "kernel-version %s\n", t->version);
	for (i = 0; i < p.st.nobjs; i++) {
		const struct ovup_object *ob = &p.st.objs[i];
		int used = 0;

		for (k = 0; k < p.nfuncs; k++)
			used |= p.funcs[k].old->obj == i;
		if (!used || !ob->build_id_len)
			continue;
		ovup_hex(hex, ob->build_id, ob->build_id_len);
		ovup_buf_printf(&rec, "object %s %s\n", ob->path, hex);
	}
	recpath = ovup_xasprintf("%s/build.txt", p.tmp);
	ret = ovup_write_file_atomic(recpath, rec.s, rec.len);
	if (ret) {
		ret = ovup_err(ret, "cannot write %s", recpath);
		goto out;
	}
	addsec = ovup_xasprintf(".ovup.build=%s", recpath);
	{
		char *argv[] = { "objcopy", "--add-section", addsec, "--set-section-flags",
				 ".ovup.build=readonly,contents", p.objpath, (char *)out, NULL };

		ret = ovup_run(argv, &output);
	}
	if (ret) {
		if (output)
			fputs(output, stderr);
		ret = ovup_err(ret < 0 ? ret : -EIO, "%s: objcopy could not write the object", out);
		goto out;
	}
	if (o->json) {
		printf("{\"patch\":");
		print_json_str(p.name);
		printf(",\"output\":");
		print_json_str(out);
		printf(",\"functions\":%zu}\n", nfuncs);
	} else {
		printf("built '%s' for %s: %s (%zu function%s)\n", p.name, t->desc, out, nfuncs,
		       nfuncs == 1 ? "" : "s");
	}
out:
	free(output);
	free(addsec);
	free(recpath);
	ovup_buf_free(&rec);
	ovup_plan_release(&p);
	return ret;
}

/* ---- revert ---- */

int ovup_revert(struct ovup_target *t, const char *name, unsigned retries, int json)
{
	struct ovup_records rs = { 0 };
	struct ovup_record *r, gone;
	struct ovup_block *blk = NULL;
	struct ovup_busy busy;
	size_t i;
	uint64_t start = ovup_now_ns();
	struct ovup_txn res = { 0 };
	int ret;

	ret = ovup_records_load(t, &rs);
	if (ret)
		goto out;
	if (!rs.n) {
		ret = ovup_err(-ENOENT, "%s: nothing to revert: no patch applied by ovup", t->desc);
		goto out;
	}
	r = name ? find_record(&rs, name) : latest(&rs);
	if (!r) {
		struct ovup_buf names = { 0 };

		for (i = 0; i < rs.n; i++)
			ovup_buf_printf(&names, "%s'%s'", i ? ", " : "", rs.r[i].name);
		ret = ovup_err(-ENOENT, "%s: no patch named '%s' (applied: %s)", t->desc, name,
			       names.s);
		ovup_buf_free(&names);
		goto out;
	}
	for (i = 0; i < r->nfuncs; i++) {
		const struct ovup_rec_func *tf = NULL;
		const struct ovup_record *top = ovup_records_top(&rs, r->funcs[i].site, &tf);

		if (top != r) {
			ret = ovup_err(-ENOTEMPTY, "%s: patch '%s' is under patch '%s' on function "
						   "'%s'; revert '%s' first",
				       t->desc, r->name, top->name, r->funcs[i].name, top->name);
			goto out;
		}
	}
	ret = ovup_check_saved(t, &rs, r);
	if (ret)
		goto out;
	ret = ovup_check_signal("nothing was reverted");
	if (ret)
		goto out;
	/* the journal: a run that finds this state settles it; from here
	 * on a signal waits until the revert is done */
	r->state = OVUP_REC_REVERTING;
	ret = ovup_records_save(t, &rs);
	if (ret)
		goto out;
	if (ovup_fault("crash-before-revert"))
		abort(); /* test hook: die with the record saying "reverting" */
	ret = ovup_switch_record(t, r, 1, 0, retries, &i, &res);
	if (ret == -ESTALE) {
		ret = ovup_err(-ESTALE, "%s: function '%s': the branch ovup wrote at 0x%" PRIx64
					" is no longer there (changed by another tool?); not "
					"reverting",
			       t->desc, r->funcs[i].name, r->funcs[i].site);
	}
	if (ret) {
		/* nothing switched: still applied.  A restore that failed
		 * half-way stays "reverting" for the next run to finish. */
		if (!ovup_err_inconsistent()) {
			r->state = OVUP_REC_APPLIED;
			ovup_records_save(t, &rs);
		}
		goto out;
	}
	if (ovup_fault("crash-after-revert"))
		abort(); /* test hook: switched back, the record still says "reverting" */
	gone = *r;
	memmove(r, r + 1, (size_t)(rs.r + rs.n - r - 1) * sizeof(*r));
	rs.n--;
	if (ovup_records_save(t, &rs)) {
		/* reverted, but the record still says "reverting": the next
		 * run drops it, seeing the old bytes at every site */
		ovup_warn("%s", ovup_err_msg() ? ovup_err_msg() : "cannot save the record");
		ovup_err_clear();
	}
	if (!t->ops->keeps_records && gone.nblocks) {
		blk = ovup_xcalloc(gone.nblocks, sizeof(*blk));
		for (i = 0; i < gone.nblocks; i++)
			blk[i] = (struct ovup_block){ gone.blocks[i].addr, gone.blocks[i].size,
						      (enum ovup_block_kind)gone.blocks[i].kind, 0 };
		if (ovup_release(t, blk, gone.nblocks, &busy) == -EBUSY) {
			char why[192];

			ovup_kept_why(&busy, why, sizeof(why));
			ovup_warn("%s: kept the patch's memory at 0x%" PRIx64 " mapped: %s; a later "
				  "ovup run releases it",
				  t->desc, blk[0].addr, why);
		}
	}
	if (json) {
		printf("{\"target\":");
		print_json_str(t->desc);
		printf(",\"reverted\":");
		print_json_str(gone.name);
		printf(",\"pause_ns\":%" PRIu64 ",\"total_ns\":%" PRIu64 ",\"retired\":%" PRIu32
		       ",\"stop\":{\"tasks\":%" PRIu32 ",\"rechecked\":%" PRIu32 "}}\n",
		       res.pause_ns, ovup_now_ns() - start, res.retired, res.stop_tasks,
		       res.stop_rechecked);
	} else {
		printf("reverted '%s' on %s (pause %.0f us)\n", gone.name, t->desc,
		       (double)res.pause_ns / 1e3);
	}
	if (res.retired)
		ovup_note("%s: patch '%s': %" PRIu32 " block(s) of its code retired, not freed: a "
			  "thread may still return into them; they are freed once none can "
			  "('list' shows them)",
			  t->desc, gone.name, res.retired);
	ovup_record_free(&gone);
out:
	free(blk);
	ovup_records_free(&rs);
	return ret;
}

/* ---- list ---- */

static const char *status_of(struct ovup_target *t, const struct ovup_records *rs,
			     const struct ovup_record *r, const struct ovup_rec_func *f)
{
	const struct ovup_record *top = ovup_records_top(rs, f->site, NULL);
	uint8_t cur[16];

	if (top != r)
		return "under a newer patch";
	if (t->ops->read(t, f->site, cur, f->len)) {
		ovup_err_clear();
		return "unreadable";
	}
	return memcmp(cur, f->jump, f->len) ? "CHANGED behind ovup" : "active";
}

/* Names and paths come from the target and from files: a control byte
 * in them must not reach the terminal as one. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = 0;
	return buf;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct ovup_record *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Code a revert left behind, which the target frees once unused. */
static void list_retired(const struct ovup_records *rs, int json)
{
	size_t i;
	char name[192], comm[64];

	if (json)
		printf("],\"retired\":[");
	for (i = 0; i < rs->nretired; i++) {
		const struct ovup_retired_block *b = &rs->retired[i];

		if (json) {
			printf("%s{\"addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"patch\":", i ? "," : "",
			       b->addr, b->size);
			print_json_str(b->patch);
			printf(",\"tid\":%d,\"comm\":", b->busy.tid);
			print_json_str(b->busy.comm);
			printf(",\"at\":%" PRIu64 "}", b->busy.addr);
			continue;
		}
		if (!i)
			printf("retired (freed once no thread can return into them):\n");
		printf("    0x%" PRIx64 "  %" PRIu64 " KiB of reverted patch '%s': thread %d (%s) "
		       "was found in it (at 0x%" PRIx64 ")\n",
		       b->addr, b->size >> 10, printable(b->patch, name, sizeof(name)), b->busy.tid,
		       printable(b->busy.comm, comm, sizeof(comm)), b->busy.addr);
	}
}

int ovup_list(struct ovup_target *t, int json)
{
	struct ovup_records rs = { 0 };
	size_t i, k, j;
	int ret;

	ret = ovup_records_load(t, &rs);
	if (ret)
		return ret;
	qsort(rs.r, rs.n, sizeof(*rs.r), cmp_seq);
	if (json) {
		printf("{\"target\":");
		print_json_str(t->desc);
		printf(",\"patches\":[");
	} else if (!rs.n) {
		printf("%s: no patches applied\n", t->desc);
	} else {
		printf("%s: %zu patch%s applied\n", t->desc, rs.n, rs.n == 1 ? "" : "es");
	}
	for (i = 0; i < rs.n; i++) {
		const struct ovup_record *r = &rs.r[i];
		char when[64];
		time_t tt = (time_t)r->time;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&tt));
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			print_json_str(r->name);
			printf(",\"seq\":%" PRIu64 ",\"time\":%" PRId64 ",\"source\":", r->seq, r->time);
			print_json_str(r->source);
			printf(",\"functions\":[");
		} else {
			char src[512];

			printf("  %s  (seq %" PRIu64 ", %s, from %s)\n", r->name, r->seq, when,
			       printable(r->source, src, sizeof(src)));
		}
		for (k = 0; k < r->nfuncs; k++) {
			const struct ovup_rec_func *f = &r->funcs[k];
			const char *st = status_of(t, &rs, r, f);

			if (json) {
				printf("%s{\"name\":", k ? "," : "");
				print_json_str(f->name);
				printf(",\"object\":");
				print_json_str(f->object);
				printf(",\"old\":%" PRIu64 ",\"new\":%" PRIu64 ",\"status\":", f->old_addr,
				       f->new_addr);
				print_json_str(st);
				printf("}");
			} else {
				char fn[256], obj[256];

				printf("    %-24s %s 0x%" PRIx64 " -> 0x%" PRIx64 "  %s\n",
				       printable(f->name, fn, sizeof(fn)),
				       printable(ovup_basename(f->object), obj, sizeof(obj)), f->old_addr,
				       f->new_addr, st);
			}
		}
		if (json)
			printf("]}");
	}
	/* the stack of every function patched more than once, newest first */
	if (json)
		printf("],\"stacks\":[");
	for (i = 0, j = 0; i < rs.n; i++) {
		for (k = 0; k < rs.r[i].nfuncs; k++) {
			const struct ovup_rec_func *f = &rs.r[i].funcs[k];
			size_t a, b, depth = 0, shown = 0;

			if (ovup_records_top(&rs, f->site, NULL) != &rs.r[i])
				continue;
			for (a = 0; a < rs.n; a++)
				for (b = 0; b < rs.r[a].nfuncs; b++)
					depth += rs.r[a].funcs[b].site == f->site;
			if (depth < 2)
				continue;
			if (json) {
				printf("%s{\"function\":", j ? "," : "");
				print_json_str(f->name);
				printf(",\"patches\":[");
			} else {
				if (!j)
					printf("stacks (newest first):\n");
				printf("    %s:", f->name);
			}
			j++;
			for (a = rs.n; a-- > 0;)
				for (b = 0; b < rs.r[a].nfuncs; b++) {
					if (rs.r[a].funcs[b].site != f->site)
						continue;
					if (json) {
						printf("%s", shown ? "," : "");
						print_json_str(rs.r[a].name);
					} else {
						printf(" %s", rs.r[a].name);
					}
					shown++;
				}
			printf(json ? "]}" : "\n");
		}
	}
	/* memory a revert could not release yet, and what it costs */
	if (json)
		printf("],\"kept\":[");
	for (i = 0; i < rs.nkept; i++) {
		const struct ovup_rec_kept *kb = &rs.kept[i];

		if (json) {
			printf("%s{\"addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"why\":", i ? "," : "",
			       kb->addr, kb->size);
			print_json_str(kb->why);
			printf("}");
			continue;
		}
		if (!i)
			printf("kept (a later run releases it):\n");
		printf("    0x%" PRIx64 "  %" PRIu64 " KiB of %s: %s\n", kb->addr, kb->size >> 10,
		       kb->kind == OVUP_BLOCK_TEXT ? "code" : "data", kb->why);
	}
	list_retired(&rs, json);
	if (json)
		printf("]}\n");
	ovup_records_free(&rs);
	return 0;
}

/* ---- symbols ---- */

static int sym_by_name(const void *a, const void *b)
{
	const struct ovup_sym *x = *(const struct ovup_sym *const *)a;
	const struct ovup_sym *y = *(const struct ovup_sym *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int ovup_symbols(struct ovup_target *t, const char *glob, int json)
{
	struct ovup_symtab st = { 0 };
	const struct ovup_sym **list = NULL;
	size_t i, n = 0, shown = 0;
	int ret;

	ret = t->ops->labels(t, &st);
	if (ret)
		goto out;
	/* the table is ordered by hash; show the matches by name */
	list = ovup_xcalloc(st.nsyms, sizeof(*list));
	for (i = 0; i < st.nsyms; i++)
		if (!glob || !fnmatch(glob, st.syms[i].name, 0))
			list[n++] = &st.syms[i];
	qsort(list, n, sizeof(*list), sym_by_name);
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		const struct ovup_sym *s = list[i];
		const struct ovup_object *o = &st.objs[s->obj];
		const char *kind = s->type == OVUP_SYM_FUNC    ? "func"
				   : s->type == OVUP_SYM_IFUNC ? "ifunc"
							       : "var";
		const char *bind = s->bind == OVUP_BIND_LOCAL ? "static"
				   : s->bind == OVUP_BIND_WEAK ? "weak"
							       : "global";

		if (json) {
			printf("%s{\"name\":", shown ? "," : "");
			print_json_str(s->name);
			printf(",\"addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"kind\":\"%s\",\"bind\":\"%s\""
			       ",\"object\":",
			       s->addr, s->size, kind, bind);
			print_json_str(o->path);
			printf(",\"file\":");
			print_json_str(s->file ? s->file : "");
			printf(",\"pos\":%u}", s->pos);
		} else {
			printf("%016" PRIx64 " %7" PRIu64 " %-5s %-6s %s  %s%s%s", s->addr, s->size, kind,
			       bind, s->name, o->name, s->file ? ":" : "", s->file ? s->file : "");
			if (s->pos > 1)
				printf("#%u", s->pos);
			printf("\n");
		}
		shown++;
	}
	if (json)
		printf("]\n");
	if (!shown && glob && !json)
		fprintf(stderr, "ovup: %s: no symbol matches '%s'\n", t->desc, glob);
out:
	free(list);
	ovup_symtab_free(&st);
	return ret;
}
