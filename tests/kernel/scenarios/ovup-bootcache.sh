# SPDX-License-Identifier: MIT
# Kernel scenario ovup-bootcache: the kernel's symbols and ftrace list,
# read once and kept (kcache.c); a module loaded is another key, a file of
# another key or a broken one is not read, nor one that disagrees with the
# head of kallsyms (tests/kernel/reboot.t: the symbols of another boot)
# patches: cmdline module
# timeout: 150

C=/var/cache/ovup/symbols
rm -f "$C"/kernel-*
run apply -k -v /tmp/cmdline.o
is "$RC" 0 "apply with nothing kept"
unlike "$ERR" "symbols from the cache" "... reads kallsyms"
like "$(cat /proc/cmdline)" "^ovup-cmdline " "... and the patch runs"
run revert -k
key1=$(ls "$C" | sed -n 's/^kernel-\([0-9a-f]*\)-objs$/\1/p')
[ -n "$key1" ]; ok $? "this boot's list of objects is kept (key $key1)"
like "$(sed -n 2p "$C/kernel-$key1-objs")" "^vmlinux [0-9a-f]{16}$" "... vmlinux first, with where it is"
[ -s "$C/kernel-$key1-ftrace" ]; ok $? "... and ftrace's list"
is "$(stat -c %a "$C/kernel-$key1-obj-0")" 600 "... each file 0600"

run apply -k -v /tmp/cmdline.o
is "$RC" 0 "apply again"
like "$ERR" "symbols from the cache" "... from the cache"
like "$(cat /proc/cmdline)" "^ovup-cmdline " "... the same patch runs"
run revert -k
is "$(cat /proc/cmdline)" "$CMDLINE" "reverted"
# the same answers as kallsyms read whole
run symbols -k cmdline_proc_show
warm=$OUT
OVUP_CACHE_DIR= run symbols -k cmdline_proc_show
is "$warm" "$OUT" "symbols from the cache: the same as from kallsyms"

# a module loaded: another key, read again; the old files go
insmod /lib/ovup/ovup_target.ko 2>/dev/null
run apply -k -v /tmp/module.o
is "$RC" 0 "a module loaded since: its function is patched"
unlike "$ERR" "symbols from the cache" "... after kallsyms was read again"
is "$(cat /proc/ovup_target)" "target-patched" "... and runs"
run revert -k
key2=$(ls "$C" | sed -n 's/^kernel-\([0-9a-f]*\)-objs$/\1/p')
[ -n "$key2" ] && [ "$key2" != "$key1" ]; ok $? "another key ($key2)"
is "$(ls "$C" | grep -c "^kernel-$key1-")" 0 "... and the old key's files are gone"
run apply -k -v /tmp/module.o
like "$RC $ERR" "^0 .*symbols from the cache \(3 objects, 0 moved since\)" \
	"the next apply: from the cache, with the module"
run revert -k
# vmlinux's place as kept, off by one: the head of kallsyms disagrees
sed -i '2s/^vmlinux \(.*\)000$/vmlinux \1001/' "$C/kernel-$key2-objs"
like "$(sed -n 2p "$C/kernel-$key2-objs")" "^vmlinux [0-9a-f]+001$" "vmlinux's place in the list edited"
run apply -k -v /tmp/module.o
is "$RC" 0 "apply works"
like "$ERR" "the kept symbols disagree with /proc/kallsyms; reading it" "... reading kallsyms: the kept symbols would be off"
run revert -k

rmmod ovup_target 2>/dev/null

# the module gone: the key of before, but its files were removed
run apply -k -v /tmp/cmdline.o
unlike "$RC $ERR" "from the cache" "the module unloaded: kallsyms read again"
run revert -k
# a broken file is not read
key=$(ls "$C" | sed -n 's/^kernel-\([0-9a-f]*\)-objs$/\1/p')
head -c 4096 "$C/kernel-$key-obj-0" >/tmp/half
cat /tmp/half >"$C/kernel-$key-obj-0"
run apply -k -v /tmp/cmdline.o
is "$RC" 0 "vmlinux's file cut short: apply works"
unlike "$ERR" "from the cache" "... reading kallsyms"
like "$(cat /proc/cmdline)" "^ovup-cmdline " "... the patch runs"
run revert -k
[ "$(stat -c %s "$C/kernel-$key-obj-0")" -gt 4096 ]; ok $? "... and the file is whole again"
# the ftrace list of another key under this key's name
sed -i '1s/.*/kernel another boot/' "$C/kernel-$key-ftrace"
run apply -k /tmp/cmdline.o
is "$RC" 0 "an ftrace list of another key: read again from tracefs, apply works"
run revert -k
is "$(head -c 6 "$C/kernel-$key-ftrace")" "kernel" "... and it is written again"
[ "$(head -1 "$C/kernel-$key-ftrace")" != "kernel another boot" ]; ok $? "... with this key"
