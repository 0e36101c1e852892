# SPDX-License-Identifier: MIT
# Kernel scenario alt: CPU alternatives and return sites in patch code are
# what the module loader would make of them on the guest's CPU
# (tests/kernel/alt.t runs it on two CPUs; /tmp/alt.env says what each has)
# patches: alt altbad
# timeout: 150

. /tmp/alt.env
run apply -k /tmp/alt.o
is "$RC" 0 "a patch with alternatives and return sites applies${ERR:+ ($ERR)}"
L=$(cat /proc/cmdline)
like "$L" "^ovup-alt " "the patched function runs"
# pair NAME: what the patched code selected, and what the boot CPU has
pair() { echo "$L" | sed -n "s/.* $1=\([0-9-]*\)\/\([0-9-]*\).*/\1 \2/p"; }
set -- $(pair smap)
is "${1:-}/${2:-}" "$ALT_SMAP/$ALT_SMAP" "static_cpu_has(SMAP) in the patch is the CPU's ($ALT_SMAP)"
set -- $(pair erms)
is "${1:-x}" "${2:-y}" "static_cpu_has(ERMS) in the patch is boot_cpu_has()'s (${2:-})"
set -- $(pair la57)
is "${1:-x}" "${2:-y}" "access_ok() of a 5-level address follows the paging in use (${2:-})"
like "$L" " clear=1" "clear_page(), a call the alternative moved, clears the page"

new=$(ovup list -k | awk '/cmdline_proc_show/ && /->/ {print $(NF - 1); exit}')
base=$(printf '0x%x' $((new - ALT_FUNC)))
code=$(kpeek "$new" 128 | cut -d' ' -f2 | sed 's/../& /g')
case " $code" in *" 0f 01 cb "*) stac=1 ;; *) stac=0 ;; esac
is "$stac" "$ALT_SMAP" "stac in the patch's code iff the CPU has SMAP"
its=$(awk '$3 == "its_return_thunk" {print "0x" $1}' /proc/kallsyms)
for off in $ALT_RETS; do
	site=$(printf '0x%x' $((base + off)))
	if [ "$ALT_RET" = its ] && [ $((off & 0x20)) = 0 ]; then want="jmp $its"; else want=ret; fi
	is "$(kpeek -b "$site")" "$want" "the return at .text+$off: $want ($ALT_RET)"
done

run revert -k alt
is "$RC" 0 "revert${ERR:+ ($ERR)}"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
wait_freed 10

T0=$(text "$FCMD")
run apply -k /tmp/altbad.o
is "$RC" 1 "an alternative whose replacement is PC-relative: refused"
like "$ERR" "altinstructions entry at cmdline_proc_show\+0x[0-9a-f]+ \(feature 3\*32\+21\): its replacement's 'mov .*rip.*' at \+0x0 is PC-relative" \
	"... naming the entry, its feature and the instruction"
is "$(printf '%s\n' "$ERR" | grep -c .)" 1 "... in one line"
is "$(text "$FCMD")" "$T0" "... kernel text unchanged"
is "$(cat /proc/cmdline)" "$CMDLINE" "... /proc/cmdline as it was"
is "$(ovup list -k | grep -c altbad)" 0 "... no record"

