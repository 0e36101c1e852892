# SPDX-License-Identifier: MIT
# Runs inside the VM (tools/vmrun) for tests/kernel/gate.t: one writer at a
# time (K1), the ioctl surface (K5, kioctl), lockdown raised after ovup.ko
# is loaded (K6).  Patch objects were built on the host.  Prints TAP.
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
is() { [ "$1" = "$2" ]; ok $? "$3"; [ "$1" = "$2" ] || { echo "#   got:  '$1'"; echo "#   want: '$2'"; }; }
like() { echo "$1" | grep -qE -- "$2"; r=$?; ok $r "$3"; [ $r = 0 ] || echo "$1" | sed 's/^/#   /'; }
unlike() { echo "$1" | grep -qE -- "$2"; r=$?; [ $r != 0 ]; ok $? "$3"; [ $r != 0 ] || echo "$1" | sed 's/^/#   /'; }
run() { ovup "$@" >/tmp/out 2>/tmp/err; RC=$?; OUT=$(cat /tmp/out); ERR=$(cat /tmp/err); }
addr() { ovup symbols -k "$1" | awk -v o="$2" '$NF == o || $(NF) ~ "^"o {print "0x"$1; exit}'; }
text() { kpeek "$1" 32 | cut -d' ' -f2; }
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# import kioctl's TAP into ours
kio() {
	kioctl "$@" >/tmp/kio 2>&1
	krc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok 0 "kioctl $1: ${line#* - }" ;;
		"not ok "*) ok 1 "kioctl $1: ${line#* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done </tmp/kio
	is "$krc" 0 "kioctl $* exits 0"
}
# revert every patch, newest first; 0 if all went
revert_all() {
	i=0
	while [ $i -lt 10 ] && ! ovup list -k 2>/dev/null | grep -q "no patches applied"; do
		ovup revert -k >>/tmp/revert.log 2>&1 || return 1
		i=$((i + 1))
	done
	ovup list -k 2>/dev/null | grep -q "no patches applied"
}

VERSION=$(cat /proc/version)
FVER=$(addr version_proc_show vmlinux)
V0=$(text "$FVER")

# 1. the raw interface: the writer slot, K5 refusals, CAP_SYS_MODULE
kio gate k5 perm

# 2. how long one apply takes here, to spread the second start over it
t0=$(ms)
run apply -k /tmp/gate_a.o
t1=$(ms)
is "$RC" 0 "a single apply of gate_a"
is "$(cat /proc/version)" "ovup-gate-a" "/proc/version switched"
run revert -k
is "$RC" 0 "its revert"
dur=$((t1 - t0))
[ "$dur" -gt 0 ] || dur=1000
echo "# one apply -k takes $dur ms in this guest"

# 3. the K1 race: a second apply started D ms after the first, 20 delays
trials=20
bad=0 both=0 waited=0 pidok=0
k=0
while [ $k -lt $trials ]; do
	d=$((dur * k / (trials - 1)))
	ovup apply -k /tmp/gate_a.o >/tmp/a.out 2>/tmp/a.err &
	pa=$!
	sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
	ovup apply -k /tmp/gate_b.o >/tmp/b.out 2>/tmp/b.err
	rb=$?
	wait $pa
	ra=$?
	case "$ra$rb" in
	00) both=$((both + 1)) ;;
	*4*) bad=$((bad + 1)); echo "# delay $d ms: exit $ra/$rb"; cat /tmp/a.err /tmp/b.err | sed 's/^/#   /' ;;
	03|30|33) ;;
	*) bad=$((bad + 1)); echo "# delay $d ms: exit $ra/$rb"; cat /tmp/a.err /tmp/b.err | sed 's/^/#   /' ;;
	esac
	if grep -q "another ovup run (pid [0-9]*) is patching the kernel; waiting" /tmp/b.err; then
		waited=$((waited + 1))
		grep -q "another ovup run (pid $pa) " /tmp/b.err && pidok=$((pidok + 1))
	fi
	list=$(ovup list -k 2>&1)
	if echo "$list" | grep -q "CHANGED behind ovup"; then
		bad=$((bad + 1)); echo "# delay $d ms: list says CHANGED"; echo "$list" | sed 's/^/#   /'
	fi
	seqs=$(echo "$list" | grep -oE '\(seq [0-9]+' | sort)
	if [ "$(echo "$seqs" | uniq | wc -l)" != "$(echo "$seqs" | wc -l)" ]; then
		bad=$((bad + 1)); echo "# delay $d ms: two records share a seq"; echo "$list" | sed 's/^/#   /'
	fi
	if ! revert_all; then
		bad=$((bad + 1)); echo "# delay $d ms: revert failed"; sed 's/^/#   /' /tmp/revert.log
	fi
	if [ "$(text "$FVER")" != "$V0" ]; then
		bad=$((bad + 1)); echo "# delay $d ms: kernel text differs after revert"
	fi
	k=$((k + 1))
done
echo "# K1: $trials concurrent pairs, both applied in $both, second waited in $waited"
is "$bad" 0 "K1: $trials concurrent applies on one function: exit 0 or 3 (never 4), distinct seqs, nothing CHANGED, all reverted, text identical"
[ "$both" -gt 0 ]; ok $? "K1: queued applies both succeed ($both of $trials)"
[ "$waited" -gt 0 ] && [ "$waited" = "$pidok" ]; ok $? "K1: the waiting run named the holder's pid ($pidok of $waited)"
is "$(cat /proc/version)" "$VERSION" "K1: /proc/version is the kernel's again"

# 4. a jump into ovup's area that no record of the tool's accounts for
kio stray
T1=$(text "$FVER")
run apply -k /tmp/gate_a.o
is "$RC" 1 "apply over a jump into ovup's area without a record: exit 1"
like "$ERR" "is already hooked by someone else: a jmp into ovup.ko's own area \\(0x[0-9a-f]+\\) that no patch applied by ovup accounts for" "... says the jump is ovup's, unaccounted for"
is "$(text "$FVER")" "$T1" "... and the text is unchanged"
kio unstray
is "$(text "$FVER")" "$V0" "the blobless patch is reverted"

# 5. lockdown raised after ovup.ko was loaded
run apply -k /tmp/gate_a.o
is "$RC" 0 "apply before lockdown"
kio lockdown
T1=$(text "$FVER")
run apply -k /tmp/gate_b.o
is "$RC" 1 "integrity: ovup apply -k exits 1"
like "$ERR" "^ovup: kernel: the kernel is locked down \\(integrity\\): ovup.ko refuses to load or switch to patch code; " "integrity: one line says lockdown refuses it"
is "$(echo "$ERR" | wc -l)" 1 "... one line"
is "$(text "$FVER")" "$T1" "integrity: the text is unchanged"
is "$(cat /proc/version)" "ovup-gate-a" "integrity: the patch applied before lockdown is still live"
run revert -k
is "$RC" 0 "integrity: the patch applied before lockdown can be reverted"
is "$(text "$FVER")" "$V0" "integrity: the text is the kernel's again"
is "$(cat /proc/version)" "$VERSION" "integrity: /proc/version is the kernel's again"
kio confidentiality
run apply -k --dry-run /tmp/gate_a.o
is "$RC" 1 "confidentiality: a dry run (which reads kernel text) exits 1"
like "$ERR" "^ovup: kernel: the kernel is locked down \\(confidentiality\\): ovup.ko refuses to read kernel text" "confidentiality: says why"

dmesg | grep -E "BUG|Oops|WARNING|general protection|Call Trace" >/tmp/bad
[ ! -s /tmp/bad ]; ok $? "no BUG/Oops/WARNING in the kernel log"
sed 's/^/#   /' /tmp/bad
echo "1..$n"
exit $failed
