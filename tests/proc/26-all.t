#!/bin/bash
# --all: every process that maps a program's build, each in a run of its
# own; a C patch compiled once per build; another build reported, not
# touched; processes that exit or start during the run; list and revert
# of every process.
. "$(dirname "$0")/lib.sh"

# two builds of one program at one path: the first process runs the old
# file (replaced on disk since, as an upgrade does), the others the new
B=$WORK/bin
mkdir -p "$B"
cp "$V/victim-pie" "$B/victim"
cp "$V/libvictim.so" "$B/"
start_victim a "$B/victim"
old_id=$(readelf -n "$B/victim" | awk '/Build ID/ {print $3}')
# the same code under another build-id: the upgrade
other_build "$B/victim" "$B/victim.new"
mv "$B/victim.new" "$B/victim"
new_id=$(readelf -n "$B/victim" | awk '/Build ID/ {print $3}')
[ "$old_id" != "$new_id" ]
ok $? "an upgrade: $B/victim is now build $new_id, process a still runs $old_id"
start_victim b "$B/victim"
start_victim c "$B/victim"
start_victim o "$V/victim-nopie"
A=$a_PID
for v in a b c o; do eval "before_$v=\$(ask $v call compute 3)"; done

patch fix <<'P'
int compute(int x) { return x * 1000; }
P
# 1. a C patch by path: every build of it, each compiled once
strace -f -qq -e trace=execve -o "$WORK/trace" "$OVUP" apply --all --object "$B/victim" \
	"$WORK/fix.c" >"$WORK/out" 2>"$WORK/err"
RC=$?
OUT=$(cat "$WORK/out")
is "$RC" 0 "apply --all --object PATH: exit 0"
is "$(grep -c 'applied (pause [0-9]* us)' <<<"$OUT")" 3 "... one line per process, each applied"
like "$OUT" "^ *$A victim +applied" "... the process of the old build too (its own build)"
like "$(tail -1 <<<"$OUT")" "^3 processes: 3 applied, 0 failed, 0 another build, 0 exited$" "... and a summary"
is "$(grep -c 'execve("[^"]*", \["[^"]*", "build"' "$WORK/trace")" 2 \
	"... compiled twice: once per build, not once per process"
for v in a b c; do is "$(ask $v call compute 3)" 3000 "process $v runs the new compute"; done
is "$(ask o call compute 3)" "$before_o" "a process of another program is not touched"

# 2. again: nothing to do
run_ovup apply --all --object "$B/victim" "$WORK/fix.c"
is "$RC" 0 "the same --all again: exit 0"
is "$(grep -c 'already applied (patch' <<<"$OUT")" 3 "... each process: already applied, nothing done"

# 3. list: every process with patches
run_ovup list
is "$RC" 0 "list without a target"
is "$(grep -cE "^pid ($a_PID|$b_PID|$c_PID) \(victim\): pid [0-9]+: 1 patch applied" <<<"$OUT")" 3 "... names the three processes"
unlike "$OUT" "pid $o_PID " "... not the one without patches"
run_ovup list --all --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); mine=[p for p in d["processes"] if p["pid"] in map(int, sys.argv[2:])]; assert len(mine) == 3; assert all(p["list"]["patches"][0]["name"] == "fix" for p in mine)' "$OUT" "$a_PID" "$b_PID" "$c_PID"
ok $? "list --all --json: one document, each process with its patch"

# 4. revert --all
run_ovup revert --all --object "$B/victim" fix
is "$RC" 0 "revert --all fix"
is "$(grep -c 'reverted (pause' <<<"$OUT")" 3 "... three processes reverted"
for v in a b c; do is "$(ask $v call compute 3)" "$(eval echo \$before_$v)" "process $v runs the old compute"; done
run_ovup revert --all --object "$B/victim" fix
is "$RC" 1 "revert --all of a patch no process has: exit 1"
like "$ERR" "no process has that patch applied" "... saying so"

# 5. by build-id: only that build; the other reported, not touched
run_ovup apply --all --object "$new_id" "$WORK/fix.c"
is "$RC" 5 "apply --all --object BUILD-ID, with a process of another build: exit 5"
like "$OUT" "^ *$A victim +another build, not touched: maps $B/victim with build-id $old_id, not $new_id" \
	"... the old build's process is named, with both build-ids"
is "$(grep -c 'applied (pause' <<<"$OUT")" 2 "... the two of that build are patched"
is "$(ask a call compute 3)" "$before_a" "... and the other one is not"
run_ovup revert --all --object "$B/victim"

# 6. a prebuilt object: the processes running the builds it records
"$OVUP" build -q -p "$b_PID" "$WORK/fix.c" -o "$WORK/fix.o" >/dev/null
run_ovup apply --all --json "$WORK/fix.o"
is "$RC" 5 "apply --all fix.o (built in process b): exit 5, one process is another build"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
r = {p["pid"]: p["result"] for p in d["processes"]}
assert sorted(r.values()) == ["applied", "applied", "other-build"], r
assert r[int(sys.argv[2])] == "other-build"
assert d["summary"] == {"applied": 2, "failed": 0, "other_build": 1, "exited": 0, "already": 0}, d["summary"]
assert d["exit"] == 5' "$OUT" "$A"
ok $? "... --json: one entry per process, the summary and the exit code"
run_ovup revert --all --object "$B/victim"

# 7. a process that exits during the run is no failure; one that starts
# during it is found when ovup looks again
# (the first in /proc's order is process a, the oldest)
OVUP_FAULT=all-kill:1 run_ovup apply --all --object "$B/victim" "$WORK/fix.c"
is "$RC" 0 "the first process killed just before its run: exit 0"
like "$OUT" "^ *$A victim +exited during the run" "... it is reported as exited"
like "$(tail -1 <<<"$OUT")" "2 applied, 0 failed, 0 another build, 1 exited" "... the others applied"
run_ovup revert --all --object "$B/victim"
OVUP_TEST_SYNC=$WORK/sync OVUP_FAULT=all-sync "$OVUP" apply --all --object "$B/victim" \
	"$WORK/fix.c" >"$WORK/out" 2>"$WORK/err" &
runner=$!
for _ in $(seq 1000); do [ -e "$WORK/sync.ready" ] && break; sleep 0.01; done
start_victim d "$B/victim"
before_d=$before_b
touch "$WORK/sync.go"
wait $runner
RC=$?
OUT=$(cat "$WORK/out")
is "$RC" 0 "a process started during the run: exit 0"
like "$OUT" "^ *$d_PID victim +applied" "... it was found and patched"
is "$(ask d call compute 3)" 3000 "... and runs the new compute"
run_ovup revert --all --object "$B/victim"
is "$(ask d call compute 3)" "$before_b" "revert --all reverts it too"

# 8. ovup killed while it waits for its second process's run: that run
# finishes on its own, no process is left half-patched, and the next
# --all does the rest
{ strace -qq -o /dev/null -e trace=wait4 -e inject=wait4:signal=SIGKILL:when=2 \
	"$OVUP" apply --all --object "$B/victim" "$WORK/fix.c" >/dev/null 2>&1; } 2>/dev/null
sleep 0.5
states=""
for v in b c d; do
	case "$(ask $v call compute 3)" in
	3000) states="$states new" ;;
	"$before_b") states="$states old" ;;
	*) states="$states broken" ;;
	esac
done
unlike "$states" "broken" "ovup killed mid-run: every process wholly old or new ($states )"
run_ovup apply --all --object "$B/victim" "$WORK/fix.c"
is "$RC" 0 "... the next run: exit 0"
like "$OUT" "already applied" "... it leaves the ones done alone"
for v in b c d; do is "$(ask $v call compute 3)" 3000 "... process $v runs the new compute"; done
run_ovup revert --all --object "$B/victim"

# 9. a process that refuses (busy): counted, named with its own exit
# code, left as it was; the others patched
is "$(ask c block-late)" ok "process c: a thread asleep in a syscall inside late_entry's first bytes"
patch late <<'P'
void late_entry(void) { }
P
before_snap=$(snap "$c_PID")
run_ovup apply --all --object "$B/victim" --retries 2 "$WORK/late.c"
is "$RC" 5 "apply --all with one process busy: exit 5"
like "$OUT" "^ *$c_PID victim +not applied \(exit 3\): .*is executing the bytes to be changed at late_entry" \
	"... that process is named, with exit 3 and the thread in the way"
is "$(grep -c 'applied (pause' <<<"$OUT")" 2 "... the two others are patched"
like "$(tail -1 <<<"$OUT")" "2 applied, 1 failed" "... and the summary counts it"
same_mem "$before_snap" "$(snap "$c_PID")" "... the busy process is byte for byte as it was"
run_ovup revert --all --object "$B/victim" late

# 10. bad input: one line, the documented code
run_ovup apply --all "$WORK/fix.c"
is "$RC" 2 "a C patch without --object: usage error"
like "$ERR" "^ovup: apply --all .*: a C patch needs --object PATH or BUILD-ID" "... in one line"
run_ovup apply --all -p "$b_PID" "$WORK/fix.c"
is "$RC.$ERR" "2.ovup: --all is every process: give it without -p PID" "--all with -p: usage error"
run_ovup apply -p "$b_PID" --object "$B/victim" "$WORK/fix.c"
like "$RC $ERR" "^2 ovup: --object .* chooses the processes of 'ovup apply --all'" "--object without --all: usage error"
run_ovup apply --all --object /nonexistent/lib.so "$WORK/fix.c"
like "$RC $ERR" "^1 ovup: --object /nonexistent/lib.so: No such file" "an --object that does not exist"
run_ovup apply --all --object "$V/victim-stripped" "$WORK/fix.c"
like "$RC $ERR" "^1 ovup: apply --all: no process maps what the patch is for" "no process maps it: exit 1"
for v in b c d o; do
	eval "want=\$before_$v"
	is "$(ask $v call compute 3)" "$want" "process $v is as it was"
done
done_testing
