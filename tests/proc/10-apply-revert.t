#!/bin/bash
# The whole cycle on a PIE process: apply, observe, list, revert, observe;
# a patch that reads and writes the target's variables; a static function;
# a dry run that changes nothing.
. "$(dirname "$0")/lib.sh"

start_victim v "$V/victim-pie"
is "$(ask v call compute 5)" 11 "before: compute(5) = 5*2+offset = 11"

patch fix <<'P'
extern int offset;
extern int calls;
int compute(int x)
{
	calls += 100;
	return x * 3 + offset * 10;
}
P
before=$(snap "$VPID")
run_ovup apply -p "$VPID" --dry-run "$WORK/fix.c"
is "$RC" 0 "dry run succeeds"
like "$OUT" "compute \(.*victim-pie\)" "dry run names the function and its object"
like "$OUT" "jump e9( [0-9a-f]{2}){4}" "dry run shows the 5 jump bytes"
same_mem "$before" "$(snap "$VPID")" "dry run: the target is byte-for-byte unchanged"
is "$(ask v call compute 5)" 11 "dry run: old behaviour still there"

run_ovup apply -v -p "$VPID" "$WORK/fix.c"
is "$RC" 0 "apply succeeds"
like "$ERR" "ovup: timing: labels .*, pause [0-9.]+ us, longest hold [0-9.]+ us, total [0-9.]+ ms" "-v gives the pause and the longest hold of a thread"
like "$OUT" "applied 'fix' to pid $VPID" "apply reports the patch and the pid"
is "$(ask v call compute 5)" 25 "after: compute(5) = 5*3 + offset*10 = 25 (new code, reading a target variable)"
is "$(ask v call compute 0)" 10 "after: compute(0) = 10, the old formula (1) is gone"
maps=$(cat /proc/$VPID/maps)
unlike "$maps" "rwx" "no mapping is writable and executable"

run_ovup list -p "$VPID"
is "$RC" 0 "list succeeds"
like "$OUT" "fix .*seq 1" "list shows the patch"
like "$OUT" "compute +victim-pie 0x[0-9a-f]+ -> 0x[0-9a-f]+ +active" "list shows the function as active"
run_ovup list -p "$VPID" --json
like "$OUT" '"patches":\[\{"name":"fix"' "list --json"

patch sec <<'P'
int secret(int x) { return -x; }
P
run_ovup apply --json -p "$VPID" "$WORK/sec.c"
is "$RC" 0 "a static function of the executable is replaced by name"
pause=$(sed -n 's/.*"pause":\([0-9]*\).*/\1/p' <<<"$OUT")
hold=$(sed -n 's/.*"hold":\([0-9]*\).*/\1/p' <<<"$OUT")
[ -n "$pause" ] && [ -n "$hold" ] && [ "$pause" -gt 0 ] && [ "$hold" -ge "$pause" ]
ok $? "its JSON has the pause ($pause ns) and the longest hold of a thread in the whole apply ($hold ns), at least the pause"
is "$(ask v call secret 7)" -7 "secret(7) = -7 now (was 1008)"

run_ovup revert -v -p "$VPID"
is "$RC" 0 "revert without a name undoes the latest"
like "$OUT" "reverted 'sec'" "... which is 'sec'"
like "$ERR" "^ovup: timing: records [0-9.]+ ms switch [0-9.]+ ms save [0-9.]+ ms release [0-9.]+ ms, pause [0-9.]+ us, total [0-9.]+ ms$" \
	"... with -v, the time of each part (was: no timing)"
is "$(ask v call secret 7)" 1008 "secret(7) is back to 1008"
is "$(ask v call compute 5)" 25 "compute is still patched"
run_ovup revert --json -p "$VPID" fix
is "$RC" 0 "revert by name"
like "$OUT" '"timing_ns":\{"records":[0-9]+,"switch":[0-9]+,"save":[0-9]+,"release":[0-9]+,"pause":[0-9]+,"total":[0-9]+\}' \
	"... its JSON has the same times"
unlike "$ERR" "timing" "... and no timing on stderr without -v"
is "$(ask v call compute 5)" 11 "compute(5) is back to 11"
after=$(snap "$VPID")
is "$(grep -c . <<<"$after")" "$(grep -c . <<<"$before")" "no leftover mapping after revert"
run_ovup list -p "$VPID"
like "$OUT" "no patches applied" "list is empty again"
run_ovup revert -p "$VPID"
is "$RC" 1 "revert with nothing applied exits 1"
like "$ERR" "^ovup: pid $VPID: nothing to revert" "... and says there is nothing to revert"

# the scratch directory: in TMPDIR, gone after the run, or kept and named
mkdir -p "$WORK/tmp"
TMPDIR=$WORK/tmp run_ovup apply -n -p "$VPID" "$WORK/fix.c"
is "$RC:$(ls "$WORK/tmp")" "0:" "a dry run leaves nothing in TMPDIR"
TMPDIR=$WORK/tmp OVUP_KEEP_TMP=1 run_ovup apply -n -p "$VPID" "$WORK/fix.c"
kept=$(ls -d "$WORK"/tmp/ovup.* 2>/dev/null)
like "$kept" "^$WORK/tmp/ovup\.[0-9]+\." "OVUP_KEEP_TMP=1 keeps the scratch directory in TMPDIR"
is "$ERR" "ovup: kept the scratch directory $kept (OVUP_KEEP_TMP)" "... and names it on stderr"
ls "$kept" | grep -q '\.o$'
ok $? "... with the patch's object in it"

stop_victim v
done_testing
