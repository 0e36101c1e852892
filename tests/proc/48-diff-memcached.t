#!/bin/bash
# A daemon fixed from an upstream diff: memcached's "me" (meta debug)
# command printed an item's expiry with its sign reversed (upstream
# memcached commit 1776b021e, "proto: fix exptime in debug command",
# released in 1.6.24).  A memcached built from Debian's source package
# of this machine's version (1.6.18, apt-get source with a private
# source list, cached in build/debsrc) serves on 127.0.0.1; the fix
# (tests/proc/diffs/memcached-me-exptime.patch: upstream's one-line
# change with the context of Debian's proto_text.c) is applied with
# `apply --diff`, seen over TCP, and reverted.  The changed code lies in
# a static function inlined into process_command_ascii (replaced as
# "affected"), and that build inlined process_stat where our compile does
# not (carried by the patch).
. "$(dirname "$0")/lib.sh"

cache=$ROOT/build/debsrc
ver=$(apt-cache policy memcached | sed -n 's/^  Candidate: //p')
M=$cache/memcached
if [ ! -f "$M/.built-$ver" ]; then
	rm -rf "$M"
	mkdir -p "$cache"
	debsrc memcached "$ver" "$M" ||
		{ echo "Bail out! cannot get memcached's source package ($ver) from deb.debian.org"; exit 1; }
	(cd "$M" && ./configure --disable-sasl --disable-extstore >"$WORK/build.log" 2>&1 &&
		make -j"$(nproc)" memcached >>"$WORK/build.log" 2>&1) || {
		tail -20 "$WORK/build.log" | sed 's/^/# /'
		echo "Bail out! cannot build memcached from its source in $M"
		exit 1
	}
	touch "$M/.built-$ver"
fi
ok 0 "memcached $ver from Debian's source package, built in $M"

# the fix as upstream made it, kept in tests/proc/diffs
cp "$ROOT/tests/proc/diffs/memcached-me-exptime.patch" "$WORK/meta-exptime.patch"
is "$(grep -c '^[-+] ' "$WORK/meta-exptime.patch")" 2 "the fix is a one-line diff of proto_text.c"

port=$((31000 + $$ % 1000))
"$M/memcached" -U 0 -l 127.0.0.1 -p "$port" -t 4 -u nobody >"$WORK/mc.log" 2>&1 &
P=$!
track "$P"
# mc COMMANDS: send them, print what memcached answers (up to "END" or a
# status line per command)
mc() {
	local out
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%b' "$1" >&$fd
	out=$(timeout 2 cat <&$fd)
	exec {fd}>&-
	printf '%s\n' "$out" | tr -d '\r'
}
for i in $(seq 50); do mc 'version\r\nquit\r\n' 2>/dev/null | grep -q VERSION && break; sleep 0.1; done
like "$(mc 'version\r\nquit\r\n')" "^VERSION 1.6.18" "memcached 1.6.18 serves on 127.0.0.1:$port"
like "$(mc 'set k 0 300 1\r\nx\r\nme k\r\nquit\r\n')" "^ME k exp=-(299|300) " \
	"the bug: an item that expires in 300 s shows exp=-300"

run_ovup apply -p "$P" --diff "$WORK/meta-exptime.patch" --source "$M" -- -DHAVE_CONFIG_H -pthread
is "$RC" 0 "apply --diff of the fix to the running daemon"
[ "$RC" = 0 ] || diag "$ERR"
like "$ERR" "affected .*replaced too: process_command_ascii$" \
	"... the changed code is inlined into process_command_ascii, which is replaced"
like "$OUT" "^  process_command_ascii +memcached " "... in the running memcached"
like "$(mc 'me k\r\nquit\r\n')" "^ME k exp=(29[0-9]|300) " "fixed: the same item now shows exp=300 (or a second or so less)"
like "$(mc 'set j 0 100 1\r\ny\r\nme j\r\nget j\r\nquit\r\n')" "^ME j exp=(99|100) " "... and a new one exp=100"
like "$(mc 'get j\r\nquit\r\n')" "^VALUE j 0 1$" "... and the data is served as before"
run_ovup revert -p "$P"
is "$RC" 0 "revert"
like "$(mc 'me j\r\nquit\r\n')" "^ME j exp=-(9[0-9]|100) " "... and the old code runs again"
kill "$P"
wait "$P" 2>/dev/null
done_testing
