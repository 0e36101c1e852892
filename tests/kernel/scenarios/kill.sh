# SPDX-License-Identifier: MIT
# Kernel scenario kill: ovup SIGKILLed at each of its ioctls (strace's
# inject) while it applies a patch with a bug table, names and ORC rows,
# and while it reverts it: the kernel is wholly old or wholly new, ovup.ko
# keeps no table entry or name for code that is not live, and the next
# run settles it
# patches: warn
# timeout: 600

T0=$(text "$FCMD")
TABLES0=$(kpeek -t)
# calls N ARGS...: how many ioctls ovup makes for ARGS
calls() { strace -o /tmp/st -e trace=ioctl ovup "$@" >/dev/null 2>&1; grep -c '^ioctl(' /tmp/st; }
# state: old (original text, no record, tables as at the start), new (the
# patch runs and is recorded), or what is wrong
state() {
	c=$(cat /proc/cmdline)
	if [ "$c" = "$CMDLINE" ] && [ "$(text "$FCMD")" = "$T0" ] &&
		! ovup list -k | grep -q "warn"; then
		wait_freed 10
		t=$(kpeek -t)
		[ "$t" = "$TABLES0" ] && echo old || echo "old, but tables $t (were $TABLES0)"
	elif [ "$c" = ovup-warn ] && ovup list -k | grep -q "^  warn "; then
		echo new
	else
		echo "mixed: cmdline '$c', $(ovup list -k | tr '\n' ' ')"
	fi
}
NA=$(calls apply -k /tmp/warn.o)
NR=$(calls revert -k warn)
wait_freed 10
ok $([ "$NA" -gt 5 ] && [ "$NR" -gt 2 ]; echo $?) "an apply makes $NA ioctls, a revert $NR"
bad=0 old=0 new=0 i=1
while [ $i -le "$NA" ]; do
	strace -o /dev/null -e trace=ioctl -e inject=ioctl:signal=SIGKILL:when=$i \
		ovup apply -k /tmp/warn.o >/dev/null 2>&1
	s=$(state)
	case $s in
	old) old=$((old + 1)) ;;
	new) new=$((new + 1)); run revert -k warn; [ "$RC" = 0 ] && [ "$(state)" = old ] || {
		bad=$((bad + 1)); echo "# apply killed at ioctl $i: the next revert left $(state) ($ERR)"; } ;;
	*) bad=$((bad + 1)); echo "# apply killed at ioctl $i: $s" ;;
	esac
	i=$((i + 1))
done
is "$bad" 0 "apply killed at each of its $NA ioctls: $old times wholly old, $new wholly new, and a revert settles it"
ok $([ $old -gt 0 ] && [ $new -gt 0 ]; echo $?) "... both outcomes seen"
bad=0 old=0 new=0 i=1
while [ $i -le "$NR" ]; do
	run apply -k /tmp/warn.o
	strace -o /dev/null -e trace=ioctl -e inject=ioctl:signal=SIGKILL:when=$i \
		ovup revert -k warn >/dev/null 2>&1
	s=$(state)
	case $s in
	old) old=$((old + 1)) ;;
	new) new=$((new + 1)); run revert -k warn; [ "$RC" = 0 ] && [ "$(state)" = old ] || {
		bad=$((bad + 1)); echo "# revert killed at ioctl $i: the next revert left $(state) ($ERR)"; } ;;
	*) bad=$((bad + 1)); echo "# revert killed at ioctl $i: $s" ;;
	esac
	i=$((i + 1))
done
is "$bad" 0 "revert killed at each of its $NR ioctls: $old times reverted, $new still applied, and the next revert settles it"
is "$(kpeek -t)" "$TABLES0" "ovup.ko's tables as at the start"
