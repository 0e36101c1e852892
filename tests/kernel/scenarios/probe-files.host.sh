# SPDX-License-Identifier: MIT
# Host half of the probe-files scenario (sourced by tests/kernel/lib.sh
# after the patches are built): a copy of the victim module whose
# ovup_target_show+7 differs (ModRM rsi -> rdi), which is what a changed
# file (or changed code) looks like to the verifier.
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
ok $? "a copy of ovup_target.ko with one byte of ovup_target_show changed"
kt_file "$work/bad/ovup_target.ko"
