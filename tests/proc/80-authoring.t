#!/bin/bash
# Patch authoring: patch-local data and helpers, several functions in one
# switch, calling the original (OVUP_ORIG, also stacked and after an
# endbr64), IFUNCs, inlined copies, and the worked examples of examples/.
. "$(dirname "$0")/lib.sh"
EX=$ROOT/examples

start_victim v "$V/victim-pie"
P=$VPID

# 1. data and code of the patch itself
patch data <<'P'
#include <stdio.h>
extern int offset;                      /* the target's */
int added_counter = 40;                 /* new, initialised, non-static */
int added_zero;                         /* new, zero-initialised */
static int calls_seen;                  /* new static */
static const int table[4] = { 1, 2, 3, 4 };
static char last[32];
static int helper(int x) { return table[x & 3] * 100; }
int compute(int x)
{
	calls_seen++;
	added_zero += 2;
	snprintf(last, sizeof(last), "x=%d", x);
	return helper(x) + added_counter++ + calls_seen * 1000 + added_zero * 10000 +
	       (last[0] == 'x') * 100000 + offset;
}
P
run_ovup apply -p "$P" "$WORK/data.c"
is "$RC" 0 "a patch with its own data and helper applies"
# table[1]*100 + 40 + 1*1000 + 2*10000 + 100000 + offset 1
is "$(ask v call compute 1)" 121241 "first call: constants, initialised, zeroed and static data, a string"
is "$(ask v call compute 1)" 142242 "second call: the patch's variables kept their writes"
maps=$(grep 'memfd:ovup-patch:data ' /proc/$P/maps)
like "$maps" "r-xp 00000000 .*/memfd:ovup-patch:data " "its code is mapped r-x"
like "$maps" "r--p 00000000 .*/memfd:ovup-patch:data " "its constants and GOT r--"
like "$maps" "rw-p [0-9a-f]+ .*/memfd:ovup-patch:data " "its variables rw-"
unlike "$(cat /proc/$P/maps)" "rwx" "nothing is writable and executable"
run_ovup revert -p "$P"
is "$(ask v call compute 1)" 3 "reverted"

# 2. two functions, one switch
patch two <<'P'
int compute(int x) { return x * 100; }
int secret(int x) { return x * 1000; }
P
run_ovup apply -p "$P" "$WORK/two.c"
is "$(ask v call compute 2)$(ask v call secret 2)" "2002000" "both functions switched by one apply"
run_ovup revert -p "$P"
is "$(ask v call compute 2) $(ask v call secret 2)" "5 1003" "and reverted together"
OVUP_FAULT=stale-site:2 run_ovup apply -p "$P" "$WORK/two.c"
is "$RC" 1 "the second site changed before the switch: exit 1"
like "$ERR" "function 'secret': the bytes at 0x[0-9a-f]+ changed while the patch was prepared; nothing was switched" \
	"... nothing switched, said"
is "$(ask v call compute 2) $(ask v call secret 2)" "5 1003" "... neither function changed"

# 3. calling the original
run_ovup apply -p "$P" "$EX/wrap-original.c"
is "$RC" 0 "examples/wrap-original.c applies (OVUP_ORIG)"
is "$(ask v call compute -7)" 0 "the fix: a negative input gives 0 (was -13)"
is "$(ask v call compute 5)" 11 "other inputs run the original code: compute(5) = 11"
patch double <<'P'
#include <ovup.h>
int compute(int x) { return OVUP_ORIG(compute)(x) * 2; }
P
run_ovup apply -p "$P" "$WORK/double.c"
is "$(ask v call compute 5)" 22 "stacked: OVUP_ORIG calls the patch underneath (2 * 11)"
is "$(ask v call compute -7)" 0 "... whose fix still runs (2 * 0)"
run_ovup revert -p "$P"
run_ovup revert -p "$P"
is "$(ask v call compute -7)" -13 "both reverted: the old behaviour is back"
patch loopy <<'P'
int loopy(int x) { return x; }
P
run_ovup apply -p "$P" "$WORK/loopy.c"
is "$RC" 1 "a function whose loop branches into its first bytes is refused"
like "$ERR" "function 'loopy': the branch at loopy\+0x4 lands inside the [0-9]+ bytes the jump replaces" \
	"... naming the branch"
patch noorig <<'P'
#include <ovup.h>
int compute(int x);
int secret(int x) { return OVUP_ORIG(compute)(x); }
P
run_ovup apply -p "$P" "$WORK/noorig.c"
is "$RC" 1 "OVUP_ORIG of a function the patch does not replace is refused"
like "$ERR" "OVUP_ORIG\(compute\): the patch does not replace 'compute'" "... with the reason"

# 4. an IFUNC of libc (examples/libc-strlen.c): the selected implementation
run_ovup apply -p "$P" -v "$EX/libc-strlen.c"
is "$RC" 0 "examples/libc-strlen.c applies to libc's strlen"
like "$OUT" "strlen=__strlen_[a-z0-9_]+ +libc.so.6" "... through the implementation this CPU selected"
is "$(ask v strlen-null)" 0 "strlen(NULL) returns 0 now"
is "$(ask v strlen hello)" 5 "strlen still counts"
run_ovup revert -p "$P"
is "$(ask v strlen hello)" 5 "reverted"
start_victim w "$V/victim-pie"
W=$VPID
ask w strlen-null >/dev/null
sleep 0.2
[ -e /proc/$W/stat ] && [ "$(awk '{print $3}' /proc/$W/stat)" != Z ]
is "$?" 1 "the old behaviour, in an unpatched process: strlen(NULL) kills it"

# 5. inlined copies are reported before the switch
patch inl <<'P'
int inl_scale(int x) { return x * 70; }
P
run_ovup apply -p "$P" "$WORK/inl.c"
is "$RC" 0 "a function that was also inlined still applies"
like "$ERR" "warning: pid $P: function 'inl_scale' is also inlined into uses_inline; those copies keep running the old code" \
	"... with a warning naming the caller that inlined it"
is "$(ask v call inl_scale 1)" 70 "the out-of-line copy runs the new code"
is "$(ask v call uses_inline 1)" 9 "the inlined copy keeps the old code, as warned"
run_ovup revert -p "$P"
run_ovup apply -p "$P" --dry-run "$EX/wrap-original.c"
unlike "$ERR" "inlined" "no warning for a function that is not inlined anywhere"

# 6. a static function with a duplicate name (examples/dup-static.c)
run_ovup apply -p "$P" "$EX/dup-static.c"
is "$RC" 0 "examples/dup-static.c applies"
is "$(ask v call dup_b 1) $(ask v call dup_a 1)" "251 101" "dup_b.c's helper is fixed, dup_a.c's is not"
run_ovup revert -p "$P"
is "$(ask v call dup_b 1)" 201 "reverted"

# 7. OVUP_ORIG after an endbr64 (non-PIE, -fcf-protection)
start_victim n "$V/victim-nopie"
run_ovup apply -p "$VPID" "$EX/wrap-original.c"
is "$RC" 0 "OVUP_ORIG where the entry keeps an endbr64"
is "$(ask n call compute -7) $(ask n call compute 5)" "0 11" "fix and original both run"
stop_victim n
stop_victim v
done_testing
