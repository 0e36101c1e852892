# SPDX-License-Identifier: MIT
# Kernel scenario deps-loading: a module that is still loading cannot be
# depended on
# patches: deps
# timeout: 150

rmmod ovup_target 2>/dev/null
insmod $KO init_sleep_ms=15000 &
INS=$!
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	grep -q "^ovup_target .* Loading" /proc/modules && break
	sleep 0.5
done
like "$(grep '^ovup_target ' /proc/modules)" "Loading" "ovup_target is loading (its init sleeps)"
run apply -k /tmp/deps.o
is "$RC" 3 "a patch that refers to a loading module is refused as busy (exit 3: transient)"
like "$ERR" "module 'ovup_target', which the patch 'deps' refers to, is being loaded or unloaded; nothing was switched" "... naming the module"
is "$(cat /proc/cmdline)" "$CMDLINE" "... and nothing changed"
wait $INS
ok $? "insmod finished"
