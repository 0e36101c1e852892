# SPDX-License-Identifier: MIT
# Runs inside the VM (tools/vmrun, ovup.ko loaded): the modules a kernel
# patch refers to are pinned while it is applied, and `rmmod -f` of such a
# module, of a patched module or of ovup.ko itself leaves the kernel's text
# as it was and no oops.  Patch objects were built on the host.  Prints TAP.
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
is() { [ "$1" = "$2" ]; ok $? "$3"; [ "$1" = "$2" ] || { echo "#   got:  '$1'"; echo "#   want: '$2'"; }; }
like() { echo "$1" | grep -qE -- "$2"; r=$?; ok $r "$3"; [ $r = 0 ] || echo "$1" | sed 's/^/#   /'; }
unlike() { echo "$1" | grep -qE -- "$2"; r=$?; [ $r != 0 ]; ok $? "$3"; [ $r != 0 ] || echo "$1" | sed 's/^/#   /'; }
run() { ovup "$@" >/tmp/out 2>/tmp/err; RC=$?; OUT=$(cat /tmp/out); ERR=$(cat /tmp/err); }
addr() { ovup symbols -k "$1" | awk -v o="$2" '$NF == o {print "0x"$1; exit}'; }
text() { kpeek "$1" 32 | cut -d' ' -f2; }
loaded() { grep -q "^$1 " /proc/modules; }
# retired code (a dropped record's blocks) holds a reference on ovup.ko
# until the module has seen every task outside it: wait up to 10 s for it
retired_gone() {
	i=0
	while [ $i -lt 50 ]; do
		ovup list -k --json 2>/dev/null | grep -q '"retired":\[\]' && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
refcnt() { cat "/sys/module/$1/refcnt" 2>/dev/null; }
# the kernel log since the mark: what a step printed
mark() { dmesg | wc -l >/tmp/mark; }
since() { dmesg | tail -n +$(($(cat /tmp/mark) + 1)); }
bad() { dmesg | grep -E "BUG|Oops|WARNING|general protection|Kernel panic|RIP:"; }

KO=/lib/ovup/ovup_target.ko
CMDLINE=$(cat /proc/cmdline)
VERSION=$(cat /proc/version)
FCMD=$(addr cmdline_proc_show vmlinux)
FVER=$(addr version_proc_show vmlinux)
T0=$(text "$FCMD")
V0=$(text "$FVER")

# 1. a patch of a core function that calls into a module pins that module
insmod $KO
run apply -k /tmp/deps.o
is "$RC" 0 "apply a cmdline_proc_show that calls ovup_target_word() of ovup_target"
is "$(cat /proc/cmdline)" "ovup-deps from-ovup_target" "... it runs, calling into the module"
is "$(refcnt ovup_target)" 1 "... ovup_target is pinned (refcnt 1)"
rmmod ovup_target 2>/tmp/err
[ $? != 0 ]; ok $? "rmmod ovup_target is refused while the patch is applied"
like "$(cat /tmp/err)" "in use|Resource temporarily unavailable" "... as in use"
loaded ovup_target; ok $? "... the module is still loaded"
is "$(cat /proc/cmdline)" "ovup-deps from-ovup_target" "... and /proc/cmdline still works"
run revert -k deps
is "$RC" 0 "revert"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original again"
is "$(refcnt ovup_target)" 0 "... ovup_target is no longer pinned"
rmmod ovup_target
ok $? "rmmod ovup_target succeeds after the revert"

# 2. a module that is still loading cannot be depended on
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

# 3. rmmod -f of a module a patch refers to: the patch is dropped, and so
# is a patch stacked on it (its saved bytes are the dropped one's jump)
run apply -k /tmp/deps.o
is "$RC" 0 "deps applied again"
run apply -k /tmp/stack1.o
is "$RC" 0 "stack1 stacked on deps"
is "$(cat /proc/cmdline)" "ovup-stack-1" "... and runs"
mark
# a reader keeps calling the patch while the module goes
( while :; do cat /proc/cmdline >/dev/null; done ) &
READER=$!
rmmod -f ovup_target
ok $? "rmmod -f ovup_target while the patch is applied"
sleep 1
kill $READER
wait $READER 2>/dev/null
loaded ovup_target; [ $? != 0 ]; ok $? "... the module is gone"
run list -k
is "$RC" 0 "list -k works"
unlike "$OUT" "(deps|stack1) +\(seq" "... and shows neither 'deps' nor 'stack1' (both records dropped)"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
is "$(text "$FCMD")" "$T0" "cmdline_proc_show's text is byte-for-byte as before"
like "$(since)" "module ovup_target is being force-unloaded: dropped patch 'stack1' \(seq [0-9]+\), which is stacked on a patch that needs it" "a warning names the stacked patch, dropped first"
like "$(since)" "module ovup_target is being force-unloaded: dropped patch 'deps' \(seq [0-9]+\), which needs it" "... and one the patch that needs the module"
retired_gone; ok $? "the dropped records' code, retired, is freed once no task is in it"
like "$(since)" "retired block\(s\) of 'deps' freed" "... the module says so"
is "$(refcnt ovup)" 0 "ovup.ko holds no reference for the dropped record"

# 3b. a reader asleep inside the patch's code (8 s): rmmod -f waits for it
# to leave, up to its 5 s bound, before the kernel may free the module
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

# 4. rmmod -f of a module whose own function is patched, with another
# patch that calls into it, and an unrelated patch that stays
insmod $KO
FTGT=$(addr ovup_target_show ovup_target)
TT0=$(text "$FTGT")
run apply -k /tmp/module.o
is "$RC" 0 "ovup_target_show of ovup_target is patched"
run apply -k /tmp/deps.o
is "$RC" 0 "... and deps, which calls into ovup_target too"
run apply -k /tmp/version.o
is "$RC" 0 "... and version_proc_show, which needs no module"
VP=$(cat /proc/version)
is "$(cat /proc/ovup_target)" "target-patched" "the module's function runs patched"
rmmod ovup_target 2>/dev/null
loaded ovup_target; ok $? "plain rmmod of the patched module is refused"
mark
rmmod -f ovup_target
ok $? "rmmod -f ovup_target"
loaded ovup_target; [ $? != 0 ]; ok $? "... the module is gone"
run list -k
unlike "$OUT" "(module|deps) +\(seq" "... both records that needed it are dropped"
like "$OUT" "version +\(seq" "... the unrelated one stays"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
is "$(text "$FCMD")" "$T0" "cmdline_proc_show's text is as before"
is "$(cat /proc/version)" "$VP" "/proc/version is still patched"
is "$(since | grep -c 'is being force-unloaded: dropped patch')" 2 "one warning per dropped patch"
run revert -k version
is "$RC" 0 "the unrelated patch reverts normally"
is "$(text "$FVER")" "$V0" "version_proc_show's text is as before"
retired_gone; ok $? "the dropped records' retired code is freed"
rmmod ovup
ok $? "ovup.ko unloads afterwards (no reference left behind)"
[ ! -e /dev/ovup ]; ok $? "... /dev/ovup is gone"
insmod /lib/ovup/ovup.ko
ok $? "ovup.ko loads again"

# 5. rmmod -f ovup with patches applied: every site is restored first
insmod $KO
FTGT=$(addr ovup_target_show ovup_target)
TT0=$(text "$FTGT")
run apply -k /tmp/two.o
is "$RC" 0 "two (cmdline and version) applied"
run apply -k /tmp/module.o
is "$RC" 0 "module (ovup_target_show) applied"
run apply -k /tmp/stack1.o
is "$RC" 0 "stack1 stacked on two's cmdline_proc_show"
is "$(cat /proc/cmdline) $(cat /proc/version) $(cat /proc/ovup_target)" \
	"ovup-stack-1 ovup-two version target-patched" "all three run"
rmmod ovup 2>/dev/null
[ -e /dev/ovup ]; ok $? "plain rmmod ovup is refused"
mark
# a process still holds /dev/ovup open: ovup.ko must wait for it
exec 3</dev/ovup
rmmod -f ovup 3<&- &
RM=$!
sleep 3
like "$(grep '^ovup ' /proc/modules)" "Unloading" "rmmod -f ovup with /dev/ovup open: ovup.ko waits (Unloading)"
is "$(cat /proc/cmdline)" "ovup-stack-1" "... with its patches still applied"
exec 3<&-
wait $RM
ok $? "rmmod -f ovup with three patches applied finishes once the file is closed"
[ ! -e /dev/ovup ] && ! loaded ovup; ok $? "... ovup.ko is gone"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is the original"
is "$(cat /proc/version)" "$VERSION" "/proc/version is the original"
is "$(cat /proc/ovup_target)" "target-original" "/proc/ovup_target is the original"
like "$(since)" "force-unloaded with 3 patch\(es\) applied" "ovup says what it found"
like "$(since)" "every patch is restored and no task is in its code" "... and what it did"
is "$(refcnt ovup_target)" 0 "ovup_target is no longer pinned"
insmod /lib/ovup/ovup.ko
ok $? "ovup.ko loads again"
is "$(text "$FCMD") $(text "$FVER") $(text "$FTGT")" "$T0 $V0 $TT0" \
	"read through the new ovup.ko: all three functions' text is byte-for-byte as before"
rmmod ovup_target
ok $? "ovup_target unloads normally"

bad >/tmp/bad
[ ! -s /tmp/bad ]; ok $? "no BUG/Oops/WARNING/panic in the kernel log"
sed 's/^/#   /' /tmp/bad
dmesg | grep 'ovup:' | sed 's/^/#   /'
echo "1..$n"
exit $failed
