#!/bin/bash
# A real fix from a diff: zlib's deflateBound() fix for level 0 with
# memLevel 9 (upstream zlib commit e554695, after 1.2.13), applied with
# `apply --diff` to a running program that uses a zlib built from
# Debian's own source package (zlib 1.2.13.dfsg, as this machine's
# zlib1g), then reverted.  The source comes from deb.debian.org through
# apt-get source with a private source list, cached in build/debsrc.
# The fix's diff (tests/proc/diffs/zlib-deflatebound.patch) is upstream's
# one-line change with the context of Debian's deflate.c.
. "$(dirname "$0")/lib.sh"

cache=$ROOT/build/debsrc
ver=$(dpkg-query -W -f '${source:Version}' zlib1g)
Z=$cache/zlib
if [ ! -f "$Z/.built-$ver" ]; then
	rm -rf "$Z"
	mkdir -p "$cache"
	debsrc zlib "$ver" "$Z" || { echo "Bail out! cannot get zlib's source package ($ver) from deb.debian.org"; exit 1; }
	(cd "$Z" && ./configure >/dev/null &&
		make libz.so.1.2.13 SFLAGS="-O2 -g -fPIC -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN" >/dev/null 2>&1) ||
		{ echo "Bail out! cannot build zlib from its source in $Z"; exit 1; }
	touch "$Z/.built-$ver"
fi
ok 0 "zlib $ver from Debian's source package, built in $Z"
cc -O2 -o "$WORK/zbound" "$ROOT/tests/proc/diff/zbound.c" -I"$Z" -L"$Z" -lz -Wl,-rpath,"$Z"
ok $? "a program using that zlib"

# the fix as upstream made it, kept in tests/proc/diffs: level 0 always
# takes the stored bound
cp "$ROOT/tests/proc/diffs/zlib-deflatebound.patch" "$WORK/deflatebound.patch"
is "$(grep -c '^[-+] ' "$WORK/deflatebound.patch")" 3 "the fix is a three-line diff of deflate.c"

start_victim z "$WORK/zbound"
P=$VPID
before=$(ask z bound 0 9 1)
wrote=$(ask z written 0 9 1)
[ "$before" -lt "$wrote" ]
ok $? "the bug: deflateBound(level 0, memLevel 9, 1 byte) is $before, but deflate writes $wrote"
is "$(ask z bound 6 8 100000)" 100037 "the default parameters' bound: 100037"
big=$(ask z written 0 9 100000)

t0=$(date +%s%N)
run_ovup apply -p "$P" --diff "$WORK/deflatebound.patch" --source "$Z" -- -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN
t1=$(date +%s%N)
is "$RC" 0 "apply --diff of the fix to the running program"
[ "$RC" = 0 ] || diag "$ERR"
is "$ERR" "ovup: deflate.c: changed: deflateBound" "... found deflateBound changed, and nothing else in deflate.c"
like "$OUT" "^  deflateBound +libz.so.1.2.13 " "... and replaced it in the program's libz"
diag "apply --diff took $(((t1 - t0) / 1000000)) ms (compile twice, compare, link, load)"
after=$(ask z bound 0 9 1)
[ "$after" -ge "$wrote" ]
ok $? "fixed: the bound ($after) is no longer below what deflate writes ($wrote)"
is "$(ask z bound 6 8 100000)" 100037 "... and the default parameters' bound is unchanged"
is "$(ask z written 0 9 100000)" "$big" "... and deflate writes what it wrote before ($big bytes for 100000)"
run_ovup revert -p "$P"
is "$RC" 0 "revert"
is "$(ask z bound 0 9 1)" "$before" "... and the old bound is back"
stop_victim z
done_testing
