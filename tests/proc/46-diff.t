#!/bin/bash
# A patch from a diff: `apply --diff FIX.patch --source DIR` compiles the
# unit before and after the diff, finds the functions whose code changed
# (and those a changed function was inlined into), binds everything else
# to the running target's own functions and variables, and refuses what
# it cannot express: headers, struct layouts, initial values.
. "$(dirname "$0")/lib.sh"

SRC=$WORK/src
mkdir -p "$SRC"
cp "$ROOT/tests/victims/victim.c" "$SRC/"
# mkdiff NAME SED-EXPR: a diff of victim.c, as upstream would publish it
mkdiff() {
	rm -rf "$WORK/a" "$WORK/b"
	mkdir -p "$WORK/a" "$WORK/b"
	cp "$SRC/victim.c" "$WORK/a/" && cp "$SRC/victim.c" "$WORK/b/"
	sed -i "$2" "$WORK/b/victim.c"
	(cd "$WORK" && diff -u a/victim.c b/victim.c >"$WORK/$1.patch")
	[ -s "$WORK/$1.patch" ]
}

start_victim v "$V/victim-pie"
P=$VPID
is "$(ask v call compute 5)" 11 "compute(5) is 11"
is "$(ask v call secret 5)" 1006 "secret(5) is 1006"

# one global function, changed
mkdiff times5 's/\treturn x \* 2 + offset;/\treturn x * 5 + offset;/'
ok $? "a diff of compute()"
before=$(snap "$P")
run_ovup apply -n -p "$P" --diff "$WORK/times5.patch" --source "$SRC" --json
is "$RC" 0 "apply --dry-run --json --diff"
like "$OUT" '"dry_run":true,"diff":\{"file":"victim.c","flags_from":null,"changed":\["compute"\],"new":\[\],"affected":\[\],"carried":\[\]\}' \
	"... its JSON says what the diff changed"
same_mem "$before" "$(snap "$P")" "... and the dry run changed nothing"
run_ovup build -p "$P" --diff "$WORK/times5.patch" --source "$SRC" -o "$WORK/times5.o" --json
like "$RC:$OUT" '^0:.*"functions":1,"dry_run":false,"diff":\{"file":"victim.c","flags_from":null,"changed":\["compute"\]' "build --diff --json writes an object and says the same"
run_ovup info "$WORK/times5.o"
like "$OUT" "compute" "... an object info reads"
run_ovup apply -p "$P" "$WORK/times5.o"
is "$RC" 0 "the object applies (its DWARF lets ovup wrap compute for its callers' registers)"
is "$(ask v call compute 5)" 26 "... and runs"
run_ovup revert -p "$P"
run_ovup apply -p "$P" --diff "$WORK/times5.patch" --source "$SRC"
is "$RC" 0 "apply --diff"
like "$ERR" "^ovup: victim.c: changed: compute$" "... found compute changed, and nothing else"
like "$OUT" "^applied 'times5' to pid $P" "... named after the diff"
like "$OUT" "^  compute " "... replacing compute"
is "$(ask v call compute 5)" 26 "compute(5) is 5*5+offset: the fixed code runs"
# the program's own 'calls', which compute() counts in, not a copy
calls=$("$OVUP" symbols -p "$P" calls | awk '$5 == "calls" { print "0x" $1; exit }')
le32() { echo $((16#${1:6:2}${1:4:2}${1:2:2}${1:0:2})); }
c0=$(le32 "$("$H/peek" "$P" "$calls" 4)")
ask v call compute 1 >/dev/null
ask v call compute 2 >/dev/null
is "$(le32 "$("$H/peek" "$P" "$calls" 4)")" $((c0 + 2)) "... counting its calls in the program's own 'calls' ($calls), no copy of it"
run_ovup revert -p "$P"
is "$(ask v call compute 5)" 11 "reverted: compute(5) is 11 again"

# the switches the target was compiled with (DW_AT_producer) are compared
# with the patch's: a different optimisation level is named
run_ovup apply -n -p "$P" --diff "$WORK/times5.patch" --source "$SRC" -- -O1
is "$RC" 0 "a dry run with -O1"
like "$ERR" "^ovup: victim.c: victim-pie was compiled with -O2, the patch with -O1; give the target's switches after '--'" \
	"a patch compiled with -O1 for a target built with -O2: said"
run_ovup apply -n -p "$P" --diff "$WORK/times5.patch" --source "$SRC"
unlike "$ERR" "was compiled with" "... and nothing said when they match"
# the flags of a compile_commands.json (as bear or a build system writes
# it) in the source tree, "arguments" or a quoted "command"
printf '[{"directory": "%s", "file": "other.c", "arguments": ["cc", "-O3", "-c", "other.c"]},\n {"directory": "%s", "file": "victim.c",\n  "arguments": ["cc", "-O1", "-DNOTE=\\"a b\\"", "-Wall", "-c", "victim.c", "-o", "victim.o"]}]\n' \
	"$SRC" "$SRC" >"$SRC/compile_commands.json"
run_ovup apply -n -p "$P" --diff "$WORK/times5.patch" --source "$SRC" --json
is "$RC" 0 "a dry run with a compile_commands.json"
like "$ERR" "^ovup: victim.c: 2 compiler flags from $SRC/compile_commands.json$" "... takes the unit's flags from it (-O1, -D; not -Wall, -c, -o)"
like "$ERR" "victim-pie was compiled with -O2, the patch with -O1" "... and compiles with them"
like "$OUT" "\"flags_from\":\"$SRC/compile_commands.json\"" "... as its JSON says"
printf '[{"directory": "%s", "file": "%s/victim.c", "command": "gcc -O1 -DNOTE=\x27a b\x27 -c victim.c"}]\n' "$SRC" "$SRC" >"$SRC/compile_commands.json"
run_ovup apply -n -p "$P" --diff "$WORK/times5.patch" --source "$SRC"
like "$ERR" "^ovup: victim.c: 2 compiler flags from $SRC/compile_commands.json$" "... or from a quoted command line"
like "$ERR" "victim-pie was compiled with -O2, the patch with -O1" "... the same"
run_ovup apply -n -p "$P" --diff "$WORK/times5.patch" --source "$SRC" -- -O2
unlike "$ERR" "was compiled with" "flags after '--' come last and win"
rm "$SRC/compile_commands.json"

# a static function: replaced, non-static in the patch
mkdiff secret 's/\treturn x + 1000 + offset;/\treturn x + 2000 + offset;/'
run_ovup apply -p "$P" --diff "$WORK/secret.patch" --source "$SRC"
is "$RC" 0 "apply --diff of a static function"
like "$ERR" "changed: secret$" "... found secret changed"
is "$(ask v call secret 5)" 2006 "secret(5) is 2006"
run_ovup revert -p "$P"
is "$(ask v call secret 5)" 1006 "reverted"

# a static inline function changed: its out-of-line copy is changed, and
# the function it was inlined into is affected (its source did not
# change, its code did): both are replaced
is "$(ask v call uses_inline 2)" 16 "uses_inline(2) is 2*7+offset+1 = 16"
mkdiff inl 's/\treturn x \* 7 + offset;/\treturn x * 8 + offset;/'
run_ovup apply -p "$P" --diff "$WORK/inl.patch" --source "$SRC" --json
is "$RC" 0 "apply --diff of a change to an inlined static function"
like "$OUT" '"changed":\["inl_scale"\],"new":\[\],"affected":\["uses_inline"\]' \
	"... inl_scale changed, uses_inline affected"
like "$ERR" "unchanged but affected \(a change inlined into it\), replaced too: uses_inline" "... as its note says"
is "$(ask v call uses_inline 2)" 18 "uses_inline(2) is 2*8+offset+1 = 18: the inlined copy is fixed too"
is "$(ask v call inl_scale 2)" 17 "... and so is the out-of-line one"
run_ovup revert -p "$P"
is "$(ask v call uses_inline 2)" 16 "reverted"

# refusals: the target untouched
before=$(snap "$P")
mkdiff init 's/^int offset = 1;/int offset = 7;/'
run_ovup apply -p "$P" --diff "$WORK/init.patch" --source "$SRC"
is "$RC" 1 "a changed initial value is refused"
like "$ERR" "victim.c:[0-9]+: the diff changes the initial value of 'offset'" "... naming the variable and the line"
mkdiff layout 's/^\tint (\*fn)(int);$/\tint (*fn)(int);\n\tint spare;/'
run_ovup apply -p "$P" --diff "$WORK/layout.patch" --source "$SRC"
is "$RC" 1 "a changed struct layout is refused"
like "$ERR" "victim.c:[0-9]+: the diff changes the definition of 'static const struct', whose layout running code may use" \
	"... naming the type and the line"
# the fix makes serve() inline where it is called: the running program
# has its own copy of it, which a patch of those callers would leave old
mkdiff serve 's/^static void serve(void)$/static inline __attribute__((always_inline)) void serve(void)/; s/^\tprintf("ready %d\\n", (int)getpid());$/\tprintf("ready  %d\\n", (int)getpid());/'
run_ovup apply -p "$P" --diff "$WORK/serve.patch" --source "$SRC"
is "$RC" 1 "a change to a function the target has a copy of, but this compile inlines away, is refused"
like "$ERR" "victim.c:[0-9]+: the diff changes 'serve', of which the running program has its own copy \(serve\), but the unit compiled here has none" \
	"... naming it, and what to give"
mkdiff same 's/^NOINLINE int compute(int x)$/NOINLINE int compute(int x) \/\* the fix \*\//'
run_ovup apply -p "$P" --diff "$WORK/same.patch" --source "$SRC"
is "$RC" 1 "a diff that changes no code is refused"
like "$ERR" "changes the code of no function of victim.c" "... saying so"
printf -- '--- a/x.h\n+++ b/x.h\n@@ -1 +1 @@\n-a\n+b\n' >"$WORK/hdr.patch"
run_ovup apply -p "$P" --diff "$WORK/hdr.patch" --source "$SRC"
is "$RC" 1 "a diff of a header only is refused"
like "$ERR" "hdr.patch: changes headers only; a header's code runs where a unit includes it" "... saying why"
printf -- '--- a/README\n+++ b/README\n@@ -1 +1 @@\n-a\n+b\n' >"$WORK/doc.patch"
run_ovup apply -p "$P" --diff "$WORK/doc.patch" --source "$SRC"
like "$RC:$ERR" "^1:.*touches no C file" "a diff of no C file is refused"
mkdiff times5 's/\treturn x \* 2 + offset;/\treturn x * 5 + offset;/'
sed -i 's/^-\treturn x \* 2 + offset;/-\treturn x * 9 + offset;/' "$WORK/times5.patch"
run_ovup apply -p "$P" --diff "$WORK/times5.patch" --source "$SRC"
like "$RC:$ERR" "^1:.*does not apply to $SRC/victim.c" "a diff that does not apply is refused"
same_mem "$before" "$(snap "$P")" "the refusals left the target as it was"
is "$(ask v call compute 5)" 11 "... and compute(5) is 11"

# a diff of two files: each unit compiled and compared, one patch of both
cp "$ROOT/tests/victims/dup_a.c" "$ROOT/tests/victims/dup_b.c" "$SRC/"
# mkdiffs NAME FILE:SED...: one diff of several files of $SRC
mkdiffs() {
	local name=$1 arg f
	shift
	rm -rf "$WORK/a" "$WORK/b"
	mkdir -p "$WORK/a" "$WORK/b"
	cp "$SRC"/*.[ch] "$WORK/a/" && cp "$SRC"/*.[ch] "$WORK/b/"
	for arg; do
		f=${arg%%:*}
		sed -i "${arg#*:}" "$WORK/b/$f"
	done
	(cd "$WORK" && diff -ru a b >"$WORK/$name.patch")
	[ -s "$WORK/$name.patch" ]
}
is "$(ask v call dup_a 1)" 101 "dup_a(1) is 101"
b0=$(ask v call dup_b 1)
mkdiffs two 'victim.c:s/\treturn x \* 2 + offset;/\treturn x * 5 + offset;/' 'dup_a.c:s/k = 100;/k = 200;/'
run_ovup apply -p "$P" --diff "$WORK/two.patch" --source "$SRC"
is "$RC" 0 "a diff of victim.c and dup_a.c applies${ERR:+ ($ERR)}"
like "$ERR" "^ovup: victim.c: changed: compute$" "... compute changed in victim.c"
like "$ERR" "^ovup: dup_a.c: changed: helper$" "... and the static helper in dup_a.c"
is "$(ask v call compute 5)" 26 "compute(5) is 26"
is "$(ask v call dup_a 1)" 201 "dup_a(1) is 201: dup_a.c's helper replaced"
is "$(ask v call dup_b 1)" "$b0" "dup_b, whose static helper has the same name, is untouched ($b0)"
run_ovup revert -p "$P"
is "$(ask v call compute 5):$(ask v call dup_a 1)" "11:101" "reverted: both back"
before=$(snap "$P")
mkdiffs both 'dup_a.c:s/k = 100;/k = 200;/' 'dup_b.c:s/k = [0-9]*;/k = 300;/'
run_ovup apply -p "$P" --diff "$WORK/both.patch" --source "$SRC"
is "$RC" 1 "a diff of two files that both change a static 'helper': refused"
like "$ERR" "dup_b.c: the patch uses or replaces the static 'helper', and so does the part of another file of the diff" \
	"... saying why (statics are bound by name), and to split it"
same_mem "$before" "$(snap "$P")" "... the target as it was"

# headers: what no unit left out can notice (a comment, a new macro, a new
# declaration) goes with the diff; a changed macro or inline function, or
# a diff of headers only, is refused at its file:line
printf '/* fix.h: shared by the units */\n#define OLD_FACTOR 2\nstatic inline int fix_twice(int x)\n{\n\treturn 2 * x;\n}\n' >"$SRC/fix.h"
mkdiffs hdr 'fix.h:s|^#define OLD_FACTOR 2$|#define OLD_FACTOR 2\n/* the factor the fix uses */\n#define FIX_FACTOR 5\nint fix_declared(int);|' \
	'victim.c:1i #include "fix.h"' 'victim.c:s/\treturn x \* 2 + offset;/\treturn x * FIX_FACTOR + offset;/'
run_ovup apply -p "$P" --diff "$WORK/hdr.patch" --source "$SRC"
is "$RC" 0 "a diff that adds a macro and a declaration to fix.h and uses the macro in victim.c applies${ERR:+ ($ERR)}"
like "$ERR" "^ovup: fix.h: a comment, new macro or declaration: no unit left out can notice it$" "... saying why the header change is safe"
is "$(ask v call compute 5)" 26 "... and compute(5) is 5*FIX_FACTOR+offset"
run_ovup revert -p "$P"
before=$(snap "$P")
mkdiffs hmacro 'fix.h:s/OLD_FACTOR 2/OLD_FACTOR 3/' 'victim.c:s/\treturn x \* 2 + offset;/\treturn x * 5 + offset;/'
run_ovup apply -p "$P" --diff "$WORK/hmacro.patch" --source "$SRC"
like "$RC:$ERR" "^1:ovup: fix.h:2: the diff changes the macro 'OLD_FACTOR'; units the diff does not touch may use it" \
	"a changed macro in a header: refused at its file:line"
mkdiffs hinline 'fix.h:s/return 2 \* x;/return 3 * x;/' 'victim.c:s/\treturn x \* 2 + offset;/\treturn x * 5 + offset;/'
run_ovup apply -p "$P" --diff "$WORK/hinline.patch" --source "$SRC"
like "$RC:$ERR" "^1:ovup: fix.h:5: the diff changes the inline function 'fix_twice' of a header; units the diff does not touch may have inlined it" \
	"a changed inline function in a header: refused, naming it and its file:line"
mkdiffs honly 'fix.h:s|^/\* fix.h: shared by the units \*/$|/* fix.h: shared by the units (and documented) */|'
run_ovup apply -p "$P" --diff "$WORK/honly.patch" --source "$SRC"
like "$RC:$ERR" "^1:ovup: .*honly.patch: changes headers only" "a diff of headers only: refused"
same_mem "$before" "$(snap "$P")" "... the refusals left the target as it was"

# no running target: --dry-run says what the diff changes; --object builds
# for the program file, and the object applies to a process that runs it
mkdiff times5 's/\treturn x \* 2 + offset;/\treturn x * 5 + offset;/'
run_ovup build --diff "$WORK/times5.patch" --source "$SRC" --dry-run --json
like "$RC:$OUT" '^0:\{"patch":"times5","output":null,"functions":1,"dry_run":true,"diff":\{"file":"victim.c",.*"changed":\["compute"\]' \
	"build --diff --dry-run with no target: what the diff changes"
run_ovup build --diff "$WORK/times5.patch" --source "$SRC" -n
like "$RC:$OUT" "^0:would build 'times5' for no target \(1 function\); nothing written" "... in words too"
like "$ERR" "^ovup: victim.c: changed: compute$" "... naming compute"
run_ovup build --diff "$WORK/times5.patch" --source "$SRC" -o "$WORK/none.o"
like "$RC:$ERR" "^2:ovup: 'ovup build' needs a target: -p PID \(a process\) or -k \(the kernel\), or --object FILE" \
	"an object needs a target: say which"
ok $([ ! -e "$WORK/none.o" ]; echo $?) "... and none is written"
run_ovup build --object "$V/victim-pie" --diff "$WORK/times5.patch" --source "$SRC" -o "$WORK/file.o"
like "$RC:$OUT" "^0:built 'times5' for victim-pie: $WORK/file.o" "build --object: for the program file, no process"
run_ovup build --object "$WORK/times5.patch" --diff "$WORK/times5.patch" --source "$SRC" -o "$WORK/bad.o"
like "$RC:$ERR" "^1:ovup: .*times5.patch: not an ELF program or library" "--object of a file that is no program: refused"
run_ovup build --object "$V/victim-pie" -p "$P" --diff "$WORK/times5.patch" --source "$SRC" -o "$WORK/bad.o"
like "$RC:$ERR" "^2:.*the target is already the file" "... and one target only"
run_ovup apply -p "$P" "$WORK/file.o"
is "$RC" 0 "the object built for the file applies to the process running it"
is "$(ask v call compute 5)" 26 "... and compute(5) is 26"
run_ovup revert -p "$P"
is "$(ask v call compute 5)" 11 "reverted"

stop_victim v
done_testing
