#!/bin/bash
# Register contracts.  victim's scale_sum() (tests/victims/ipa.c, -O2)
# keeps its loop state in call-clobbered registers across its call of
# scale(), because GCC's -fipa-ra knows scale() leaves them alone.  A
# replacement of scale() with the same results that writes those registers
# must be wrapped; without the wrapper (OVUP_FAULT=no-wrapper) the caller
# goes wrong.  A global of a shared library needs no wrapper: its callers
# call it through the PLT and assume the whole ABI set.
. "$(dirname "$0")/lib.sh"

# 64-bit name of every call-clobbered register an AT&T listing mentions
# (rax and rdi, the result and the argument, are set around each call)
clobbered_regs() {
	grep -oE '%[a-z0-9]+' | tr -d % | sed -E \
		-e 's/^(e|r)?(cx|cl|ch)$/rcx/' -e 's/^(e|r)?(dx|dl|dh)$/rdx/' \
		-e 's/^(e|r)?si(l)?$/rsi/' -e 's/^r(8|9|10|11)[bwd]?$/r\1/' |
		grep -xE 'rcx|rdx|rsi|r8|r9|r10|r11' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
expect_sum() { # scale_sum(n) of the original: sum of ((3i + 7) ^ i)
	local i acc=0
	for ((i = 0; i < $1; i++)); do acc=$((acc + ((3 * i + 7) ^ i))); done
	echo "$acc"
}
# ask_all NAME: scale_sum(n) for n = 0..149 and scale(n) for a few n;
# prints the first wrong answer, or "all right"
NS=$(seq 0 149)
declare -A WANT
for n in $NS; do WANT[$n]=$(expect_sum "$n"); done
ask_all() {
	local n got
	for n in $NS; do
		got=$(ask "$1" call scale_sum "$n")
		[ "$got" = "${WANT[$n]}" ] || { echo "scale_sum($n) = $got, want ${WANT[$n]}"; return; }
	done
	for n in -5 0 1 1000; do
		got=$(ask "$1" call scale "$n")
		[ "$got" = "$((3 * n + 7))" ] || { echo "scale($n) = $got"; return; }
	done
	echo "all right"
}

# 1. the dependence, in the code gcc made: scale_sum saves no callee-saved
# register and touches no stack memory, yet its loop lives across the call
# of scale - so the loop's values are in call-clobbered registers
for bin in victim-pie victim-nopie; do
	body=$(objdump -d --no-show-raw-insn "$V/$bin" | awk '/<scale_sum>:/,/^$/')
	like "$body" "call +[0-9a-f]+ <scale>" "$bin: scale_sum calls scale"
	unlike "$body" "push|\(%rsp\)|sub +\\\$.*,%rsp" \
		"$bin: scale_sum saves no register and uses no stack memory"
	live=$(clobbered_regs <<<"$body")
	like "$live" "r" "$bin: scale_sum keeps values in call-clobbered registers: $live"
	eval "LIVE_${bin//-/_}=\$live"
done
body=$(objdump -d --no-show-raw-insn "$V/victim-pie" | awk '/<scale>:/,/^$/')
is "$(clobbered_regs <<<"$body")" "" "scale itself writes none of them (only eax)"
body=$(objdump -d --no-show-raw-insn "$V/victim-pie" | awk '/<lib_sum>:/,/^$/')
like "$body" "push +%rbx" "lib_sum, calling a PLT function, keeps its values in callee-saved registers"

# 2. the replacement: same results, more registers
patch clobber <<'P'
/* scale() with the same results, by a route through registers the
 * original left alone (as other C may happen to compile) */
int scale(int x)
{
	int r;

	__asm__("mov %1, %%ecx\n\t"
		"lea (%%rcx,%%rcx,2), %%edx\n\t"
		"mov %%edx, %%esi\n\t"
		"lea 7(%%rsi), %%r8d\n\t"
		"mov %%r8d, %%r9d\n\t"
		"mov %%r9d, %%r10d\n\t"
		"mov %%r10d, %%r11d\n\t"
		"mov %%r11d, %0"
		: "=r"(r) : "r"(x) : "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11");
	return r;
}
P

start_victim v "$V/victim-pie"
P=$VPID
is "$(ask_all v)" "all right" "before: 150 calls of scale_sum and scale are right"
run_ovup apply -p "$P" --dry-run "$WORK/clobber.c"
is "$RC" 0 "dry run"
like "$OUT" "wrapper at 0x[0-9a-f]+ saves rcx rdx rsi r8 r9 r10 r11 \(the old code left them intact; callers in victim-pie may rely on that\)" \
	"the plan names the wrapper and its registers"
saved=$(sed -n 's/.*wrapper at 0x[0-9a-f]* saves \([^(]*\) (.*/\1/p' <<<"$OUT")
for r in $LIVE_victim_pie; do
	like " $saved " " $r " "the wrapper saves $r, which scale_sum keeps across the call"
done
run_ovup apply -p "$P" --dry-run --json "$WORK/clobber.c"
like "$OUT" '"registers":\{"contract":"wrapped","old":\["rax"\],"new":\["rax","rcx","rdx","rsi","r8","r9","r10","r11"\],"extra":\["rcx","rdx","rsi","r8","r9","r10","r11"\],"wrapper":\{"addr":"0x[0-9a-f]+","size":[0-9]+,"saves":\["rcx","rdx","rsi","r8","r9","r10","r11"\]\}\}' \
	"--json: the contract, the wrapper and what it saves"
run_ovup apply -p "$P" -v "$WORK/clobber.c"
is "$RC" 0 "apply"
like "$OUT" "scale: wrapper at 0x[0-9a-f]+ saves rcx rdx rsi r8 r9 r10 r11" "-v names the wrapper"
is "$(ask_all v)" "all right" "after: 150 calls through the unchanged caller are right"
run_ovup revert -p "$P"
is "$RC" 0 "revert"
is "$(ask_all v)" "all right" "reverted: still right"

# 3. stacked on that patch, calling it through OVUP_ORIG: the contract is
# still the original scale's (from the record's saved bytes), and calls
# the analysis cannot follow count as clobbering everything
run_ovup apply -p "$P" "$WORK/clobber.c"
patch stacked <<'P'
#include <ovup.h>
int scale(int x) { return OVUP_ORIG(scale)(x); }
P
run_ovup apply -p "$P" --dry-run --json "$WORK/stacked.c"
like "$OUT" '"contract":"wrapped","old":\["rax"\]' "stacked: the old contract is the original scale's"
run_ovup apply -p "$P" -v "$WORK/stacked.c"
is "$RC" 0 "stacked patch applies"
like "$OUT" "scale: wrapper at 0x[0-9a-f]+ saves rcx rdx rsi rdi r8 r9 r10 r11 .*flags" \
	"... with a wrapper (OVUP_ORIG lands in code no symbol describes: everything)"
is "$(ask_all v)" "all right" "stacked: right"
run_ovup revert -p "$P"
run_ovup revert -p "$P"
is "$(ask_all v)" "all right" "both reverted: right"

# 4. refused: a wrapper would move arguments passed on the stack
patch seven <<'P'
int scale(int a, int b, int c, int d, int e, int f, int g)
{
	int r;

	__asm__("mov %1, %%ecx\n\tmov %%ecx, %0" : "=r"(r) : "r"(a) : "rcx");
	return r * 3 + 7 + b + c + d + e + f + g;
}
P
# a revert above may have kept a block a thread's stale register pointed
# into; any later run frees it once unused, so let one do that first
run_ovup list -p "$P"
before=$(snap "$P")
run_ovup apply -p "$P" "$WORK/seven.c"
is "$RC" 1 "a wrapper that would move stack arguments: exit 1"
like "$ERR" "^ovup: pid $P: function 'scale': the new code writes rcx.*which the old code left intact and callers in victim-pie may rely on \(GCC -fipa-ra\); ovup cannot wrap it to save them: it takes 7 integer or pointer arguments \(6 go in registers\)" \
	"... one line naming the function, the registers and why"
same_mem "$before" "$(snap "$P")" "... the target is byte-for-byte untouched"
stop_victim v

# 5. the old behaviour, kept as a test hook: without the wrapper the same
# patch makes the unchanged caller wrong (or loop forever)
start_victim w "$V/victim-pie"
OVUP_FAULT=no-wrapper run_ovup apply -p "$VPID" -v "$WORK/clobber.c"
is "$RC" 0 "OVUP_FAULT=no-wrapper: applies (exit 0, as before the fix)"
like "$OUT" "no wrapper \(OVUP_FAULT=no-wrapper\)" "... and says the wrapper was left out"
is "$(ask w call scale 5)" 22 "... scale alone is still right"
echo "call scale_sum 100" >&"$w_w"
read -r -t 3 got <&"$w_r" || got="(no answer in 3 s)"
[ "$got" != "${WANT[100]}" ]
is "$?" 0 "... but its caller is not: scale_sum(100) = $got, want ${WANT[100]}"
kill -9 "$w_PID" 2>/dev/null

# 6. non-PIE, endbr64 kept at the entry
start_victim n "$V/victim-nopie"
run_ovup apply -p "$VPID" -v "$WORK/clobber.c"
is "$RC" 0 "non-PIE: apply"
like "$OUT" "scale: wrapper at 0x[0-9a-f]+ saves rcx rdx rsi r8 r9 r10 r11" "non-PIE: wrapped"
is "$(ask_all n)" "all right" "non-PIE: right through the wrapper"
run_ovup revert -p "$VPID"
is "$(ask_all n)" "all right" "non-PIE: reverted"
stop_victim n

# 7. an interposable global of a shared library: callers in the executable
# call it through the PLT, so nothing to save
patch lib <<'P'
extern int lib_scale;
int lib_compute(int x)
{
	int r;

	__asm__("mov %1, %%ecx\n\tmov %%ecx, %%edx\n\tmov %%edx, %%esi\n\t"
		"mov %%esi, %%r8d\n\tmov %%r8d, %%r9d\n\tmov %%r9d, %%r10d\n\t"
		"mov %%r10d, %%r11d\n\tmov %%r11d, %0"
		: "=r"(r) : "r"(x) : "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11");
	return r * lib_scale + 7;
}
P
start_victim l "$V/victim-pie"
lib_want=$(ask l call lib_sum 200)
run_ovup apply -p "$VPID" --dry-run "$WORK/lib.c"
like "$OUT" "no wrapper: the new code also writes rcx rdx rsi r8 r9 r10 r11, but 'lib_compute' is a global of libvictim.so that another object could interpose" \
	"shared library: the plan says no wrapper, and why"
run_ovup apply -p "$VPID" --json "$WORK/lib.c"
like "$OUT" '"contract":"interposable".*"wrapper":null' "--json: interposable, no wrapper"
is "$(ask l call lib_compute 5)" 22 "lib_compute(5) = 22, from the new code"
is "$(ask l call lib_sum 200)" "$lib_want" "the executable's caller is right without a wrapper"
run_ovup revert -p "$VPID"
is "$(ask l call lib_sum 200)" "$lib_want" "reverted"
stop_victim l
done_testing
