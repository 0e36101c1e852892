#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Displaced bytes are the function's own (issue 8, K2 and its weak cases):
# kprobes in the bytes ovup's jump replaces, breakpoints in flight,
# functions ftrace does not list, code that differs from its object file,
# and objects without build information, truncated or random.  The guest
# half is probe-guest.sh.
. "$(dirname "$0")/lib.sh"
kt_workdir

kt_build_helpers
tap_ok $? "guest helpers build"
files=()
for p in cmdline wrap module orig-module untraced-memcpy untraced-getpid untraced-label retsite; do
	"$OVUP" build -k "$KT_ROOT/tests/kernel/patches/$p.c" -o "$work/$p.o" >"$work/log" 2>&1
	rc=$?
	tap_ok $rc "ovup build -k patches/$p.c"
	[ $rc = 0 ] || sed 's/^/# /' "$work/log"
	files+=(--file "$work/$p.o")
done
# damaged inputs: no .ovup.build, cut short at several places, random bytes
objcopy -R .ovup.build "$work/cmdline.o" "$work/nobuild.o"
tap_ok $? "an object with its .ovup.build section removed"
size=$(stat -c %s "$work/cmdline.o")
for cut in 64 1000 $((size / 2)) $((size - 100)); do
	head -c "$cut" "$work/cmdline.o" >"$work/cut$cut.o"
	files+=(--file "$work/cut$cut.o")
done
head -c 5000 /dev/urandom >"$work/random.o"
head -c 5000 /dev/urandom >"$work/random.c"
files+=(--file "$work/nobuild.o" --file "$work/random.o" --file "$work/random.c")
# a copy of the victim module whose ovup_target_show+7 differs (ModRM rsi ->
# rdi): what a changed file (or changed code) looks like to the verifier
mkdir -p "$work/bad"
python3 - "$KT_ROOT/tests/kernel/target/ovup_target.ko" "$work/bad/ovup_target.ko" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shnum, = struct.unpack_from('<H', d, 0x3c)
sh = [struct.unpack_from('<IIQQQQIIQQ', d, shoff + 64 * i) for i in range(shnum)]
symtab = next(s for s in sh if s[1] == 2)
strtab = sh[symtab[6]]
for i in range(symtab[5] // 24):
    name, info, other, shndx, value, size = struct.unpack_from('<IBBHQQ', d, symtab[4] + 24 * i)
    end = d.index(b'\0', strtab[4] + name)
    if d[strtab[4] + name:end] == b'ovup_target_show':
        at = sh[shndx][4] + value + 7
        assert d[at] == 0xc6, hex(d[at])
        d[at] = 0xc7
        open(sys.argv[2], 'wb').write(d)
        sys.exit(0)
sys.exit(1)
PY
tap_ok $? "a copy of ovup_target.ko with one byte of ovup_target_show changed"
files+=(--file "$work/bad/ovup_target.ko")
"$VMRUN" --timeout 900 "${files[@]}" --file "$KT_ROOT/tests/kernel/probe-guest.sh" \
	-- sh /tmp/probe-guest.sh >"$work/guest" 2>&1
rc=$?
tap_import <"$work/guest"
tap_ok $rc "the guest script exited 0"
tap_end
