# SPDX-License-Identifier: MIT
# Kernel scenario extable: a fault at a user access in patch code is fixed
# up from ovup.ko's exception table: getcpu(2) patched to write with
# unsafe_put_user() returns -EFAULT for a bad pointer, no oops (run with
# and without SMAP by tests/kernel/extable.t)
# patches: getcpu
# timeout: 120

set -- $(kgetcpu)
is "${1:-}/${3:-}" "0/$((${3:-0} % 1000))" "getcpu before the patch: the CPU number"
TABLES0=$(kpeek -t)
run apply -k /tmp/getcpu.o
is "$RC" 0 "a patch with __ex_table and stac/clac alternatives applies${ERR:+ ($ERR)}"
ok $([ "$(kpeek -t)" != "$TABLES0" ]; echo $?) "... its entries join ovup.ko's tables ($(kpeek -t))"
set -- $(kgetcpu)
ok $([ "${1:-}" = 0 ] && [ "${3:-0}" -ge 1000 ]; echo $?) "the patched getcpu writes through a good pointer ($*)"
mark
set -- $(kgetcpu 16)
is "${1:-}/${2:-}" "-1/14" "a bad pointer: -EFAULT from the fixup"
is "$(since | grep -cE 'Oops|BUG:|unable to handle|general protection')" 0 "... no oops"
set -- $(kgetcpu 0xffffffffff600000)
is "${1:-}/${2:-}" "-1/14" "a kernel pointer: -EFAULT (access_ok)"
set -- $(kgetcpu)
is "${1:-}" 0 "the process and the patch go on ($*)"
run revert -k getcpu
is "$RC" 0 "revert${ERR:+ ($ERR)}"
wait_freed 10
set -- $(kgetcpu)
ok $([ "${1:-}" = 0 ] && [ "${3:-1000}" -lt 1000 ]; echo $?) "the original getcpu is back ($*)"
ok $(wait_freed 15; echo $?) "the code is freed"
is "$(kpeek -t)" "$TABLES0" "ovup.ko's tables are back to their size: no entry for freed code ($TABLES0)"
