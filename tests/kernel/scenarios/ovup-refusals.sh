# SPDX-License-Identifier: MIT
# Kernel scenario ovup-refusals: bad input: a clear error, kernel text
# unchanged
# patches: unknown ambiguous tiny

run apply -k /tmp/unknown.o
is "$RC" 1 "unknown symbol: exit 1"
like "$ERR" "^ovup: symbol 'no_such_kernel_symbol' used by the patch is not in the target" "unknown symbol: named"
run apply -k /tmp/ambiguous.o
is "$RC" 1 "ambiguous static name: exit 1"
like "$ERR" "function '__list_del_entry' is ambiguous: vmlinux#1 .*vmlinux#2" "... lists the candidates with their positions"
like "$ERR" "OVUP_OBJECT\(__list_del_entry|OVUP_SYMPOS" "... and how to choose"
run apply -k /tmp/tiny.o
is "$RC" 1 "function too small: exit 1"
like "$ERR" "function 'abort' in vmlinux is [0-9] bytes, shorter than the 5-byte jump \(plus 5 kept\)" "... names the sizes"
is "$(text "$FCMD")" "$T0" "kernel text unchanged after the refusals"
