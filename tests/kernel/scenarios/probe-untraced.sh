# SPDX-License-Identifier: MIT
# Kernel scenario probe-untraced: functions ftrace does not list, with
# neither debugfs nor tracefs mounted: ovup mounts them in its own namespace
# only
# patches: untraced-memcpy untraced-getpid untraced-label

klog_add 'panic'
lines() { echo "$1" | grep -c .; }
mount | grep -qE 'debugfs|tracefs'
[ $? != 0 ]; ok $? "neither debugfs nor tracefs is mounted"
for f in memcpy:memcpy getpid:__x64_sys_getpid label:ftrace_caller_op_ptr; do
	run apply -k "/tmp/untraced-${f%%:*}.o"
	is "$RC" 1 "${f#*:}: refused (exit 1)"
	like "$ERR" "'${f#*:}' in vmlinux is not an ftrace site \\(notrace, or not a function entry\\): ftrace does not list it" "${f#*:}: the message says it is no ftrace site"
	is "$(lines "$ERR")" 1 "${f#*:}: one line"
done
mount | grep -qE 'debugfs|tracefs'
[ $? != 0 ]; ok $? "the system's mounts are unchanged (ovup mounted in its own namespace)"
run list -k
unlike "$OUT" "memcpy|getpid|ftrace_caller" "none of them was applied"
