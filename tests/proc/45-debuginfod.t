#!/bin/bash
# Debug symbols of a stripped program from a debuginfod server: a real
# debuginfod serving the victim's debug file (static function found,
# patched, reverted; then from the client's cache with the server gone);
# and the ways it goes wrong, each with one clear line, in bounded time,
# the target untouched: no DEBUGINFOD_URLS, nothing listening, a server
# that sends garbage, a server that never answers.
. "$(dirname "$0")/lib.sh"

if ! command -v debuginfod >/dev/null || ! command -v curl >/dev/null; then
	pass "# SKIP debuginfod or curl is not installed (make check installs them)"
	done_testing
fi
# the victim's build-id (readelf, from binutils), and its debug file
BID=$(readelf -n "$V/victim-stripped" | sed -n 's/.*Build ID: *//p')
DBG=$V/debug/.build-id/${BID:0:2}/${BID:2}.debug
like "$BID" "^[0-9a-f]{40}$" "the victim's debug file is named by its build-id"
# no local debug file for any object (libc6-dbg's are hidden too)
export OVUP_DEBUG_ROOT=$WORK/nodebug

# a port nobody listens on right now
free_port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport'; }
# elapsed milliseconds of run_ovup ARGS... (in MS)
timed_ovup() {
	local t0
	t0=$(date +%s%N)
	run_ovup "$@"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

start_victim v "$V/victim-stripped"
patch sec <<'P'
int secret(int x) { return x - 1; }
P

# 1. no DEBUGINFOD_URLS: the static function is not found, and the
# message says how to get it, the server way included
before=$(snap "$VPID")
run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 1 "no debug file, no DEBUGINFOD_URLS: exit 1"
like "$ERR" "secret.*not found in the target" "... the static function is not found"
like "$ERR" "victim-stripped has only \.dynsym, no symbol table \(build-id $BID\)" \
	"... names the object as having only .dynsym, with its build-id"
like "$ERR" "install its debug file $WORK/nodebug/\.build-id/${BID:0:2}/${BID:2}\.debug" \
	"... and the debug file that would provide it"
like "$ERR" "or set DEBUGINFOD_URLS to a debuginfod server" "... and DEBUGINFOD_URLS"
unlike "$ERR" "has no symbol table; install" "... not the old wording without build-id"
unlike "$ERR" "warning" "... and no warning: no server was asked"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"

# 2. 'symbols' without debug info: no match, exit 0, and why
run_ovup symbols -p "$VPID" 'secret*'
is "$RC" 0 "symbols 'secret*' without debug info: exit 0 (no match is an answer)"
is "$OUT" "" "... nothing on stdout"
like "$ERR" "no symbol matches 'secret\*'; the static symbols of these objects are unknown:" \
	"... says there is no match and why"
like "$ERR" "victim-stripped has only \.dynsym, no symbol table \(build-id $BID\); install" \
	"... naming the object with its build-id and how to get its symbols"
run_ovup symbols -q -p "$VPID" 'secret*'
is "$RC" 0 "... with -q: exit 0"
like "$ERR" "victim-stripped has only \.dynsym" "... also with -q: it is the answer"
run_ovup symbols -p "$VPID" 'strlen'
like "$OUT" "func +global strlen +libc.so.6" "symbols with a match lists it"
like "$ERR" "victim-stripped has only \.dynsym.*its static symbols are not listed" \
	"... and notes the objects whose static symbols are not listed"
run_ovup symbols -q -p "$VPID" 'strlen'
like "$OUT" "func +global strlen +libc.so.6" "... with -q too"
unlike "$ERR" "has only \.dynsym" "... a note -q silences"
run_ovup symbols --json -p "$VPID" 'secret*'
like "$OUT" "\"dynsym_only\": ?\[.*\"object\": ?\"[^\"]*victim-stripped\", ?\"build_id\": ?\"$BID\"" \
	"--json: dynsym_only names the object and its build-id"

# 3. a real debuginfod serving the debug file
mkdir -p "$WORK/srv" "$WORK/db"
cp "$DBG" "$WORK/srv/victim-stripped.debug"
# libc's too (libc6-dbg): big enough for a progress line
LIBC=$(awk '/libc\.so/ { print $6; exit }' "/proc/$VPID/maps")
LIBC_BID=$(readelf -n "$LIBC" | sed -n 's/.*Build ID: //p')
LIBC_DBG=/usr/lib/debug/.build-id/${LIBC_BID:0:2}/${LIBC_BID:2}.debug
[ -f "$LIBC_DBG" ] && cp "$LIBC_DBG" "$WORK/srv/libc.debug"
PORT=$(free_port)
debuginfod -F -p "$PORT" -d "$WORK/db/db.sqlite" "$WORK/srv" >"$WORK/debuginfod.log" 2>&1 &
DPID=$!
track "$DPID"
# it answers for the build-id once its scan has seen the file
for i in $(seq 300); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/buildid/$BID/debuginfo" 2>/dev/null)
	[ "$code" = 200 ] && break
	sleep 0.1
done
is "$code" 200 "debuginfod serves the victim's debug file"
export DEBUGINFOD_URLS=http://127.0.0.1:$PORT
# on a terminal, one line that updates (\r) and is cleared at the end
if [ -f "$LIBC_DBG" ] && command -v script >/dev/null; then
	for i in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/buildid/$LIBC_BID/debuginfo" 2>/dev/null)
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	export DEBUGINFOD_CACHE_PATH=$WORK/cache-tty
	tty=$(script -qec "'$OVUP' symbols -p $VPID secret" /dev/null | tr '\r\033' 'RE')
	like "$tty" "Rovup: downloading debug symbols of libc\.so\.6 \(build-id $LIBC_BID\): [0-9]+/[0-9]+ KiBE\[K" \
		"on a terminal: a progress line names the object, build-id and KiB"
	like "$tty" "RE\[Kovup: |RE\[K[0-9a-f]{16} " "... and is cleared before what follows"
	like "$tty" "func +static secret +victim-stripped" "... and the static function is found"
else
	pass "# SKIP no libc6-dbg or no script(1): progress line not checked"
fi
export DEBUGINFOD_CACHE_PATH=$WORK/cache
run_ovup symbols -p "$VPID" secret
is "$RC" 0 "with debuginfod: symbols exits 0"
like "$OUT" "func +static secret +victim-stripped:victim.c" "... shows the static function from the server's file"
unlike "$ERR" "victim-stripped has only \.dynsym" "... and no longer says the victim has only .dynsym"
like "$ERR" "ld-linux-x86-64\.so\.2 has only \.dynsym.*the debuginfod servers of DEBUGINFOD_URLS \(http://127\.0\.0\.1:$PORT\) do not have it" \
	"... ld.so, which the server has not, is noted with what the server said"
unlike "$ERR" "downloading" "... no progress line: stderr is no terminal"
ok "$([ -n "$(find "$WORK/cache" -name debuginfo -size +0)" ]; echo $?)" "... the file is in DEBUGINFOD_CACHE_PATH"
run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 0 "apply with the symbols from debuginfod succeeds"
is "$(ask v call secret 10)" 9 "secret(10) = 9 now (was 1011)"
run_ovup revert -p "$VPID"
is "$RC" 0 "revert"
is "$(ask v call secret 10)" 1011 "reverted"
kill "$DPID"
wait "$DPID" 2>/dev/null
run_ovup symbols -p "$VPID" secret
like "$OUT" "func +static secret +victim-stripped" "server stopped: the cached file still gives the static function"
run_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 0 "... and apply succeeds from the cache"
is "$(ask v call secret 10)" 9 "... secret(10) = 9"
run_ovup revert -p "$VPID"
is "$(ask v call secret 10)" 1011 "... reverted"

# 4. nothing listens: one warning naming DEBUGINFOD_URLS and the error,
# quickly; the patch needs the static symbol, so it fails as without URLs
export DEBUGINFOD_CACHE_PATH=$WORK/cache-closed
export DEBUGINFOD_URLS=http://127.0.0.1:$(free_port)
before=$(snap "$VPID")
timed_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 1 "nothing listening at DEBUGINFOD_URLS: exit 1"
like "$ERR" "warning: debuginfod: cannot get the debug file of victim-stripped \(build-id $BID\) from DEBUGINFOD_URLS=$DEBUGINFOD_URLS: Connection refused" \
	"... a warning names the object, build-id, DEBUGINFOD_URLS and the error"
is "$(grep -c 'warning: debuginfod' "$WORK/err")" 1 "... once: no more queries after a failure"
like "$ERR" "secret.*not found in the target" "... then the static function is not found"
like "$ERR" "^  if it is static: victim-stripped has only \.dynsym.*failed: Connection refused" \
	"... and the hint says what the server did"
ok "$([ "$MS" -lt 30000 ]; echo $?)" "... in bounded time (${MS} ms)"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"

# a tiny HTTP server: "garbage" answers 200 with random bytes, "silent"
# accepts and never answers
cat >"$WORK/http.pl" <<'PL'
use strict;
use IO::Socket::INET;
my ($mode, $portfile) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
	or die "listen: $!";
open(my $pf, '>', "$portfile.tmp") or die;
print $pf $s->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile;
my @held;
while (my $c = $s->accept) {
	if ($mode eq 'silent') { push @held, $c; next; }
	while (my $l = <$c>) { last if $l =~ /^\r?$/; }
	my $body = join '', map { chr int rand 256 } 1 .. 8192;
	print $c "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		. "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n" . $body;
	close $c;
}
PL
start_http() {
	rm -f "$WORK/port"
	perl "$WORK/http.pl" "$1" "$WORK/port" &
	HPID=$!
	track "$HPID"
	for i in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
	HPORT=$(cat "$WORK/port")
}

# 5. garbage: the file is checked and refused, named with the server
start_http garbage
export DEBUGINFOD_CACHE_PATH=$WORK/cache-garbage
export DEBUGINFOD_URLS=http://127.0.0.1:$HPORT
before=$(snap "$VPID")
timed_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 1 "a server sending garbage: exit 1"
like "$ERR" "warning: debuginfod: the file sent for victim-stripped \(build-id $BID\) by http://127\.0\.0\.1:$HPORT/buildid/$BID/debuginfo \(DEBUGINFOD_URLS=http://127\.0\.0\.1:$HPORT\) is not its debug file: it is not an ELF file; ignored" \
	"... a warning names the object, build-id, the URL and why the file is refused"
like "$ERR" "secret.*not found in the target" "... the static function is not found"
like "$ERR" "^  if it is static: victim-stripped has only \.dynsym.*sent a file that is not its debug file" \
	"... the static function is not found, the hint says why"
ok "$([ -z "$(find "$WORK/cache-garbage" -name debuginfo -size +0)" ]; echo $?)" \
	"... the bad file is not left in the cache"
ok "$([ "$MS" -lt 30000 ]; echo $?)" "... in bounded time (${MS} ms)"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
kill "$HPID"
wait "$HPID" 2>/dev/null

# 6. silent: bounded by DEBUGINFOD_TIMEOUT
start_http silent
export DEBUGINFOD_CACHE_PATH=$WORK/cache-silent
export DEBUGINFOD_URLS=http://127.0.0.1:$HPORT
before=$(snap "$VPID")
DEBUGINFOD_TIMEOUT=3 timed_ovup apply -p "$VPID" "$WORK/sec.c"
is "$RC" 1 "a server that never answers: exit 1"
like "$ERR" "warning: debuginfod: cannot get the debug file of victim-stripped \(build-id $BID\) from DEBUGINFOD_URLS=$DEBUGINFOD_URLS: " \
	"... a warning names the object, build-id and DEBUGINFOD_URLS"
is "$(grep -c 'warning: debuginfod' "$WORK/err")" 1 "... once: the other objects do not wait again"
like "$ERR" "Timer expired \(nothing within DEBUGINFOD_TIMEOUT=3 s\)" "... and that nothing came within DEBUGINFOD_TIMEOUT"
ok "$([ "$MS" -ge 3000 ]; echo $?)" "... after waiting DEBUGINFOD_TIMEOUT=3 for it (${MS} ms)"
ok "$([ "$MS" -lt 15000 ]; echo $?)" "... and not much longer: ovup's default of one retry, then no more queries"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
kill "$HPID"
wait "$HPID" 2>/dev/null

stop_victim v
done_testing
