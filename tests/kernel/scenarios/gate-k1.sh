# SPDX-License-Identifier: MIT
# Kernel scenario gate-k1: how long one apply takes here, to spread the
# second start over it
# patches: gate_a gate_b
# timeout: 1200

klog_add 'Call Trace'
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# revert every patch, newest first; 0 if all went
revert_all() {
	i=0
	while [ $i -lt 10 ] && ! ovup list -k 2>/dev/null | grep -q "no patches applied"; do
		ovup revert -k >>/tmp/revert.log 2>&1 || return 1
		i=$((i + 1))
	done
	ovup list -k 2>/dev/null | grep -q "no patches applied"
}

run apply -k /tmp/gate_a.o
is "$RC" 0 "a single apply of gate_a"
is "$(cat /proc/version)" "ovup-gate-a" "/proc/version switched"
run revert -k
is "$RC" 0 "its revert"
# the first apply of a boot reads the kernel's symbols; time a later one
t0=$(ms)
run apply -k /tmp/gate_a.o
t1=$(ms)
is "$RC" 0 "gate_a again"
run revert -k
is "$RC" 0 "... and its revert"
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
is "$pidok" "$waited" "K1: each run of the 20 that waited named the holder's pid"

# 4. the wait itself, without a race: the first run stops once it holds the
# writer slot (OVUP_FAULT=writer-sync) until the second has said it waits
rm -f /tmp/k1sync.ready /tmp/k1sync.go
OVUP_FAULT=writer-sync OVUP_TEST_SYNC=/tmp/k1sync ovup apply -k /tmp/gate_a.o >/tmp/a.out 2>/tmp/a.err &
pa=$!
i=0
while [ ! -e /tmp/k1sync.ready ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /tmp/k1sync.ready ]; ok $? "K1: the first run holds the writer slot"
ovup apply -k /tmp/gate_b.o >/tmp/b.out 2>/tmp/b.err &
pb=$!
i=0
while ! grep -q "is patching the kernel; waiting" /tmp/b.err && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
list=$(ovup list -k 2>&1)
touch /tmp/k1sync.go
wait $pa; ra=$?
wait $pb; rb=$?
like "$(cat /tmp/b.err)" "another ovup run \\(pid $pa\\) is patching the kernel; waiting for it to finish" "K1: the second run waits, and names the holder's pid"
unlike "$list" "gate_b" "K1: while it waits, the second run has changed nothing"
is "$ra/$rb" "0/0" "K1: both applied once the first let go"
list=$(ovup list -k 2>&1)
like "$list" "version_proc_show: gate_b gate_a" "K1: both listed, gate_b (the one that waited) on top"
revert_all; ok $? "K1: both reverted"
is "$(text "$FVER")" "$V0" "K1: kernel text as before"
is "$(cat /proc/version)" "$VERSION" "K1: /proc/version is the kernel's again"
