#!/bin/bash
# ovup's own link (src/elf/link.c) against ld's, with the same mapfile:
# OVUP_LINK=both links every patch both ways and refuses to go on unless
# each relocated field reaches the same label, GOT slot, string or place,
# and every other byte is the same.  Patches with every kind of section
# and relocation a patch has; one ovup's link leaves to ld; and a skewed
# field that the comparison must catch.
. "$(dirname "$0")/lib.sh"
unset OVUP_LINK

start_victim v "$V/victim-pie"
c3=$(ask v call compute 3)
c2=$(ask v call compute 2)

patch rich <<'P'
#include <ovup.h>
#include <stdio.h>
#include <string.h>
static int calls;                                        /* .bss */
static int base = 7;                                     /* .data */
static const char *const names[] = { "foobar", "bar" };  /* pointers to strings ld merges */
static int twice(int v) { return 2 * v; }
static int (*const ops[])(int) = { twice };              /* a function pointer */
static char buf[32];
int compute(int x)
{
	calls++;
	snprintf(buf, sizeof(buf), "%s", names[x & 1]);    /* libc through the GOT */
	return ops[0](OVUP_ORIG(compute)(x)) + (int)strlen(buf) * 1000 + base - 7 + calls * 0;
}
P
OVUP_LINK=both run_ovup apply -v -p "$VPID" "$WORK/rich.c"
is "$RC" 0 "strings, pointers, a function table, libc, OVUP_ORIG: both links applied"
like "$ERR" "OVUP_LINK=both: ovup's link and ld's agree: [0-9]+ relocated fields, the same" \
	"... and they agree"
is "$(ask v call compute 3)" "$((2 * c3 + 3000))" "compute(3): twice the old one, plus strlen(\"bar\") * 1000"
is "$(ask v call compute 2)" "$((2 * c2 + 6000))" "compute(2): the same with \"foobar\""
run_ovup revert -p "$VPID"

# the same patch, linked only by ovup (the default): the same results
before=$(strace -f -qq -e trace=execve -o "$WORK/trace" "$OVUP" apply -p "$VPID" "$WORK/rich.c" 2>&1)
is "$(ask v call compute 3).$(ask v call compute 2)" "$((2 * c3 + 3000)).$((2 * c2 + 6000))" \
	"linked by ovup alone: the same results"
is "$(grep -c 'execve("[^"]*/ld",.* = 0$' "$WORK/trace")" 0 "... and no ld was run"
run_ovup revert -p "$VPID"
OVUP_LINK=ld strace -f -qq -e trace=execve -o "$WORK/trace" "$OVUP" apply -p "$VPID" "$WORK/rich.c" >/dev/null 2>&1
is "$(grep -c 'execve("[^"]*/ld",.* = 0$' "$WORK/trace")" 1 "OVUP_LINK=ld: ld links, once"
is "$(ask v call compute 3)" "$((2 * c3 + 3000))" "... to the same effect"
run_ovup revert -p "$VPID"

# thread-local variables: the initial-exec slots
patch tls <<'P'
extern __thread int tls_exe;
extern __thread int lib_tls;
int tls_get(int x)
{
	tls_exe += x;
	lib_tls += 1;
	return tls_exe * 1000 + lib_tls;
}
P
OVUP_LINK=both run_ovup apply -v -p "$VPID" "$WORK/tls.c"
is "$RC" 0 "thread-local variables: applied"
like "$ERR" "ovup's link and ld's agree" "... both links agree"
run_ovup revert -p "$VPID"

# other code from other flags: -O0, debug sections (their relocations
# are not applied: the sections are dropped), -Os, -O3
patch plain <<'P'
#include <string.h>
static const char msg[] = "a constant string";
int compute(int x) { return x * 1000 + (int)strlen(msg); }
P
for flags in -O0 "-g -O1" -Os "-O3 -funroll-loops"; do
	# shellcheck disable=SC2086
	OVUP_LINK=both run_ovup apply -v -p "$VPID" "$WORK/plain.c" -- $flags
	is "$RC" 0 "compiled with $flags: applied"
	like "$ERR" "ovup's link and ld's agree" "... both links agree"
	is "$(ask v call compute 3)" 3017 "... compute(3) = 3017"
	run_ovup revert -p "$VPID"
done

# code ovup's link does not take: ld links it, with ld's word on it
before=$(snap "$VPID")
run_ovup apply -v -p "$VPID" "$WORK/plain.c" -- -fno-pic -mcmodel=small
is "$RC" 1 "absolute 32-bit addresses of a high label: refused"
like "$ERR" "linked by ld: ovup's link does not do R_X86_64_32S? of .* out of range" \
	"... -v: ovup's link left it to ld"
like "$ERR" "relocation truncated to fit" "... and ld's own message is shown"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"

# the comparison is not empty: one field off by one is caught
before=$(snap "$VPID")
OVUP_FAULT=link-skew OVUP_LINK=both run_ovup apply -p "$VPID" "$WORK/rich.c"
is "$RC" 1 "one relocated field off by one (OVUP_FAULT=link-skew): refused"
like "$ERR" "ovup's link and ld's differ: .*compute.*ovup's reaches .*, ld's " \
	"... naming the field and what each link reaches"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
stop_victim v

# a Debian library's function: zlib's, calling libc
start_victim z "$V/zvictim"
patch zerr <<'P'
#include <string.h>
#include <zlib.h>
const char *zError(int err)
{
	static char buf[64];
	const char *w = err == Z_DATA_ERROR ? "data error (patched)" : "other (patched)";

	memcpy(buf, w, strlen(w) + 1);
	return buf;
}
P
OVUP_LINK=both run_ovup apply -v -p "$VPID" "$WORK/zerr.c"
is "$RC" 0 "a zlib function calling libc: applied"
like "$ERR" "ovup's link and ld's agree" "... both links agree"
is "$(ask z zerror -3)" "data error (patched)" "... and it runs"
run_ovup revert -p "$VPID"
done_testing
