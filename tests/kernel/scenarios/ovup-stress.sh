# SPDX-License-Identifier: MIT
# Kernel scenario ovup-stress: readers hammer /proc/cmdline while ovup
# applies and reverts a patch of its show function 100 times.  Every read
# must show either the old or the new text, every apply/revert must succeed
# (busy is retried by ovup itself).
# patches: stress
# timeout: 1080

OLD=$(cat /proc/cmdline)
NEW="ovup-stress"
: >/tmp/bad-reads
reader() {
	while [ ! -e /tmp/stop ]; do
		l=$(cat /proc/cmdline)
		[ "$l" = "$OLD" ] || [ "$l" = "$NEW" ] || echo "$l" >>/tmp/bad-reads
	done
}
reader &
r1=$!
reader &
r2=$!
fails=0
seen_new=0
start=$(date +%s)
for i in $(seq 100); do
	ovup apply -k --retries 200 /tmp/stress.o >/tmp/o 2>/tmp/e || { fails=$((fails + 1)); sed 's/^/#   /' /tmp/e; }
	[ "$(cat /proc/cmdline)" = "$NEW" ] && seen_new=$((seen_new + 1))
	ovup revert -k --retries 200 >/tmp/o 2>/tmp/e || { fails=$((fails + 1)); sed 's/^/#   /' /tmp/e; }
done
end=$(date +%s)
touch /tmp/stop
wait $r1 $r2
ok $fails "100 applies and 100 reverts under concurrent readers all succeeded ($fails failures, $((end - start)) s)"
[ "$seen_new" = 100 ]; ok $? "after every apply the new text was read ($seen_new/100)"
[ "$(cat /proc/cmdline)" = "$OLD" ]; ok $? "after the last revert the old text is back"
[ ! -s /tmp/bad-reads ]; ok $? "readers never saw anything but the old or the new text"
head -n 5 /tmp/bad-reads | sed 's/^/#   /'
ovup list -k | grep -q "no patches applied"; ok $? "no patch is left"
