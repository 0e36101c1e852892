# SPDX-License-Identifier: MIT
# Kernel scenario deps-sleeper: a reader asleep inside the patch's code (8
# s): rmmod -f waits for it to leave, up to its 5 s bound, before the kernel
# may free the module
# patches: sleepy
# timeout: 150

cs() { awk '{ printf "%d", $1 * 100 }' /proc/uptime; } # centiseconds
insmod $KO
run apply -k /tmp/sleepy.o
is "$RC" 0 "sleepy (calls into ovup_target, then sleeps 8 s) applied"
cat /proc/cmdline >/tmp/sleepy.out &
CAT=$!
sleep 6
mark
t0=$(cs)
rmmod -f ovup_target
ok $? "rmmod -f ovup_target while a reader has 2 s left in the patch's code"
t1=$(cs)
[ $((t1 - t0)) -ge 100 ]; ok $? "... the rmmod waited for it ($((t1 - t0)) cs)"
wait $CAT
is "$(cat /tmp/sleepy.out)" "ovup-sleepy from-ovup_target" "... and the reader finished normally"
unlike "$(since)" "still in ovup's code" "... no warning: it left within the bound"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original (and returns at once)"
insmod $KO
run apply -k /tmp/sleepy.o
is "$RC" 0 "sleepy applied again"
cat /proc/cmdline >/tmp/sleepy.out &
CAT=$!
sleep 1
mark
t0=$(cs)
rmmod -f ovup_target
ok $? "rmmod -f ovup_target while a reader has 7 s left in the patch's code"
t1=$(cs)
[ $((t1 - t0)) -ge 400 ]; ok $? "... the rmmod waited up to its bound ($((t1 - t0)) cs)"
like "$(since)" "task [0-9]+ \(cat\) is still in ovup's code at .* after 5000 ms; if it calls into ovup_target once that is freed" "... then said which task is still in the patch's code"
wait $CAT
is "$(cat /tmp/sleepy.out)" "ovup-sleepy from-ovup_target" "... which returned through the retired code without calling the module again"
