# SPDX-License-Identifier: MIT
# Kernel scenario stack-nanosleep: sleepers with a return address in a
# wrapper of do_nanosleep
# patches: nanosleep
# timeout: 150

klog_add 'Attempted to kill the idle task'
run apply -k /tmp/nanosleep.o
is "$RC" 0 "apply a non-tail-call wrapper of do_nanosleep"
sleep 1000 & S1=$!
sleep 1000 & S2=$!
sleep 0.5
run revert -k nanosleep
is "$RC" 0 "revert exits 0 while two tasks sleep in the wrapper"
unlike "$ERR" "is executing the bytes to be changed" "... with no claim that a sleeper executes the changed bytes"
like "$ERR" "patch 'nanosleep': 2 block\\(s\\) of its code retired, not freed: a thread may still return into them" \
	"... and a note that its blocks were retired, not freed"
run list -k
like "$OUT" "^retired \\(freed once no thread can return into them\\):" "list -k has a retired section"
like "$OUT" "0x[0-9a-f]+  4 KiB of reverted patch 'nanosleep': thread [0-9]+ \\(sleep\\) was found in it" \
	"... naming the patch and a sleeping task"
run list -k --json
like "$OUT" '"retired":\[\{"addr":"0x[0-9a-f]+","size":4096,"patch":"nanosleep","tid":[0-9]+,"comm":"sleep"' \
	"list -k --json lists the retired blocks"
kill $S1 $S2; wait $S1 $S2 2>/dev/null
wait_freed 15; ok $? "the module frees them once the sleepers are gone"
run list -k --json
like "$OUT" '"retired":\[\]' "... list -k --json shows none"
