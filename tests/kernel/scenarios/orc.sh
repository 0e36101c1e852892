# SPDX-License-Identifier: MIT
# Kernel scenario orc: a task asleep inside patch code has a whole stack
# (the patch's ORC rows in ovup.ko's table), so an unrelated apply is not
# held up by it, and a revert of that patch names it
# patches: sleep version
# timeout: 150

TABLES0=$(kpeek -t)
run apply -k /tmp/sleep.o
is "$RC" 0 "a patch that sleeps 6 s applies${ERR:+ ($ERR)}"
ok $([ "$(kpeek -t)" != "$TABLES0" ]; echo $?) "... its entries join ovup.ko's tables ($(kpeek -t))"
cat /proc/cmdline >/tmp/slept &
P=$!
sleep 2
S=$(cat /proc/$P/stack)
like "$S" "msleep\\+" "/proc/PID/stack of the sleeper: msleep"
like "$S" "cmdline_proc_show\\.ovup_sleep\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[ovup\\]" "... in cmdline_proc_show.ovup_sleep [ovup]"
like "$S" "seq_read_iter\\+" "... called from seq_read_iter"
like "$S" "proc_reg_read_iter\\+" "... and proc_reg_read_iter, below it"
like "$S" "entry_SYSCALL_64" "... down to the system call"
t0=$(date +%s)
run apply -k /tmp/version.o
is "$RC" 0 "an unrelated apply while it sleeps there: not busy${ERR:+ ($ERR)}"
ok $([ $(($(date +%s) - t0)) -lt 4 ]; echo $?) "... and at once, not after the sleeper left"
run revert -k version
is "$RC" 0 "... reverted${ERR:+ ($ERR)}"
run revert -k sleep
is "$RC" 0 "a revert of the sleeping patch switches back${ERR:+ ($ERR)}"
L=$(ovup list -k)
like "$L" "^retired" "... and keeps its code, retired, while the task is in it"
like "$L" "of reverted patch 'sleep': thread $P \\(cat\\) was found in it" "... naming the task"

wait $P
is "$(cat /tmp/slept)" "ovup-slept" "the sleeper finished in the retired code"
ok $(wait_freed 15; echo $?) "... which is freed after it left"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
ok $(wait_freed 15; echo $?) "the code is freed"
is "$(kpeek -t)" "$TABLES0" "ovup.ko's tables are back to their size: no entry for freed code ($TABLES0)"
