#!/bin/bash
# A stripped binary whose static functions come from separate debuginfo
# found by build-id; two static functions with one name, chosen with the
# selector syntax of include/ovup.h.
. "$(dirname "$0")/lib.sh"

start_victim v "$V/victim-stripped"
patch sec <<'P'
int secret(int x) { return x - 1; }
P
OVUP_DEBUG_ROOT=$WORK/nodebug run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 1 "stripped, no debuginfo: a static function is not found"
is "$(printf '%s\n' "$ERR" | wc -l)" 3 "... in three lines"
like "$(printf '%s\n' "$ERR" | sed -n 3p)" "^  libc\.so\.6 and ld-linux-x86-64\.so\.2 have only \.dynsym too" \
	"... the third names the other stripped objects, in search order"
first=$ERR
OVUP_DEBUG_ROOT=$WORK/nodebug run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$ERR" "$first" "... the same message again (a stable order, not one by address)"
like "$ERR" "secret.*not found in the target" "... says so"
like "$ERR" "victim-stripped has only \.dynsym, no symbol table \(build-id [0-9a-f]+\); install .*/\.build-id/[0-9a-f]{2}/[0-9a-f]+\.debug" \
	"... and names the debug file that would provide it"
export OVUP_DEBUG_ROOT=$V/debug
run_ovup symbols -p "$VPID" secret
like "$OUT" "func +static secret +victim-stripped:victim.c" "with debuginfo: 'symbols' shows the static function"
run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 0 "with debuginfo by build-id: apply succeeds"
is "$(ask v call secret 10)" 9 "secret(10) = 9 now (was 1011)"
run_ovup revert -p "$VPID"
is "$(ask v call secret 10)" 1011 "reverted"

patch dup <<'P'
int helper(int x) { return x + 7; }
P
before=$(snap "$VPID")
run_ovup apply -p "$VPID" "$WORK/dup.c"
is "$RC" 1 "an ambiguous static name is an error"
like "$ERR" "'helper' is ambiguous: victim-stripped:dup_a.c#1 .*victim-stripped:dup_b.c#2" \
	"... listing both candidates with file and position"
like "$ERR" "OVUP_OBJECT\(helper" "... and how to choose"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
patch dupb <<'P'
#include <ovup.h>
OVUP_FILE(helper, "dup_b.c");
int helper(int x) { return x + 7; }
P
run_ovup apply -p "$VPID" "$WORK/dupb.c"
is "$RC" 0 "OVUP_FILE(helper, \"dup_b.c\") chooses one"
is "$(ask v call dup_b 1)" 8 "dup_b's helper is replaced"
is "$(ask v call dup_a 1)" 101 "dup_a's helper is not"
run_ovup revert -p "$VPID"
patch dupa <<'P'
#include <ovup.h>
OVUP_SYMPOS(helper, 1);
int helper(int x) { return x + 9; }
P
run_ovup apply -p "$VPID" "$WORK/dupa.c"
is "$RC" 0 "OVUP_SYMPOS(helper, 1) chooses the other"
is "$(ask v call dup_a 1)" 10 "dup_a's helper is replaced"
is "$(ask v call dup_b 1)" 201 "dup_b's helper is not"
run_ovup revert -p "$VPID"
stop_victim v
done_testing
