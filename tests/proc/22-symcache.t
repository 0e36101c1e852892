#!/bin/bash
# The symbol cache: one file per object (by build-id and what its symbols
# were read from), written on the first run, read for the names a patch
# uses on the next; the same answers as reading every symbol; never
# believed when it is not exactly what ovup wrote for those files.
. "$(dirname "$0")/lib.sh"

export OVUP_CACHE_DIR=$WORK/cache
C=$OVUP_CACHE_DIR/symbols
start_victim z "$V/zvictim"
patch zerr <<'P'
#include <stdio.h>
#include <string.h>
#include <zlib.h>
const char *zError(int err)
{
	static char buf[64];
	const char *w = err == Z_DATA_ERROR ? "data error (patched)" : "other (patched)";

	if (err == 999) {
		snprintf(buf, sizeof(buf), "%p", (void *)memcpy);
		return buf;
	}
	memcpy(buf, w, strlen(w) + 1);
	return buf;
}
P

# what reading every symbol says, for comparison
OVUP_CACHE_DIR= run_ovup symbols -p "$VPID"
all=$OUT
is "$RC" 0 "no cache (OVUP_CACHE_DIR empty): symbols lists them all"
[ ! -e "$OVUP_CACHE_DIR" ]
ok $? "... and makes no cache directory"
# the plan without its addresses (each dry run picks its own blocks)
plan() { printf '%s\n' "$OUT" | sed -E 's/0x[0-9a-f]+/ADDR/g; s/jump( [0-9a-f]{2})+/jump/'; }
OVUP_CACHE_DIR= run_ovup apply --dry-run -p "$VPID" "$WORK/zerr.c"
cold=$(plan)

# 1. the first run writes one file per object with a build-id
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC" 0 "apply with an empty cache directory"
is "$(ask z zerror -3)" "data error (patched)" "... the new zError runs"
is "$(ask z zerror 999)" "$(ask z memcpy)" "... its memcpy is the IFUNC's choice"
run_ovup revert -p "$VPID"
is "$(stat -c %a "$C" "$OVUP_CACHE_DIR")" "700
700" "the cache directory, and its symbols/, are made 0700"
ids=$(for f in $(awk '$6 ~ /^\// {print $6}' "/proc/$VPID/maps" | sort -u); do
	readelf -n "$f" 2>/dev/null | awk '/Build ID/ {print $3}'
done | sort -u)
files=$(ls "$C" | sed 's/-[0-9a-f]\{16\}$//' | sort -u)
is "$files" "$ids" "one file for each object the process maps, named by its build-id"
is "$(stat -c %a "$C"/* | sort -u)" 600 "... each 0600"
libc_id=$(readelf -n /lib/x86_64-linux-gnu/libc.so.6 | awk '/Build ID/ {print $3}')
LIBC=$(ls "$C/$libc_id"-*)
[ -s "$LIBC" ]
ok $? "libc's cache holds its debug file's symbols ($(stat -c %s "$LIBC") bytes)"
stamp=$(stat -c '%i %Y %s' "$C"/*)

# 2. the next runs read it, and answer as reading every symbol does
run_ovup symbols -p "$VPID"
is "$OUT" "$all" "symbols from the cache: the same list, every line"
run_ovup apply --dry-run -p "$VPID" "$WORK/zerr.c"
is "$(plan)" "$cold" "apply --dry-run from the cache: the same plan as without one"
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC" 0 "apply from the cache"
is "$(ask z zerror -3)" "data error (patched)" "... the new zError runs"
is "$(ask z zerror 999)" "$(ask z memcpy)" "... with the same memcpy"
run_ovup revert -p "$VPID"
is "$(ask z zerror -3)" "data error" "reverted"
is "$(stat -c '%i %Y %s' "$C"/*)" "$stamp" "the cache files were read, not written again"
patch typo <<'P'
const char *zErorr(int err) { (void)err; return "x"; }
P
run_ovup apply -p "$VPID" "$WORK/typo.c"
like "$ERR" "did you mean 'zError'" "a name not in the table: suggestions from the caches' names"

# 3. a file that is not what ovup wrote for these files is not believed
cp "$LIBC" "$WORK/libc.cache"
head -c 1000 "$WORK/libc.cache" >"$LIBC"
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC.$(ask z zerror -3)" "0.data error (patched)" "a truncated libc cache: ignored, the apply is right"
cmp -s "$LIBC" "$WORK/libc.cache"
ok $? "... and the file is whole again"
run_ovup revert -p "$VPID"
head -c "$(stat -c %s "$LIBC")" /dev/urandom >"$LIBC"
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC.$(ask z zerror -3)" "0.data error (patched)" "random bytes of the right size: ignored"
run_ovup revert -p "$VPID"
# a whole, valid cache of another object under libc's name: its key
# names other files
z_id=$(readelf -n "$V/zvictim" | awk '/Build ID/ {print $3}')
cp "$C/$z_id"-* "$LIBC"
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC.$(ask z zerror -3)" "0.data error (patched)" "another object's valid cache under libc's name: ignored"
cmp -s "$LIBC" "$WORK/libc.cache"
ok $? "... and replaced"
run_ovup revert -p "$VPID"

# 4. a directory others can write to is not used
chmod 777 "$C"
rm "$C"/*
run_ovup apply -v -p "$VPID" "$WORK/zerr.c"
is "$RC.$(ask z zerror -3)" "0.data error (patched)" "a world-writable cache directory: apply reads every symbol"
like "$ERR" "symbol cache .*: not a directory of uid 0 that only it can write" "... and -v says why"
is "$(ls "$C" | wc -l)" 0 "... nothing written there"
run_ovup revert -p "$VPID"
chmod 700 "$C"
chown nobody "$C"
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC.$(ls "$C" | wc -l)" "0.0" "a directory of another user: not used either"
run_ovup revert -p "$VPID"
chown root "$C"
stop_victim z

# 5. what the symbols were read from is part of the key: a debug file
# installed after the first run is used, and one removed is not
start_victim v "$V/victim-stripped"
patch sec <<'P'
int secret(int x) { return x - 1; }
P
OVUP_DEBUG_ROOT=$WORK/nodebug run_ovup apply -p "$VPID" "$WORK/sec.c"
like "$RC $ERR" "^1 .*secret.*not found" "stripped, no debug file: the static function is not found (cached: .dynsym)"
n=$(ls "$C" | wc -l)
OVUP_DEBUG_ROOT=$V/debug run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC.$(ask v call secret 10)" "0.9" "the debug file installed: found, through a new cache file"
is "$(ls "$C" | wc -l)" "$((n + 1))" "... one more file: the same build-id, another key"
run_ovup revert -p "$VPID"
OVUP_DEBUG_ROOT=$WORK/nodebug run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 1 "the debug file gone again: not found (the debug file's cache is not used)"
# the same debug file changed in place (size and time): another key
mkdir -p "$WORK/dbg"
cp -a "$V/debug/." "$WORK/dbg/"
OVUP_DEBUG_ROOT=$WORK/dbg run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 0 "a copy of the debug file (another file): applies"
run_ovup revert -p "$VPID"
n=$(ls "$C" | wc -l)
# the stripped victim's own debug file (the others' would change nothing)
bid=$(readelf -n "$V/victim-stripped" | awk '/Build ID:/ { print $3 }')
f=$WORK/dbg/.build-id/${bid:0:2}/${bid:2}.debug
[ -f "$f" ] || fail "no debug file for build-id $bid"
touch -d '2001-01-01' "$f"
OVUP_DEBUG_ROOT=$WORK/dbg run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC.$(ls "$C" | wc -l)" "0.$((n + 1))" "... touched: read again, under a new key"
run_ovup revert -p "$VPID"
stop_victim v

# 6. ovup killed while it writes a cache file: the next run is right
start_victim v "$V/victim-pie"
patch fix <<'P'
int compute(int x) { return x * 1000; }
P
rm -rf "$OVUP_CACHE_DIR"
old=$(ask v call compute 3)
{ strace -f -o /dev/null -e trace=rename -e inject=rename:signal=SIGKILL:when=1 \
	"$OVUP" apply -p "$VPID" "$WORK/fix.c" >/dev/null 2>&1; } 2>/dev/null
is "$(ask v call compute 3)" "$old" "ovup killed at its first rename (a cache file): nothing applied"
is "$(ls "$C" | grep -c '\.tmp\.')" 1 "... it left its unfinished file, under a name nothing reads"
run_ovup apply -p "$VPID" "$WORK/fix.c"
is "$RC.$(ask v call compute 3)" "0.3000" "the next run applies"
run_ovup revert -p "$VPID"
run_ovup apply -p "$VPID" "$WORK/fix.c"
is "$RC.$(ask v call compute 3)" "0.3000" "... and the one after, from the cache"
run_ovup revert -p "$VPID"
done_testing
