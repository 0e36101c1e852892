#!/bin/bash
# Thread-local variables of the target (__thread in the executable and in
# libvictim.so, loaded at start): a patch reads and writes them, each
# thread its own copy, at the offset from the thread pointer the victim
# itself reports; after the revert the old code reads what the patch
# wrote.  Refused, with the target untouched: a patch defining its own
# thread-local variable, a variable of a library loaded by dlopen
# (dynamic TLS), an access by another model than initial-exec, and a
# patch that disagrees with the target on whether a variable is
# thread-local.
. "$(dirname "$0")/lib.sh"

patch tls <<'P'
extern __thread int tls_exe; /* victim-pie */
extern __thread int lib_tls; /* libvictim.so */
int tls_get(int x)
{
	tls_exe += x;
	lib_tls += 1;
	return tls_exe * 1000 + lib_tls;
}
P

# victim-stripped: its symbols, tls_exe's too, from the split debug file
export OVUP_DEBUG_ROOT=$V/debug
for bin in victim-pie victim-nopie victim-stripped; do
	start_victim v "$V/$bin"
	is "$(ask v tls 0 1)" 31 "$bin: tls_get(1) reads tls_exe 10 and lib_tls 20 (main thread)"
	is "$(ask v tls 1 1)" 31 "$bin: ... and the same in another thread"
	read -r exe_off lib_off <<<"$(ask v tpoff)"
	run_ovup apply -v -p "$VPID" "$WORK/tls.c"
	is "$RC" 0 "$bin: a patch using two thread-local variables applies"
	[ "$RC" = 0 ] || diag "$ERR"
	# ovup's offsets from the thread pointer are where the variables are
	like "$ERR" "thread-local 'tls_exe' of $bin: $exe_off from the thread pointer" \
		"$bin: tls_exe at $exe_off from the thread pointer, as the victim sees it"
	like "$ERR" "thread-local 'lib_tls' of libvictim.so: $lib_off from the thread pointer" \
		"$bin: lib_tls at $lib_off from the thread pointer, as the victim sees it"
	is "$(ask v tls 1 5)" 15021 "$bin: thread 1 reads and writes its own copies (10+5, 20+1)"
	is "$(ask v tls 1 5)" 20022 "$bin: ... which keep what it wrote (15+5, 21+1)"
	is "$(ask v tls 2 5)" 15021 "$bin: thread 2 has its own copies, untouched by thread 1"
	is "$(ask v tls 0 7)" 17021 "$bin: so has the main thread"
	run_ovup revert -p "$VPID"
	is "$RC" 0 "$bin: revert"
	# the old code, back, reads the very variables the patch wrote
	is "$(ask v tls 1 1)" 43 "$bin: the old tls_get back, in thread 1: 1 + 20 + 22"
	is "$(ask v tls 2 1)" 37 "$bin: ... in thread 2: 1 + 15 + 21"
	is "$(ask v tls 0 1)" 39 "$bin: ... in the main thread: 1 + 17 + 21"
	stop_victim v
done

# the address of a thread-local variable, passed to a helper; through
# 'ovup build' and an object
patch addr <<'P'
extern __thread int tls_exe;
static __attribute__((noipa)) void bump(int *p, int x) { *p += x; }
int tls_get(int x) { bump(&tls_exe, x); return -tls_exe; }
P
start_victim v "$V/victim-pie"
run_ovup build -p "$VPID" -o "$WORK/addr.o" "$WORK/addr.c"
is "$RC" 0 "build: a patch taking a thread-local variable's address"
run_ovup apply -p "$VPID" "$WORK/addr.o"
is "$RC" 0 "... its object applies"
[ "$RC" = 0 ] || diag "$ERR"
is "$(ask v tls 1 3)" -13 "... &tls_exe in thread 1 is thread 1's variable"
is "$(ask v tls 1 3)" -16 "... which keeps the change"
is "$(ask v tls 0 1)" -11 "... and the main thread's is its own"
run_ovup revert -p "$VPID"
is "$RC" 0 "... reverted"
is "$(ask v tls 1 0)" 36 "... the old code reads thread 1's 16 + 20"
stop_victim v

start_victim v "$V/victim-pie"
ask v tls 1 0 >/dev/null # the thread exists before the snapshots

# refusals: each one-line, exit 1, nothing changed in the target
refused() { # NAME DESCRIPTION PATTERN
	local before
	before=$(snap "$VPID")
	run_ovup apply -p "$VPID" "$WORK/$1.c"
	is "$RC" 1 "$2: refused"
	like "$ERR" "$3" "$2: the reason"
	is "$(printf '%s\n' "$ERR" | wc -l)" 1 "$2: in one line"
	same_mem "$before" "$(snap "$VPID")" "$2: the target is untouched"
}

patch own <<'P'
__thread int mine;
int tls_get(int x) { return x + mine++; }
P
refused own "a patch's own __thread variable" \
	"'mine' is a thread-local variable of the patch: ovup cannot add one"
patch own_static <<'P'
static __thread int counter = 4;
int tls_get(int x) { return x + counter++; }
P
refused own_static "a patch's own static __thread variable" \
	"'counter' is a thread-local variable of the patch"

patch gd <<'P'
extern __thread int tls_exe;
int tls_get(int x) { return x + tls_exe; }
P
run_ovup build -p "$VPID" -o "$WORK/gd.o" "$WORK/gd.c" -- -ftls-model=global-dynamic
is "$RC" 1 "a build with -ftls-model=global-dynamic is refused"
like "$ERR" "'tls_exe' is accessed with the general-dynamic model; .*-ftls-model=initial-exec" \
	"... naming the variable, the model and the flag"
patch le <<'P'
extern __thread int tls_exe;
int tls_get(int x) { return x + tls_exe; }
P
run_ovup build -p "$VPID" -o "$WORK/le.o" "$WORK/le.c" -- -ftls-model=local-exec
is "$RC" 1 "a build with -ftls-model=local-exec is refused"
like "$ERR" "'tls_exe' is accessed with the local-exec model" "... naming the model"

patch not_tls <<'P'
extern int tls_exe;
int tls_get(int x) { return x + tls_exe; }
P
refused not_tls "a thread-local variable declared without __thread" \
	"'tls_exe' is a thread-local variable in victim-pie; declare it 'extern __thread'"
patch not_target_tls <<'P'
extern __thread int offset;
int tls_get(int x) { return x + offset; }
P
refused not_target_tls "a global declared __thread" \
	"'offset' is declared __thread in the patch but is not thread-local in victim-pie"

is "$(ask v dlopen)" 3 "the victim loads libtlsdl.so with dlopen and reads its dl_tls"
patch dl <<'P'
extern __thread int dl_tls;
int tls_get(int x) { return x + dl_tls; }
P
refused dl "a variable of a library loaded by dlopen" \
	"variable 'dl_tls' of libtlsdl.so is in dynamic TLS \\(loaded by dlopen\\); ovup can only reach thread-local variables of objects loaded at start"
is "$(ask v tls 1 1)" 31 "tls_get is still the old one"
stop_victim v
done_testing
