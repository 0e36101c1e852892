#!/bin/bash
# Names resolved as the dynamic linker resolves them, on Debian's own
# libraries: a zlib function calling libc's memcpy and strlen (IFUNCs that
# ld.so also defines privately), symbol versions, and getpid replaced in a
# running multi-threaded memcached (libc's global, not ld.so's static).
. "$(dirname "$0")/lib.sh"

start_victim z "$V/zvictim"
is "$(ask z zerror -3)" "data error" "zlib's zError(Z_DATA_ERROR), before"
patch zerr <<'P'
#include <stdio.h>
#include <string.h>
#include <zlib.h>
const char *zError(int err)
{
	static char buf[64];
	const char *w = err == Z_DATA_ERROR ? "data error (patched)" : "other (patched)";
	size_t n = strlen(w);

	if (err == 999) { /* where this patch's memcpy goes */
		snprintf(buf, sizeof(buf), "%p", (void *)memcpy);
		return buf;
	}
	memcpy(buf, w, n + 1);
	return buf;
}
P
run_ovup apply -p "$VPID" "$WORK/zerr.c"
is "$RC" 0 "a zlib patch calling memcpy and strlen applies (was: 'memcpy' is ambiguous)"
unlike "$ERR" "ambiguous" "... no ambiguity between libc's memcpy and ld.so's private one"
like "$OUT" "zError +libz\.so" "... zError of libz.so.1 is replaced"
is "$(ask z zerror -3)" "data error (patched)" "the new zError runs, with libc's memcpy and strlen"
is "$(ask z zerror 999)" "$(ask z memcpy)" \
	"the patch's memcpy is the implementation the program's own calls reach (the IFUNC's choice)"
run_ovup revert -p "$VPID"
is "$RC" 0 "reverted"
is "$(ask z zerror -3)" "data error" "the old zError is back"

# an IFUNC that only another object's slot knows: libm has none of its
# own for floor, so its choice is known once the program has called it
patch zfloor <<'P'
#include <math.h>
#include <stdio.h>
const char *zError(int err)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "floor %g", floor(err * 2.5));
	return buf;
}
P
before=$(snap "$VPID")
run_ovup apply -p "$VPID" "$WORK/zfloor.c"
is "$RC" 1 "floor, which nothing has called yet: refused"
like "$ERR" "'floor' used by the patch is an IFUNC in libm\.so\.6 .*no object of the target has called it yet" \
	"... saying why and what to do"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
is "$(ask z floor 3)" 4 "the program calls floor once"
run_ovup apply -p "$VPID" "$WORK/zfloor.c"
is "$RC" 0 "now the patch applies: the program's bound slot names the implementation (was: refused)"
is "$(ask z zerror 3)" "floor 7" "... and the patch's floor computes"
run_ovup revert -p "$VPID"

# a thread-local variable of Debian's libc: errno itself
patch zerrno <<'P'
#include <stdio.h>
extern __thread int errno; /* libc's, not <errno.h>'s macro */
const char *zError(int err)
{
	static char buf[64];
	int e = errno;

	errno = err; /* and written */
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}
P
run_ovup apply -p "$VPID" "$WORK/zerrno.c"
is "$RC" 0 "a patch using libc's thread-local errno applies"
is "$(ask z seterrno 42)" ok "the program sets errno = 42"
is "$(ask z zerror 7)" "errno 42" "... the patch reads libc's errno of the calling thread"
is "$(ask z zerror 0)" "errno 7" "... and wrote it"
run_ovup revert -p "$VPID"

# symbol versions: plain memcpy is the default version; the old one only
# when the patch asks for it by version
run_ovup symbols -p "$VPID" 'memcpy*'
like "$OUT" "global memcpy +libc\.so\.6" "'symbols' lists libc's memcpy (its default version)"
like "$OUT" "global memcpy@GLIBC_2\.2\.5 +libc\.so\.6" "... and the old version by its versioned name"
old=$(echo "$OUT" | awk '$5 == "memcpy@GLIBC_2.2.5" { print $1 }' | sed 's/^0*/0x/')
patch zold <<'P'
#include <stdio.h>
#include <string.h>
void *old_memcpy(void *, const void *, size_t);
__asm__(".symver old_memcpy, memcpy@GLIBC_2.2.5");
const char *zError(int err)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%p %p", (void *)memcpy, (void *)old_memcpy);
	(void)err;
	return buf;
}
P
run_ovup apply -p "$VPID" "$WORK/zold.c"
is "$RC" 0 "a patch naming memcpy@GLIBC_2.2.5 applies"
read -r new_p old_p <<<"$(ask z zerror 1)"
is "$new_p" "$(ask z memcpy)" "... its plain memcpy is still the default version"
is "$old_p" "$old" "... and memcpy@GLIBC_2.2.5 is the old one, at its own address"
[ "$old_p" != "$new_p" ]
ok $? "... the two differ"
run_ovup revert -p "$VPID"
stop_victim z

# two global definitions: equals only when both are still called
start_victim v "$V/victim-pie"
is "$(ask v call lib_overridden 1)" 100002 "libvictim.so's call of overridden() reaches the executable's"
patch ovr <<'P'
int overridden(int x) { return x + 50; }
P
run_ovup apply -p "$VPID" "$WORK/ovr.c"
is "$RC" 0 "a global the executable interposes is not ambiguous"
like "$ERR" "'overridden' replaces victim-pie#1 \(global.*not replaced: libvictim\.so#1 \(global" \
	"... the library's definition, which nothing calls, is named as not replaced"
is "$(ask v call overridden 1)" 51 "the executable's calls run the new code"
is "$(ask v call lib_overridden 1)" 51 "... and so do the library's, through its PLT"
run_ovup revert -p "$VPID"
patch twin <<'P'
int twin(int x) { return x + 70; }
P
before=$(snap "$VPID")
run_ovup apply -p "$VPID" "$WORK/twin.c"
is "$RC" 1 "two globals both called (one protected) are ambiguous"
like "$ERR" "'twin' is ambiguous: victim-pie#1 \(global, 0x[0-9a-f]+\), which every call through a PLT or GOT binds to, libvictim\.so#1 \(global, 0x[0-9a-f]+\), which libvictim\.so's own calls reach" \
	"... the message says which callers bind to each"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
patch twinlib <<'P'
#include <ovup.h>
OVUP_OBJECT(twin, "libvictim.so");
int twin(int x) { return x + 70; }
P
run_ovup apply -p "$VPID" "$WORK/twinlib.c"
is "$RC" 0 "OVUP_OBJECT chooses the library's twin"
is "$(ask v call lib_twin 1)" 71 "... the library's own calls run it"
is "$(ask v call twin 1)" 100003 "... the executable's twin is unchanged"
run_ovup revert -p "$VPID"
stop_victim v

# a copy-relocated variable: the executable's copy, the one libc's own
# code uses too (libc's original is never used again)
start_victim n "$V/victim-nopie"
run_ovup symbols -p "$VPID" optarg
like "$OUT" "global optarg +victim-nopie" \
	"'symbols' names the executable's copy 'optarg' (its .symtab says optarg@GLIBC_2.2.5)"
copy=$(echo "$OUT" | awk '$6 == "victim-nopie" { print $1 }' | sed 's/^0*//')
patch opt <<'P'
extern char *optarg;
int lib_compute(int x) { return (int)(long)&optarg + x; }
P
run_ovup apply -p "$VPID" "$WORK/opt.c"
is "$RC" 0 "a libvictim.so patch using libc's optarg applies to a non-PIE program"
is "$(printf '%x' "$(ask n call lib_compute 0)")" "$copy" \
	"... and uses the executable's copy, at 0x$copy (was: libc's original)"
run_ovup revert -p "$VPID"
stop_victim n

# getpid in a running multi-threaded daemon
port=$((20000 + $$ % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
(memcached -u root -l 127.0.0.1 -p "$port" -U 0 -t 4 >"$WORK/mc.log" 2>&1 &)
mc() { # mc COMMAND: memcached's answer to one command
	local out
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%s\r\nquit\r\n' "$1" >&3
	out=$(tr -d '\r' <&3)
	exec 3>&-
	echo "$out"
}
for i in $(seq 100); do mc version >/dev/null 2>&1 && break; sleep 0.1; done
MC=$(pgrep -n -f "^memcached -u root -l 127.0.0.1 -p $port ")
track "$MC"
[ "$(ls "/proc/$MC/task" | wc -l)" -ge 5 ]
ok $? "memcached runs with $(ls "/proc/$MC/task" | wc -l) threads"
is "$(mc stats | sed -n 's/^STAT pid //p')" "$MC" "memcached's 'stats' reports its pid from getpid()"
patch gp <<'P'
int getpid(void) { return 4242; }
P
run_ovup apply -p "$MC" "$WORK/gp.c"
is "$RC" 0 "getpid patch applies (was: 'getpid' is ambiguous)"
like "$OUT" "getpid +libc\.so\.6" "... libc's global getpid, which the program's calls bind to"
like "$ERR" "'getpid' replaces libc\.so\.6#1 \(global.*not replaced: ld-linux-x86-64\.so\.2#1 \(static" \
	"... and ld.so's private getpid is named as not replaced, in one line"
is "$(mc stats | sed -n 's/^STAT pid //p')" 4242 "memcached's worker thread now gets 4242"
mc "set k 0 0 2
hi" >/dev/null
like "$(mc 'get k')" "VALUE k 0 2" "... and still serves requests"
run_ovup revert -p "$MC"
is "$RC" 0 "reverted"
is "$(mc stats | sed -n 's/^STAT pid //p')" "$MC" "the real pid again"

# a reference found nowhere names where it was looked for
patch gone <<'P'
extern int no_such_function_anywhere(void);
int getpid(void) { return no_such_function_anywhere(); }
P
run_ovup apply -p "$MC" "$WORK/gone.c"
is "$RC" 1 "a symbol nowhere: exit 1"
like "$ERR" "symbol 'no_such_function_anywhere' used by the patch is not in the static symbols of libc\.so\.6 and the global symbols of memcached, .*libc\.so\.6.* and ld-linux-x86-64\.so\.2" \
	"... the message names the objects searched, the executable first and the loader last"
kill "$MC"
done_testing
