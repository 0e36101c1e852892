# SPDX-License-Identifier: MIT
# Host half of the alt scenario (sourced by tests/kernel/lib.sh after the
# patches are built): where the patch's returns lie in its .text, from the
# object's relocations, and what the guest's CPU should select
# (ALT_SMAP, ALT_RET: set by tests/kernel/alt.t).
alt_func=$(nm "$work/alt.o" | awk '$3 == "cmdline_proc_show" {print "0x" $1}')
alt_rets=$(readelf -rW "$work/alt.o" | sed -n '/\.rela\.return_sites/,/^$/p' |
	awk '/R_X86_64_PC32/ && $(NF - 2) == ".text" {printf "0x%s ", $NF}')
printf 'ALT_FUNC=%s\nALT_RETS="%s"\nALT_SMAP=%s\nALT_RET=%s\n' "$alt_func" "$alt_rets" \
	"$ALT_SMAP" "$ALT_RET" >"$work/alt.env"
ok $([ -n "$alt_func" ] && [ "$(echo $alt_rets | wc -w)" -ge 2 ]; echo $?) \
	"the patch's returns, at .text offsets $alt_rets"
kt_file "$work/alt.env"
