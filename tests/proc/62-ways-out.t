#!/bin/bash
# Ways out when another tool changed a patched function behind ovup:
# 'forget' drops the record of a patch the target no longer runs, and
# 'revert --force' puts the old bytes back where they provably are the
# file's code.  Both say what each site held; both refuse while unsure.
. "$(dirname "$0")/lib.sh"

patch fix <<'P'
int compute(int x) { return x * 3; }
P

# poke PID ADDR HEX: what another tool (a debugger, another live patcher)
# does: write bytes into the process's code through /proc/PID/mem
poke() {
	printf "$(echo "$3" | sed 's/../\\x&/g')" |
		dd of="/proc/$1/mem" bs=1 seek="$(($2))" conv=notrunc status=none
}
# addr PID NAME: a function's address, as ovup symbols shows it
addr() { printf '0x%x' "0x$("$OVUP" symbols -p "$1" "$2" | awk -v n="$2" '$5 == n { print $1; exit }')"; }
# jmp FROM TO: the bytes of a jmp rel32 at FROM to TO
jmp() { printf 'e9%08x' $((($2 - $1 - 5) & 0xffffffff)) | sed 's/e9\(..\)\(..\)\(..\)\(..\)/e9\4\3\2\1/'; }

start_victim a "$V/victim-pie"
A=$VPID
site=$(addr "$A" compute)
secret=$(addr "$A" secret)
old=$("$H/peek" "$A" "$site" 5)
ok $? "the old bytes of compute at $site: $old"
is "$(ask a call compute 5)" 11 "compute(5) is 11 before any patch"

# --- another tool puts the old bytes back: forget -----------------------
run_ovup apply -p "$A" "$WORK/fix.c"
is "$(ask a call compute 5)" 15 "patched: compute(5) is 15"
run_ovup forget -p "$A" fix
is "$RC" 1 "forget while the patch runs is refused"
like "$ERR" "function 'compute' at $site still branches to patch 'fix'; the patch runs: 'ovup revert fix' undoes it" \
	"... saying the patch runs and what undoes it"
is "$(ask a call compute 5)" 15 "... and the patch still runs"

poke "$A" "$site" "$old"
is "$(ask a call compute 5)" 11 "another tool put the old bytes back: the old code runs"
run_ovup list -p "$A"
like "$OUT" "compute .*CHANGED behind ovup" "list says the site changed behind ovup"
is "$ERR" "ovup: pid $A: patch 'fix' no longer holds ovup's jump everywhere: 'ovup forget fix' drops its record, 'ovup revert --force fix' puts the old bytes back" \
	"... and names the ways out"
run_ovup revert -p "$A"
is "$RC" 1 "a plain revert refuses"
like "$ERR" "no longer there .*'revert --force' puts its old bytes back, 'forget' drops the record" \
	"... and names both ways out"
run_ovup apply -p "$A" "$WORK/fix.c"
is "$RC" 1 "applying it again is refused: the record says applied"
like "$ERR" "patch 'fix' is already applied" "... as already applied"
run_ovup forget -p "$A" nosuch
is "$RC" 1 "forget of an unknown name fails"
is "$ERR" "ovup: pid $A: no patch named 'nosuch' (applied: 'fix')" \
	"... in the words revert uses for it"
run_ovup forget -p "$A" fix
is "$RC" 0 "forget drops the record"
is "$(echo "$OUT" | head -n 1)" "forgot 'fix' (seq 1) on pid $A; its functions hold:" \
	"... and says so"
like "$OUT" "^  compute +$site  its old bytes$" "... with what the site holds: its old bytes"
run_ovup list -p "$A"
like "$OUT" "no patches applied" "list: no patch any more"
unlike "$(cat /proc/$A/maps)" "ovup-patch:fix" "the patch's memory is released"
is "$(ask a call compute 5)" 11 "the target still runs its old code"
run_ovup apply -p "$A" "$WORK/fix.c"
is "$RC" 0 "the same patch applies again"
is "$(ask a call compute 5)" 15 "... and runs"

# --- another tool writes its own jump: revert --force --------------------
poke "$A" "$site" "$(jmp "$site" "$secret")"
is "$(ask a call compute 5)" 1006 "another tool's jump to secret(): compute(5) is secret(5)"
run_ovup forget -p "$A" fix --json
is "$RC" 0 "forget works over other bytes too (--json)"
like "$OUT" "\"forgot\":\"fix\".*\"holds\":\"other\",\"bytes\":\"$(jmp "$site" "$secret")\"" \
	"... and its JSON has the bytes found"
is "$(ask a call compute 5)" 1006 "... which it leaves alone"
poke "$A" "$site" "$old"
run_ovup apply -p "$A" "$WORK/fix.c"
poke "$A" "$site" "$(jmp "$site" "$secret")"
run_ovup revert -p "$A"
is "$RC" 1 "revert without --force refuses over another tool's jump"
is "$(ask a call compute 5)" 1006 "... and changes nothing"

# the rest of the function must be the file's: a byte changed past the
# site (compute is not called while it is) makes --force refuse
last=$(printf '0x%x' $((site + 16)))
lastb=$("$H/peek" "$A" "$last" 1)
poke "$A" "$last" cc
run_ovup revert -p "$A" --force
is "$RC" 1 "revert --force refuses when the function differs from its file past the site"
like "$ERR" "patch 'fix': function 'compute' differs from its file at $last, outside the bytes ovup wrote" \
	"... naming the patch, the function and the address"
like "$ERR" "not reverting$" "... and that nothing was reverted"
is "$("$H/peek" "$A" "$site" 5)" "$(jmp "$site" "$secret")" "... leaving the other jump in place"
run_ovup list -p "$A"
like "$OUT" "compute .*CHANGED behind ovup" "... and the record as it was"
poke "$A" "$last" "$lastb"

run_ovup revert -p "$A" --force
is "$RC" 0 "revert --force puts the old bytes back over another tool's jump"
like "$OUT" "^reverted 'fix' on pid $A" "... says it reverted"
like "$OUT" "^  compute +$site  other bytes \($(jmp "$site" "$secret" | sed 's/../& /g;s/ $//')\)$" \
	"... and what the site held"
is "$("$H/peek" "$A" "$site" 5)" "$old" "the site holds the old bytes"
is "$(ask a call compute 5)" 11 "the old code runs, neither the patch nor the other jump"
unlike "$(cat /proc/$A/maps)" "ovup-patch:fix" "the patch's memory is released"

# --force where the site holds ovup's jump is a plain revert; where it
# holds the old bytes already, it drops the record
run_ovup apply -p "$A" "$WORK/fix.c"
run_ovup revert -p "$A" --force --json
is "$RC" 0 "revert --force of an intact patch"
like "$OUT" "\"holds\":\"jump\"" "... found ovup's jump"
is "$(ask a call compute 5)" 11 "... and reverted it"
run_ovup apply -p "$A" "$WORK/fix.c"
poke "$A" "$site" "$old"
run_ovup revert -p "$A" --force
is "$RC" 0 "revert --force over the old bytes"
like "$OUT" "^  compute +$site  its old bytes$" "... found them"
run_ovup list -p "$A"
like "$OUT" "no patches applied" "... and dropped the record"

# killed during a forced revert: the next run finishes it, even though
# the jump at the site is not ovup's
run_ovup apply -p "$A" "$WORK/fix.c"
poke "$A" "$site" "$(jmp "$site" "$secret")"
OVUP_FAULT=crash-before-revert run_ovup revert -p "$A" --force
is "$RC" 134 "ovup killed after journaling a forced revert (test hook)"
is "$(ask a call compute 5)" 1006 "... before it switched anything"
run_ovup list -p "$A"
like "$ERR" "rolled back patch 'fix', which an earlier ovup left half-reverted" \
	"the next run finishes the forced revert"
like "$OUT" "no patches applied" "... and drops the record"
is "$(ask a call compute 5)" 11 "... the old code runs"

# --- where the record lives ----------------------------------------------
# in the process: ovup writes no file outside its scratch directory, so
# nothing is left behind when a process dies
mkdir -p "$WORK/tmp"
TMPDIR=$WORK/tmp strace -f -qq -o "$WORK/trace" -e trace=open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat \
	"$OVUP" apply -p "$A" "$WORK/fix.c" >/dev/null 2>&1
ok $? "apply under strace"
created=$(grep -E 'O_CREAT|mkdir|rename|link\(|linkat|symlink' "$WORK/trace" | grep -v ' = -1 ' |
	grep -oE '"[^"]*"' | tr -d '"' | grep -vE "^($WORK/tmp/|/dev/null$|/proc/)" | sort -u)
is "$created" "" "ovup and its compiler create files only in TMPDIR (the record is in the process)"
like "$(grep -c O_CREAT "$WORK/trace")" "^[1-9]" "... (the trace saw the files it did create)"
run_ovup revert -p "$A"
stop_victim a

# --- whose records: the owner's, root's, and no one else's ---------------
# A process's record is in the process, so whoever may trace it (its
# owner, root) finds it, and no other user can read or plant one: the
# kernel's ptrace access check guards its memory and its maps.
U1=ovup-test1
U2=ovup-test2
yama=/proc/sys/kernel/yama/ptrace_scope
yama_was=$(cat "$yama" 2>/dev/null)
users_cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	pkill -9 -u "$U1" 2>/dev/null
	pkill -9 -u "$U2" 2>/dev/null
	sleep 0.1
	userdel "$U1" 2>/dev/null
	userdel "$U2" 2>/dev/null
	[ -n "$yama_was" ] && echo "$yama_was" >"$yama"
	cleanup
}
trap users_cleanup EXIT
for u in "$U1" "$U2"; do
	userdel "$u" 2>/dev/null
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u"
	ok $? "a user $u for the test"
done
# Yama's ptrace_scope 1 lets only a parent trace: an owner's ovup could not
[ -n "$yama_was" ] && [ "$yama_was" != 0 ] && echo 0 >"$yama"
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
# copies the users can run wherever the checkout lives (its directories
# may be closed to them): ovup, the victim and its library
chmod 711 "$WORK"
mkdir -m 755 "$WORK/pub" && cp "$WORK/fix.c" "$OVUP" "$V/victim-pie" "$V/libvictim.so" "$WORK/pub/"
OVUP=$WORK/pub/ovup
mkdir -m 700 "$WORK/t1" "$WORK/t2" && chown "$U1" "$WORK/t1" && chown "$U2" "$WORK/t2"
start_victim u setpriv --reuid="$U1" --regid="$U1" --clear-groups "$WORK/pub/victim-pie"
U=$VPID
is "$(stat -c %U /proc/$U)" "$U1" "a victim runs as $U1"
TMPDIR=$WORK/t1 as "$U1" "$OVUP" apply -p "$U" "$WORK/pub/fix.c" >"$WORK/out" 2>&1
ok $? "its owner applies a patch: $(head -n 1 "$WORK/out")"
is "$(ask u call compute 5)" 15 "... which runs"
run_ovup list -p "$U"
like "$OUT" "^  fix .*from $WORK/pub/fix.c" "root's list finds the patch the owner applied"
like "$(TMPDIR=$WORK/t1 as "$U1" "$OVUP" list -p "$U")" "^  fix " "... as does the owner's"
out=$(TMPDIR=$WORK/t2 as "$U2" "$OVUP" list -p "$U" 2>&1)
ok $((! $?)) "another user's list fails"
is "$out" "ovup: pid $U: cannot open its memory: permission denied (the process belongs to uid $(id -u "$U1"), ovup runs as uid $(id -u "$U2")); run ovup as that user, as root, or with CAP_SYS_PTRACE" \
	"... in one line naming the owner and what would work"
as "$U2" cat "/proc/$U/maps" >/dev/null 2>&1
ok $((! $?)) "another user cannot see where the record is (/proc/PID/maps)"
rec=$(awk '/memfd:ovup-record/ { split($1, a, "-"); print "0x" a[1]; exit }' "/proc/$U/maps")
like "$rec" "^0x[0-9a-f]+$" "(the record is mapped at $rec)"
as "$U2" dd if="/proc/$U/mem" bs=1 skip="$((rec))" count=16 status=none >/dev/null 2>&1
ok $((! $?)) "... nor read it"
printf 'patch evil 9 0 applied -\nend\n' | as "$U2" dd of="/proc/$U/mem" bs=1 seek="$((rec))" conv=notrunc status=none 2>/dev/null
ok $((! $?)) "... nor write one into it"
TMPDIR=$WORK/t2 as "$U2" "$OVUP" revert -p "$U" >/dev/null 2>&1
ok $((! $?)) "... nor revert the owner's patch"
TMPDIR=$WORK/t2 as "$U2" "$OVUP" apply -p "$U" --name other "$WORK/pub/fix.c" >/dev/null 2>&1
ok $((! $?)) "... nor apply one"
run_ovup list -p "$U"
like "$OUT" "1 patch applied" "the record holds the owner's patch alone"
is "$(ask u call compute 5)" 15 "... which still runs"
run_ovup revert -p "$U"
is "$RC" 0 "root reverts the owner's patch"
is "$(ask u call compute 5)" 11 "... and the old code runs"
stop_victim u

done_testing
