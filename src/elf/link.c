// SPDX-License-Identifier: MIT
/*
 * ovup's own link of a patch object: the layout the mapfile gives ld
 * (core/mapfile.c), done in this process.  Each input section goes to the
 * first output section whose patterns match its name, in the mapfile's
 * order, aligned as ld aligns it; the GOT gets one slot per symbol the
 * code reaches through it; every relocation of a placed section is
 * applied.  What ld would do differently or refuse -- an orphan section, a
 * group, a common or undefined symbol, a relocation type not listed here,
 * a value out of range -- is not guessed at: the link returns -EOPNOTSUPP
 * with the reason, and the caller runs ld.  The one liberty taken: ld
 * merges equal strings and constants of SHF_MERGE sections, this link
 * copies them as they are (the same values, a few more bytes).
 */
#define _GNU_SOURCE
#include "elf.h"
#include "elf_internal.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BLK_TEXT, BLK_RO, BLK_RW };

struct osec {
	const char *name;
	const char *pat[3]; /* input section name patterns */
	int blk, synth;     /* synth: the GOT or the TLS slots, made here */
	uint64_t addr, size, align, flags;
	int nobits, used;
	uint8_t *data;
};

struct isec {
	const char *name;
	GElf_Shdr sh;
	Elf_Data *d;
	int out; /* index into osecs, -1: not placed */
	uint64_t addr;
};

struct lk {
	Elf *e;
	const struct ovup_link_in *in;
	struct isec *is;
	size_t nis;
	struct osec *os;
	size_t nos, got, tpoff, plt; /* indexes of the two made sections, and the PLT */
	GElf_Sym *syms;
	const char **symnames;
	size_t nsyms;
	uint64_t *symval;
	int *symok;
	long *gotslot; /* per symbol: its GOT slot, or -1 */
	size_t ngot;
	char *why;
	size_t whylen;
	void *ctx; /* each_rela's callbacks' own */
	int skewed;
};

static int unsupported(struct lk *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, l->whylen, fmt, ap);
	va_end(ap);
	return -EOPNOTSUPP;
}

static void add_os(struct lk *l, const char *name, int blk, const char *p0, const char *p1,
		   const char *p2)
{
	struct osec *o;

	l->os = ovup_xrealloc(l->os, (l->nos + 1) * sizeof(*l->os));
	o = &l->os[l->nos++];
	memset(o, 0, sizeof(*o));
	o->name = name;
	o->blk = blk;
	o->pat[0] = p0;
	o->pat[1] = p1;
	o->pat[2] = p2;
	o->align = 1;
}

/* The output sections of the mapfile, in its order. */
static void output_sections(struct lk *l)
{
	const char *const *k;

	add_os(l, ".text", BLK_TEXT, ".text", ".text.*", NULL);
	for (k = l->in->keep_text; k && *k; k++)
		add_os(l, *k, BLK_TEXT, *k, NULL, NULL);
	l->plt = l->nos;
	add_os(l, ".plt", BLK_TEXT, ".plt", ".iplt", NULL);
	add_os(l, ".rodata", BLK_RO, ".rodata", ".rodata.*", NULL);
	for (k = l->in->keep_ro; k && *k; k++)
		add_os(l, *k, BLK_RO, *k, NULL, NULL);
	add_os(l, ".data.rel.ro", BLK_RO, ".data.rel.ro", ".data.rel.ro.*", NULL);
	l->got = l->nos;
	add_os(l, ".got", BLK_RO, ".got", ".igot", NULL);
	l->os[l->got].synth = 1;
	add_os(l, ".got.plt", BLK_RO, ".got.plt", ".igot.plt", NULL);
	l->tpoff = l->nos;
	add_os(l, ".got.tpoff", BLK_RO, NULL, NULL, NULL);
	l->os[l->tpoff].synth = 1;
	add_os(l, ".data", BLK_RW, ".data", ".data.*", NULL);
	add_os(l, ".bss", BLK_RW, ".bss", ".bss.*", NULL);
}

static int matches(const char *name, const char *pat)
{
	return pat && !fnmatch(pat, name, 0);
}

/* What the mapfile discards: never loaded, its relocations ignored. */
static int discarded(const struct lk *l, const char *name)
{
	static const char *const always[] = { ".comment",  ".note",          ".note.*",
					      ".eh_frame", ".eh_frame_hdr",  ".ovup.*",
					      ".debug_*",  ".gnu.debuglto_*" };
	const char *const *k;
	size_t i;

	for (i = 0; i < OVUP_ARRAY_SIZE(always); i++)
		if (matches(name, always[i]))
			return 1;
	for (k = l->in->discard; k && *k; k++)
		if (matches(name, *k))
			return 1;
	return 0;
}

/* Each input section to its output section: the first whose patterns
 * match, as ld assigns them; /DISCARD/ last. */
static int assign(struct lk *l)
{
	size_t shstrndx, n, i, k;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(l->e, &shstrndx) || elf_getshdrnum(l->e, &n))
		return unsupported(l, "no section headers");
	l->is = ovup_xcalloc(n, sizeof(*l->is));
	l->nis = n;
	while ((scn = elf_nextscn(l->e, scn))) {
		struct isec *s = &l->is[elf_ndxscn(scn)];
		const char *name;

		s->out = -1;
		if (!gelf_getshdr(scn, &s->sh))
			return unsupported(l, "an unreadable section header");
		name = elf_strptr(l->e, shstrndx, s->sh.sh_name);
		s->name = name ? name : "";
		switch (s->sh.sh_type) {
		case SHT_SYMTAB:
		case SHT_STRTAB:
		case SHT_RELA:
		case SHT_NULL:
			continue;
		case SHT_PROGBITS:
		case SHT_NOBITS:
		case SHT_NOTE:
			break;
		default:
			return unsupported(l, "section %s of type %u", s->name,
					   (unsigned)s->sh.sh_type);
		}
		if (s->sh.sh_flags & SHF_GROUP)
			return unsupported(l, "section %s is in a group", s->name);
		for (i = 0; i < l->nos && s->out < 0; i++)
			for (k = 0; k < 3 && s->out < 0; k++)
				if (!l->os[i].synth && matches(s->name, l->os[i].pat[k]))
					s->out = (int)i;
		if (s->out < 0 && !discarded(l, s->name))
			return unsupported(l, "section %s is in no output section (an orphan)",
					   s->name);
		if (s->out >= 0 && !(s->sh.sh_flags & SHF_ALLOC))
			return unsupported(l, "section %s is not allocated", s->name);
		if (s->out >= 0 && s->sh.sh_type != SHT_NOBITS &&
		    !(s->d = elf_getdata(scn, NULL)) && s->sh.sh_size)
			return unsupported(l, "section %s cannot be read", s->name);
	}
	return 0;
}

static int read_symbols(struct lk *l)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t i;

	while ((scn = elf_nextscn(l->e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB && sh.sh_entsize)
			break;
	if (!scn || !(d = elf_getdata(scn, NULL)))
		return unsupported(l, "no symbol table");
	l->nsyms = sh.sh_size / sh.sh_entsize;
	l->syms = ovup_xcalloc(l->nsyms + 1, sizeof(*l->syms));
	l->symnames = ovup_xcalloc(l->nsyms + 1, sizeof(*l->symnames));
	l->symval = ovup_xcalloc(l->nsyms + 1, sizeof(*l->symval));
	l->symok = ovup_xcalloc(l->nsyms + 1, sizeof(*l->symok));
	l->gotslot = ovup_xcalloc(l->nsyms + 1, sizeof(*l->gotslot));
	for (i = 0; i < l->nsyms; i++) {
		const char *name;

		l->gotslot[i] = -1;
		if (!gelf_getsym(d, (int)i, &l->syms[i]))
			return unsupported(l, "an unreadable symbol");
		name = elf_strptr(l->e, sh.sh_link, l->syms[i].st_name);
		l->symnames[i] = name ? name : "";
	}
	return 0;
}

/* Each output section's place and size: ld's rules for a location
 * counter set at each block's base, the output section aligned to its
 * largest input alignment, each input section to its own. */
static int lay_out(struct lk *l)
{
	uint64_t dot[3] = { l->in->text_base, l->in->ro_base, l->in->rw_base };
	size_t i, k;

	for (i = 0; i < l->nos; i++) {
		struct osec *o = &l->os[i];
		uint64_t *d = &dot[o->blk];

		for (k = 0; k < l->nis; k++)
			if (l->is[k].out == (int)i) {
				o->align = OVUP_MAX(o->align, l->is[k].sh.sh_addralign);
				o->used = 1;
			}
		if (i == l->got && l->ngot) {
			o->align = 8;
			o->used = 1;
			o->flags = SHF_ALLOC | SHF_WRITE;
		}
		if (i == l->tpoff && l->in->ntls)
			o->used = 1;
		if (!o->used)
			continue;
		if (o->align & (o->align - 1))
			return unsupported(l, "section %s: alignment %" PRIu64, o->name, o->align);
		*d = OVUP_ALIGN_UP(*d, o->align);
		o->addr = *d;
		o->nobits = 1;
		for (k = 0; k < l->nis; k++) {
			struct isec *s = &l->is[k];

			if (s->out != (int)i)
				continue;
			*d = OVUP_ALIGN_UP(*d, s->sh.sh_addralign ? s->sh.sh_addralign : 1);
			s->addr = *d;
			*d += s->sh.sh_size;
			o->flags |= s->sh.sh_flags & (SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR);
			o->nobits &= s->sh.sh_type == SHT_NOBITS;
		}
		if (i == l->got)
			*d += 8 * l->ngot, o->nobits = 0;
		if (i == l->tpoff)
			*d += 8 * l->in->ntls, o->nobits = 0, o->flags = SHF_ALLOC;
		o->size = *d - o->addr;
		if (o->nobits && o->blk != BLK_RW)
			return unsupported(l, "section %s has no bits outside the data", o->name);
	}
	if (l->os[l->plt].used && l->os[l->plt].size)
		return unsupported(l, "the object has a PLT");
	if (dot[BLK_RO] > l->in->rw_base && l->in->rw_base > l->in->ro_base)
		return unsupported(l, "read-only data runs into the writable data");
	return 0;
}

/* Each symbol's final value; an undefined one from the labels. */
static int resolve(struct lk *l)
{
	size_t i, k;

	for (i = 1; i < l->nsyms; i++) {
		const GElf_Sym *s = &l->syms[i];
		const char *name = l->symnames[i];

		if (s->st_shndx == SHN_UNDEF) {
			for (k = 0; k < l->in->nlabels && strcmp(l->in->labels[k].name, name); k++)
				;
			if (k < l->in->nlabels) {
				l->symval[i] = l->in->labels[k].addr;
				l->symok[i] = 1;
			}
			/* a thread-local one is its slot (GOTTPOFF below) */
			continue;
		}
		if (s->st_shndx == SHN_ABS) {
			l->symval[i] = s->st_value;
			l->symok[i] = 1;
		} else if (s->st_shndx == SHN_COMMON || s->st_shndx >= SHN_LORESERVE) {
			return unsupported(l, "symbol %s is common", name);
		} else if (s->st_shndx < l->nis && l->is[s->st_shndx].out >= 0) {
			l->symval[i] = l->is[s->st_shndx].addr + s->st_value;
			l->symok[i] = 1;
		}
	}
	return 0;
}

static int is_got(unsigned type)
{
	return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX;
}

/* Calls fn for every relocation of a placed section. */
static int each_rela(struct lk *l, int (*fn)(struct lk *, struct isec *, const GElf_Rela *))
{
	Elf_Scn *scn = NULL;
	int ret = 0;

	while (!ret && (scn = elf_nextscn(l->e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t k, n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_REL)
			return unsupported(l, "REL relocations");
		if (sh.sh_type != SHT_RELA || !sh.sh_entsize || sh.sh_info >= l->nis ||
		    l->is[sh.sh_info].out < 0)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (k = 0; !ret && d && k < n; k++) {
			GElf_Rela r;

			if (!gelf_getrela(d, (int)k, &r))
				return unsupported(l, "an unreadable relocation");
			if (GELF_R_SYM(r.r_info) >= l->nsyms)
				return unsupported(l, "a relocation of no symbol");
			ret = fn(l, &l->is[sh.sh_info], &r);
		}
	}
	return ret;
}

static int count_got(struct lk *l, struct isec *s, const GElf_Rela *r)
{
	size_t sym = GELF_R_SYM(r->r_info);

	(void)s;
	if (is_got((unsigned)GELF_R_TYPE(r->r_info)) && l->gotslot[sym] < 0)
		l->gotslot[sym] = (long)l->ngot++;
	return 0;
}

static long tls_slot(const struct lk *l, const char *name)
{
	size_t k;

	for (k = 0; k < l->in->ntls; k++)
		if (!strcmp(l->in->tls[k].name, name))
			return (long)k;
	return -1;
}

static int apply_rela(struct lk *l, struct isec *s, const GElf_Rela *r)
{
	unsigned type = (unsigned)GELF_R_TYPE(r->r_info);
	size_t sym = GELF_R_SYM(r->r_info);
	const char *name = l->symnames[sym];
	struct osec *o = &l->os[s->out];
	uint64_t P = s->addr + r->r_offset, S = l->symval[sym], v;
	int64_t A = r->r_addend;
	int width = type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
	uint8_t *field;
	long t;

	if (type == R_X86_64_NONE)
		return 0;
	if (s->sh.sh_type == SHT_NOBITS || r->r_offset + (uint64_t)width > s->sh.sh_size)
		return unsupported(l, "a relocation outside section %s", s->name);
	if (type == R_X86_64_GOTTPOFF) {
		if ((t = tls_slot(l, name)) < 0)
			return unsupported(
				l, "an initial-exec access of %s, no variable of the target", name);
		S = l->os[l->tpoff].addr + 8 * (uint64_t)t;
	} else if (!l->symok[sym]) {
		return unsupported(l, "symbol %s is undefined or discarded", name);
	}
	switch (type) {
	case R_X86_64_64:
		v = S + (uint64_t)A;
		break;
	case R_X86_64_PC64:
		v = S + (uint64_t)A - P;
		break;
	case R_X86_64_32:
		v = S + (uint64_t)A;
		if (v > UINT32_MAX)
			return unsupported(l, "R_X86_64_32 of %s out of range", name);
		break;
	case R_X86_64_32S:
		v = S + (uint64_t)A;
		if ((int64_t)v != (int32_t)v)
			return unsupported(l, "R_X86_64_32S of %s out of range", name);
		break;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_GOTTPOFF:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		if (is_got(type))
			S = l->os[l->got].addr + 8 * (uint64_t)l->gotslot[sym];
		v = S + (uint64_t)A - P;
		if ((int64_t)v != (int32_t)v)
			return unsupported(l, "a PC-relative relocation of %s out of range", name);
		break;
	default:
		return unsupported(l, "relocation type %u (of %s)", type, name);
	}
	/* tests: one field off by one, which OVUP_LINK=both must catch */
	if (ovup_fault("link-skew") && !l->skewed++)
		v++;
	field = o->data + (P - o->addr);
	memcpy(field, &v, (size_t)width); /* little-endian: the low bytes */
	return 0;
}

/* Output bytes: the input sections copied, the GOT and TLS slots
 * filled, then the relocations. */
static int fill(struct lk *l)
{
	size_t i;

	for (i = 0; i < l->nos; i++)
		if (l->os[i].used && !l->os[i].nobits)
			l->os[i].data = ovup_xcalloc(1, l->os[i].size ? l->os[i].size : 1);
	for (i = 0; i < l->nis; i++) {
		const struct isec *s = &l->is[i];
		struct osec *o;

		if (s->out < 0 || s->sh.sh_type == SHT_NOBITS || !s->d || !s->d->d_buf)
			continue;
		o = &l->os[s->out];
		memcpy(o->data + (s->addr - o->addr), s->d->d_buf,
		       OVUP_MIN(s->d->d_size, s->sh.sh_size));
	}
	for (i = 0; i < l->nsyms; i++) {
		if (l->gotslot[i] < 0)
			continue;
		if (!l->symok[i])
			return unsupported(l, "symbol %s is undefined", l->symnames[i]);
		memcpy(l->os[l->got].data + 8 * l->gotslot[i], &l->symval[i], 8);
	}
	for (i = 0; i < l->in->ntls; i++)
		memcpy(l->os[l->tpoff].data + 8 * i, &l->in->tls[i].addr, 8);
	return each_rela(l, apply_rela);
}

static void img_sym(struct ovup_img *img, const char *name, uint64_t value, uint64_t size,
		    enum ovup_sym_type type, enum ovup_sym_bind bind)
{
	struct ovup_img_sym *y;

	img->syms = ovup_xrealloc(img->syms, (img->nsyms + 1) * sizeof(*img->syms));
	y = &img->syms[img->nsyms++];
	y->name = ovup_xstrdup(name);
	y->value = value;
	y->size = size;
	y->type = type;
	y->bind = bind;
}

/* The image: the used output sections, and the symbols ld's output would
 * have (the object's, the labels, the TLS slots). */
static void make_image(struct lk *l, struct ovup_img *img)
{
	size_t i;

	memset(img, 0, sizeof(*img));
	img->secs = ovup_xcalloc(l->nos, sizeof(*img->secs));
	for (i = 0; i < l->nos; i++) {
		struct osec *o = &l->os[i];
		struct ovup_img_sec *s;

		if (!o->used || !o->size)
			continue;
		s = &img->secs[img->nsecs++];
		s->name = ovup_xstrdup(o->name);
		s->addr = o->addr;
		s->size = o->size;
		s->flags = o->flags;
		s->nobits = o->nobits;
		s->data = o->data;
		o->data = NULL;
	}
	for (i = 1; i < l->nsyms; i++) {
		const GElf_Sym *s = &l->syms[i];
		unsigned char t = GELF_ST_TYPE(s->st_info);

		if (!*l->symnames[i] || s->st_shndx == SHN_UNDEF || !l->symok[i] ||
		    t == STT_SECTION || t == STT_FILE)
			continue;
		img_sym(img, l->symnames[i], l->symval[i], s->st_size,
			ovup_elf_sym_type(s->st_info), ovup_elf_sym_bind(s->st_info));
	}
	for (i = 0; i < l->in->nlabels; i++)
		img_sym(img, l->in->labels[i].name, l->in->labels[i].addr, 0, OVUP_SYM_OTHER,
			OVUP_BIND_GLOBAL);
	for (i = 0; i < l->in->ntls; i++)
		img_sym(img, l->in->tls[i].name, l->os[l->tpoff].addr + 8 * i, 0, OVUP_SYM_OTHER,
			OVUP_BIND_GLOBAL);
}

static void lk_free(struct lk *l)
{
	size_t i;

	for (i = 0; i < l->nos; i++)
		free(l->os[i].data);
	free(l->os);
	free(l->is);
	free(l->syms);
	free(l->symnames);
	free(l->symval);
	free(l->symok);
	free(l->gotslot);
	if (l->e)
		elf_end(l->e);
}

/* The object laid out as the mapfile says: each section in its output
 * section and placed, the symbols read and given their values, the GOT
 * counted.  0, or -EOPNOTSUPP with the reason, or -errno. */
static int lk_layout(struct lk *l, const char *obj, int *fd)
{
	GElf_Ehdr eh;
	int ret;

	output_sections(l);
	*fd = open(obj, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	l->e = ovup_elf_open(*fd);
	if (!l->e || !gelf_getehdr(l->e, &eh) || eh.e_type != ET_REL || eh.e_machine != EM_X86_64 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return unsupported(l, "not an x86-64 relocatable object");
	ret = assign(l);
	if (!ret)
		ret = read_symbols(l);
	if (!ret)
		ret = each_rela(l, count_got);
	if (!ret)
		ret = lay_out(l);
	if (!ret)
		ret = resolve(l);
	return ret;
}

int ovup_elf_link(const char *obj, const struct ovup_link_in *in, struct ovup_img *img, char *why,
		  size_t whylen)
{
	struct lk l = { .in = in, .why = why, .whylen = whylen };
	int fd = -1, ret;

	memset(img, 0, sizeof(*img));
	why[0] = 0;
	ret = lk_layout(&l, obj, &fd);
	if (!ret)
		ret = fill(&l);
	if (!ret)
		make_image(&l, img);
	lk_free(&l);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- the comparison with ld's image (OVUP_LINK=both) ---- */

struct field {
	size_t sec;
	uint64_t off;
	int width;
};

struct cmp {
	struct lk *l;
	const struct ovup_img *img[2]; /* this link's, ld's */
	struct field *fields;
	size_t nfields, nrel, uncovered;
	int bad;
	char *why;
	size_t whylen;
};

static const char *const who[2] = { "ovup", "ld" };

static int img_read(const struct ovup_img *m, uint64_t a, void *buf, size_t n)
{
	size_t i;

	for (i = 0; i < m->nsecs; i++) {
		const struct ovup_img_sec *s = &m->secs[i];

		if (a >= s->addr && a + n <= s->addr + s->size && a + n >= a) {
			if (s->nobits)
				memset(buf, 0, n);
			else
				memcpy(buf, s->data + (a - s->addr), n);
			return 0;
		}
	}
	return -1;
}

static int is_label(const struct lk *l, const char *name)
{
	size_t k;

	for (k = 0; k < l->in->nlabels; k++)
		if (!strcmp(l->in->labels[k].name, name))
			return 1;
	for (k = 0; k < l->in->ntls; k++)
		if (!strcmp(l->in->tls[k].name, name))
			return 1;
	return 0;
}

static const struct ovup_img_sym *img_find(const struct lk *l, const struct ovup_img *m,
					   const char *name)
{
	size_t i;

	for (i = 0; i < m->nsyms; i++)
		if (!strcmp(m->syms[i].name, name) && !is_label(l, name))
			return &m->syms[i];
	return NULL;
}

/* What address a is in image x: a label, a place in one of the object's
 * symbols, or else a place in an output section. */
static void meaning(const struct cmp *c, int x, uint64_t a, char *buf, size_t len)
{
	const struct ovup_img *m = c->img[x];
	const struct ovup_img_sym *best = NULL;
	size_t i;

	for (i = 0; i < c->l->in->nlabels; i++)
		if (c->l->in->labels[i].addr == a) {
			snprintf(buf, len, "label %s", c->l->in->labels[i].name);
			return;
		}
	for (i = 0; i < m->nsyms; i++) {
		const struct ovup_img_sym *y = &m->syms[i];

		if (is_label(c->l, y->name) || a < y->value ||
		    (y->size ? a >= y->value + y->size : a != y->value))
			continue;
		if (!best || (y->size && !best->size))
			best = y;
	}
	if (best) {
		snprintf(buf, len, "%s+0x%" PRIx64, best->name, a - best->value);
		return;
	}
	for (i = 0; i < m->nsecs; i++)
		if (a >= m->secs[i].addr && a < m->secs[i].addr + m->secs[i].size) {
			snprintf(buf, len, "%s+0x%" PRIx64, m->secs[i].name, a - m->secs[i].addr);
			return;
		}
	snprintf(buf, len, "0x%" PRIx64 " (nowhere)", a);
}

/* The bytes of a merged constant at a: a string to its NUL, or entsize. */
static void content(const struct cmp *c, int x, uint64_t a, const GElf_Shdr *sh, char *buf,
		    size_t len)
{
	size_t n = 0, max = sh->sh_flags & SHF_STRINGS ? 200 : OVUP_MIN(sh->sh_entsize, 64);
	uint8_t b;

	n = (size_t)snprintf(buf, len, "bytes");
	for (; max-- && n + 4 < len && !img_read(c->img[x], a++, &b, 1);) {
		n += (size_t)snprintf(buf + n, len - n, " %02x", b);
		if (!b && (sh->sh_flags & SHF_STRINGS))
			break;
	}
}

/* The object's function or variable holding offset off of section sec. */
static long covering(const struct lk *l, size_t sec, uint64_t off)
{
	size_t i;

	for (i = 1; i < l->nsyms; i++) {
		const GElf_Sym *s = &l->syms[i];
		unsigned char t = GELF_ST_TYPE(s->st_info);

		if (s->st_shndx == sec && (t == STT_FUNC || t == STT_OBJECT) && *l->symnames[i] &&
		    off >= s->st_value && off < s->st_value + s->st_size)
			return (long)i;
	}
	return -1;
}

static int differ(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++)
		return 0;
	va_start(ap, fmt);
	vsnprintf(c->why, c->whylen, fmt, ap);
	va_end(ap);
	return 0;
}

static int cmp_rela(struct lk *l, struct isec *s, const GElf_Rela *r)
{
	struct cmp *c = l->ctx;
	unsigned type = (unsigned)GELF_R_TYPE(r->r_info);
	const GElf_Sym *rs = &l->syms[GELF_R_SYM(r->r_info)];
	size_t sec = (size_t)(s - l->is);
	int width = type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
	int pcrel = type != R_X86_64_64 && type != R_X86_64_32 && type != R_X86_64_32S;
	long cs = covering(l, sec, r->r_offset);
	char what[2][320];
	int x;

	if (type == R_X86_64_NONE)
		return 0;
	c->nrel++;
	c->fields = ovup_xrealloc(c->fields, (c->nfields + 1) * sizeof(*c->fields));
	c->fields[c->nfields++] = (struct field){ sec, r->r_offset, width };
	if (cs < 0) {
		c->uncovered++;
		return 0;
	}
	for (x = 0; x < 2; x++) {
		const struct ovup_img_sym *y = img_find(l, c->img[x], l->symnames[cs]);
		uint64_t P, T, v = 0;
		int64_t f = 0;

		if (!y)
			return differ(c, "%s: %s is not in %s's image", s->name, l->symnames[cs],
				      who[x]);
		P = y->value + (r->r_offset - l->syms[cs].st_value);
		if (img_read(c->img[x], P, &v, (size_t)width))
			return differ(c, "%s: %s+0x%" PRIx64 " is outside %s's image", s->name,
				      l->symnames[cs], r->r_offset - l->syms[cs].st_value, who[x]);
		f = width == 8            ? (int64_t)v
		    : type == R_X86_64_32 ? (int64_t)(uint32_t)v
					  : (int64_t)(int32_t)v;
		T = (uint64_t)f + (pcrel ? P : 0); /* = S + A */
		if (type == R_X86_64_GOTTPOFF || is_got(type)) {
			uint64_t slot = 0;
			char m[256];

			if (img_read(c->img[x], T - (uint64_t)r->r_addend, &slot, 8))
				return differ(c, "%s: a slot outside %s's image", s->name, who[x]);
			if (type == R_X86_64_GOTTPOFF)
				snprintf(m, sizeof(m), "0x%" PRIx64, slot);
			else
				meaning(c, x, slot, m, sizeof(m));
			snprintf(what[x], sizeof(what[x]), "%s slot of %s",
				 type == R_X86_64_GOTTPOFF ? "TLS" : "GOT", m);
		} else if (rs->st_shndx < l->nis && rs->st_shndx != SHN_UNDEF &&
			   (l->is[rs->st_shndx].sh.sh_flags & SHF_MERGE)) {
			/* merged: a section symbol means the constant at its
			 * addend, another the constant at the symbol */
			uint64_t at = GELF_ST_TYPE(rs->st_info) == STT_SECTION
					      ? T
					      : T - (uint64_t)r->r_addend;

			content(c, x, at, &l->is[rs->st_shndx].sh, what[x], sizeof(what[x]));
		} else {
			meaning(c, x, T - (uint64_t)r->r_addend, what[x], sizeof(what[x]));
		}
	}
	if (strcmp(what[0], what[1]))
		return differ(c, "%s+0x%" PRIx64 " (type %u, in %s): ovup's reaches %s, ld's %s",
			      s->name, r->r_offset, type, l->symnames[cs], what[0], what[1]);
	return 0;
}

/* Every byte of the object's functions and variables that no relocation
 * wrote, equal in both images. */
static void cmp_bytes(struct cmp *c)
{
	const struct lk *l = c->l;
	size_t i, k;

	for (i = 1; i < l->nsyms; i++) {
		const GElf_Sym *s = &l->syms[i];
		unsigned char t = GELF_ST_TYPE(s->st_info);
		const struct ovup_img_sym *y[2];
		uint8_t *b[2];
		int x;

		if ((t != STT_FUNC && t != STT_OBJECT) || !s->st_size || !*l->symnames[i] ||
		    s->st_shndx >= l->nis || l->is[s->st_shndx].out < 0 ||
		    (l->is[s->st_shndx].sh.sh_flags & SHF_MERGE))
			continue;
		for (x = 0; x < 2; x++) {
			y[x] = img_find(l, c->img[x], l->symnames[i]);
			b[x] = ovup_xcalloc(1, s->st_size);
			if (!y[x] || img_read(c->img[x], y[x]->value, b[x], s->st_size))
				differ(c, "%s is not whole in %s's image", l->symnames[i], who[x]);
		}
		for (k = 0; k < c->nfields; k++) {
			const struct field *f = &c->fields[k];
			uint64_t lo = f->off, hi = f->off + (uint64_t)f->width, j;

			if (f->sec != s->st_shndx || hi <= s->st_value ||
			    lo >= s->st_value + s->st_size)
				continue;
			for (j = OVUP_MAX(lo, s->st_value);
			     j < OVUP_MIN(hi, s->st_value + s->st_size); j++)
				b[0][j - s->st_value] = b[1][j - s->st_value] = 0;
		}
		if (memcmp(b[0], b[1], s->st_size))
			differ(c, "%s: its bytes differ between ovup's and ld's images",
			       l->symnames[i]);
		free(b[0]);
		free(b[1]);
	}
}

int ovup_elf_link_compare(const char *obj, const struct ovup_link_in *in,
			  const struct ovup_img *mine, const struct ovup_img *ld, char *why,
			  size_t whylen)
{
	struct cmp c = { .img = { mine, ld }, .why = why, .whylen = whylen };
	struct lk l = { .in = in, .why = why, .whylen = whylen };
	int fd = -1, ret;

	why[0] = 0;
	/* this link's layout of the object, as it made mine */
	ret = lk_layout(&l, obj, &fd);
	if (!ret) {
		c.l = &l;
		l.ctx = &c;
		ret = each_rela(&l, cmp_rela);
	}
	if (!ret)
		cmp_bytes(&c);
	if (!ret && c.uncovered)
		differ(&c,
		       "%zu of %zu relocated fields lie in no function or variable of the object",
		       c.uncovered, c.nrel);
	if (!ret && c.bad)
		ret = -EINVAL;
	if (!ret)
		snprintf(why, whylen, "%zu relocated fields, the same", c.nrel);
	free(c.fields);
	lk_free(&l);
	if (fd >= 0)
		close(fd);
	return ret;
}
