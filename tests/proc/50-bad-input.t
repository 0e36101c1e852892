#!/bin/bash
# Bad input: one clear line on stderr naming the object and the fix, the
# documented exit code, and the target byte-for-byte as it was (no
# leftover mapping either).
. "$(dirname "$0")/lib.sh"

start_victim v "$V/victim-pie"
P=$VPID
# every run below is compared with a snapshot taken just before it
run_bad() { before=$(snap "$P"); run_ovup "$@"; }
untouched() { same_mem "$before" "$(snap "$P")" "$1: the target is byte-for-byte untouched"; }
lastline() { tail -n 1 <<<"$ERR"; }

patch broken <<'P'
int compute(int x) { return x * ; }
P
run_bad apply -p "$P" "$WORK/broken.c"
is "$RC" 1 "compile error: exit 1"
like "$ERR" "broken.c:1:.*error" "compile error: the compiler's own message is shown"
like "$(lastline)" "^ovup: .*broken.c: the patch does not compile \(compiler errors above\)" \
	"compile error: one ovup line naming the file"
untouched "compile error"

patch unknown <<'P'
extern int no_such_variable;
int compute(int x) { return x + no_such_variable; }
P
run_bad apply -p "$P" "$WORK/unknown.c"
is "$RC" 1 "unknown symbol: exit 1"
like "$ERR" "^ovup: symbol 'no_such_variable' used by the patch is not in the static symbols of victim-pie and the global symbols of victim-pie, libvictim.so, libc.so.6 and ld-linux-x86-64.so.2" \
	"unknown symbol: named"
untouched "unknown symbol"

patch misspelt <<'P'
int comptue(int x) { return x; }
P
run_bad apply -p "$P" "$WORK/misspelt.c"
is "$RC" 1 "misspelt function: exit 1"
like "$ERR" "function 'comptue' is defined by the patch but not found in the target; did you mean 'compute'" \
	"misspelt function: the nearest name is suggested"
like "$ERR" "make it static if it is a new helper" "misspelt function: a new helper must be static"
untouched "misspelt function"

patch var <<'P'
int offset = 5;
int compute(int x) { return x + offset; }
P
run_bad apply -p "$P" "$WORK/var.c"
is "$RC" 1 "a patch variable shadowing the target's: exit 1"
like "$ERR" "variable 'offset' is defined by the patch and also exists in the target; declare it 'extern'" \
	"... says to declare it extern"

patch tiny <<'P'
int tiny(int x) { return x + 1; }
P
run_bad apply -p "$P" "$WORK/tiny.c"
is "$RC" 1 "function shorter than the jump: exit 1"
like "$ERR" "function 'tiny' in victim-pie is 3 bytes, shorter than the 5-byte jump" \
	"... names the function and both sizes"
untouched "too short"

patch ifunc <<'P'
#include <stddef.h>
#include <ovup.h>
OVUP_OBJECT(strlen, "libc.so.6"); /* ld.so has a static strlen of its own */
size_t strlen(const char *s) { (void)s; return 0; }
P
# an IFUNC is replaced through the implementation it selected, which only
# libc's debug symbols name; without them it is refused, never a no-op
OVUP_DEBUG_ROOT=$WORK/nodebug run_bad apply -p "$P" "$WORK/ifunc.c" -- -fno-builtin
is "$RC" 1 "IFUNC without debug symbols: exit 1"
like "$ERR" "function 'strlen' in libc.so.6 is an IFUNC; this process selected the implementation at 0x[0-9a-f]+, which has no symbol" \
	"IFUNC: refused with the reason"
like "$ERR" "libc\.so\.6 has only \.dynsym, no symbol table \(build-id [0-9a-f]+\); install libc6-dbg or its debug file .*\.debug" \
	"IFUNC: names the debug file and package"
untouched "IFUNC"
is "$(ask v call strlen 5)" 5 "IFUNC: strlen still works"

run_bad apply -p "$P" "$WORK/does-not-exist.c"
is "$RC" 1 "missing file: exit 1"
like "$ERR" "^ovup: .*does-not-exist.c: No such file or directory; give the path of a patch file" \
	"missing file: named"

nopid=999999
while [ -e /proc/$nopid ]; do nopid=$((nopid - 1)); done
run_ovup apply -p "$nopid" "$WORK/tiny.c"
is "$RC" 1 "no such pid: exit 1"
like "$ERR" "^ovup: pid $nopid: no such process" "no such pid: named"
# one condition, one wording, whatever the verb
for args in "build -p $nopid $WORK/tiny.c -o $WORK/x.o" "revert -p $nopid" "list -p $nopid" \
	"symbols -p $nopid x" "forget -p $nopid x"; do
	first=$ERR
	run_ovup $args
	is "$RC:$ERR" "1:$first" "no such pid, ${args%% *}: the same line as apply's"
done
if [ ! -e /dev/ovup ]; then
	run_ovup list -k
	like "$ERR" "^ovup: kernel: /dev/ovup does not exist: the ovup module is not loaded" \
		"no ovup.ko: named"
	for args in "apply -k $WORK/tiny.c" "revert -k" "forget -k x"; do
		first=$ERR
		run_ovup $args
		is "$RC:$ERR" "1:$first" "no ovup.ko, ${args%% *}: the same line as list's"
	done
fi

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# a copy of ovup that uid 65534 can run wherever the checkout lives:
	# the scratch directory becomes passable (not listable) for it
	pub=$WORK/pub
	chmod 711 "$WORK"
	mkdir -m 755 "$pub"
	cp "$OVUP" "$pub/ovup"
	before=$(snap "$P")
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$pub/ovup" apply -p "$P" "$WORK/tiny.c" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	ERR=$(cat "$WORK/err")
	is "$RC" 1 "permission denied: exit 1"
	like "$ERR" "^ovup: pid $P: cannot open its memory: permission denied .*run ovup as .*root.*CAP_SYS_PTRACE" \
		"permission denied: explains uid/CAP_SYS_PTRACE"
	untouched "permission denied"
else
	pass "# SKIP permission test needs root and setpriv"
	pass "# SKIP"
	pass "# SKIP"
fi

run_ovup revert -p "$P"
is "$RC" 1 "nothing to revert: exit 1"
like "$ERR" "^ovup: pid $P: nothing to revert" "nothing to revert: said"
run_ovup revert -p "$P" nosuch
is "$RC" 1 "reverting an unknown name: exit 1"

patch good <<'P'
int compute(int x) { return x * 7; }
P
OVUP_FAULT=fail-at-protect run_bad apply -p "$P" "$WORK/good.c"
is "$RC" 1 "a failure after alloc (injected at protect): exit 1"
untouched "failure after alloc: the allocated blocks are gone again"

# a two-function patch whose second branch write fails: the first one,
# already written, must be put back
patch two <<'P'
int compute(int x) { return x * 7; }
int secret(int x) { return x * 9; }
P
OVUP_FAULT=pawrite:2 run_bad apply -p "$P" "$WORK/two.c"
is "$RC" 1 "second branch write fails: exit 1"
like "$ERR" "write of site 2 failed" "... the failing write is named"
untouched "second write fails: the first write was undone"
is "$(ask v call compute 5)" 11 "... compute is the old one"
OVUP_FAULT=pawrite:2,pawrite-undo run_bad apply -p "$P" "$WORK/two.c"
is "$RC" 4 "the undo fails too: exit 4, the target may be inconsistent"
like "$ERR" "could not restore" "... and says so"
stop_victim v

# a thread that sits inside the bytes to be overwritten: busy, retried,
# then exit 3 naming the thread
start_victim s "$V/victim-pie"
is "$(ask s block)" ok "a thread sleeps inside block_entry's first bytes"
P=$VPID
sleep 0.2
before=$(snap "$P")
patch spin <<'P'
void block_entry(void) { }
P
run_ovup apply -p "$P" --retries 3 "$WORK/spin.c"
is "$RC" 3 "busy: exit 3"
like "$ERR" "^ovup: pid $P: thread [0-9]+ \(blocker\) is executing the bytes to be changed at block_entry\+0x2 after 4 attempts; try again" \
	"busy: names the thread, its name and where it is"
snapnow=$(snap "$P")
is "$(grep -c . <<<"$snapnow")" "$(grep -c . <<<"$before")" "busy: no leftover mapping"
run_ovup list -p "$P"
like "$OUT" "no patches applied" "busy: nothing recorded"
stop_victim s

# malformed objects and patches, each refused with what is wrong
start_victim w "$V/victim-pie"
P=$VPID
echo "not an object" >"$WORK/junk.o"
run_bad apply -p "$P" "$WORK/junk.o"
is "$RC" 1 "a .o that is no ELF object: exit 1"
like "$ERR" "junk.o: neither C \(a .c file\) nor an ELF object" "... says what it is not"
unlike "$ERR" "No such file" "... not 'No such file or directory'"
untouched "non-ELF object"
run_ovup build -p "$P" "$WORK/good.c" -o "$WORK/good.o"
head -c $(($(stat -c %s "$WORK/good.o") / 2)) "$WORK/good.o" >"$WORK/half.o"
run_bad apply -p "$P" "$WORK/half.o"
is "$RC" 1 "a truncated object: exit 1"
like "$ERR" "half.o: not a whole ELF object \(truncated or corrupt\)" "... says it is truncated"
unlike "$ERR" "defines no function" "... not 'defines no function'"
untouched "truncated object"
patch ifunc-def <<'P'
static int impl(int x) { return x * 3; }
static int (*resolve(void))(int) { return impl; }
int compute(int x) __attribute__((ifunc("resolve")));
P
run_bad apply -p "$P" "$WORK/ifunc-def.c"
is "$RC" 1 "a patch that defines an IFUNC: exit 1"
like "$ERR" "'compute' is an IFUNC \(a resolver\): ovup runs no resolvers" "... refused as documented"
untouched "IFUNC in the patch"
patch entered <<'P'
int entered(int x) { return x + 2; }
P
run_bad apply -p "$P" "$WORK/entered.c"
is "$RC" 1 "a function another function jumps into: exit 1"
like "$ERR" "function 'entered': the branch at enters\+0x0 lands inside the [0-9]+ bytes the jump replaces" \
	"... names the branch in the other function"
untouched "branch from another function"
is "$(ask w call entered 1)" 2 "... and the function still works"
stop_victim w

# a path with control characters is listed harmlessly
start_victim c "$V/victim-pie"
P=$VPID
evil="$WORK/$(printf 'x\033[2Jy')z.c"
cp "$WORK/good.c" "$evil"
run_ovup apply -p "$P" --name evil "$evil"
is "$RC" 0 "a patch file whose name holds an escape sequence"
run_ovup list -p "$P"
unlike "$OUT" "$(printf '\033')" "list prints no control character"
like "$OUT" 'from .*x\\x1b\[2Jyz\.c' "... but shows it escaped"
stop_victim c

# the target dies in the middle of an apply
start_victim d "$V/victim-pie"
P=$VPID
OVUP_FAULT=exit-target-at-load run_ovup apply -p "$P" "$WORK/good.c"
is "$RC" 1 "target exiting mid-apply: exit 1"
like "$ERR" "^ovup: pid $P: the process exited while ovup was working on it" "... said clearly"

# usage errors
run_ovup apply "$WORK/good.c"
is "$RC" 2 "no target: exit 2"
run_ovup frobnicate
is "$RC" 2 "unknown verb: exit 2"
run_ovup apply -p 1 --bogus "$WORK/good.c"
is "$RC" 2 "unknown option: exit 2"
like "$ERR" "has no option '--bogus'" "... named"
run_ovup apply --help
is "$RC" 0 "--help: exit 0"
like "$OUT" "^usage: ovup apply" "--help goes to stdout"
done_testing
