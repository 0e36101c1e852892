# SPDX-License-Identifier: MIT
# Runs inside the VM (tools/vmrun): ovup -k against the running kernel.
# Patch objects were built on the host with `ovup build -k` and copied to
# /tmp.  Prints TAP.
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi; }
is() { [ "$1" = "$2" ]; ok $? "$3"; [ "$1" = "$2" ] || { echo "#   got:  '$1'"; echo "#   want: '$2'"; }; }
like() { echo "$1" | grep -qE -- "$2"; r=$?; ok $r "$3"; [ $r = 0 ] || echo "$1" | sed 's/^/#   /'; }
run() { ovup "$@" >/tmp/out 2>/tmp/err; RC=$?; OUT=$(cat /tmp/out); ERR=$(cat /tmp/err); }
addr() { ovup symbols -k "$1" | awk -v o="$2" '$NF == o || $(NF) ~ "^"o {print "0x"$1; exit}'; }
# the bytes of a function, through /dev/ovup
text() { kpeek "$1" 32 | cut -d' ' -f2; }

CMDLINE=$(cat /proc/cmdline)
VERSION=$(cat /proc/version)
FCMD=$(addr cmdline_proc_show vmlinux)
FVER=$(addr version_proc_show vmlinux)
T0=$(text "$FCMD")
V0=$(text "$FVER")

# 1. a static kernel function reachable from /proc
run apply -k --dry-run /tmp/cmdline.o
is "$RC" 0 "dry run"
like "$OUT" "old $FCMD, [0-9]+ bytes; branch at 0x[0-9a-f]+ \\(after the kept entry bytes\\)" "dry run: the branch goes after the ftrace NOP5"
like "$OUT" "jump e9( [0-9a-f]{2}){4}" "dry run: shows the jump bytes"
is "$(text "$FCMD")" "$T0" "dry run: kernel text untouched"
is "$(cat /proc/cmdline)" "$CMDLINE" "dry run: /proc/cmdline unchanged"
run apply -k --dry-run --json /tmp/cmdline.o
like "$OUT" '"registers":\{"contract":"unchecked","wrapper":null\}' \
	"dry run: kernel callers assume only the ABI (-pg): no register contract, no wrapper"
run apply -k /tmp/cmdline.o
is "$RC" 0 "apply: static cmdline_proc_show replaced live"
like "$OUT" "cmdline_proc_show +vmlinux" "apply names the function"
got=$(cat /proc/cmdline)
like "$got" "^ovup-cmdline pid=[0-9]+ comm=cat ticking=1$" "new code calls seq_printf, reads current->pid/comm (per-CPU) and jiffies"
[ "$got" != "$CMDLINE" ]; ok $? "the old /proc/cmdline is gone"
run list -k
like "$OUT" "cmdline +\(seq [0-9]+" "list -k shows the patch (kept by the module)"
like "$OUT" "cmdline_proc_show +vmlinux .* active" "... with the function active"
rmmod ovup 2>/dev/null
[ -e /dev/ovup ]; ok $? "rmmod ovup is refused while a patch is active"
run revert -k
is "$RC" 0 "revert -k"
is "$(cat /proc/cmdline)" "$CMDLINE" "/proc/cmdline is back"
is "$(text "$FCMD")" "$T0" "kernel text is byte-for-byte as before"

# 2. two functions switched together
run apply -k /tmp/two.o
is "$RC" 0 "a patch with two functions"
is "$(cat /proc/cmdline)" "ovup-two cmdline" "... /proc/cmdline switched"
is "$(cat /proc/version)" "ovup-two version" "... /proc/version switched with it"
run revert -k two
is "$(cat /proc/cmdline)$(cat /proc/version)" "$CMDLINE$VERSION" "both reverted together"

# 3. a function of a module
insmod /lib/ovup/ovup_target.ko 2>/dev/null
is "$(cat /proc/ovup_target)" "target-original" "the victim module is loaded"
run apply -k /tmp/module.o
is "$RC" 0 "a module function (ovup_target_show in ovup_target) is replaced"
is "$(cat /proc/ovup_target)" "target-patched" "... and runs"
run revert -k
is "$(cat /proc/ovup_target)" "target-original" "... and is reverted"

# 4. two stacked patches on one function, reverted in order
run apply -k /tmp/stack1.o
run apply -k /tmp/stack2.o
is "$RC" 0 "a second patch stacks on the first"
is "$(cat /proc/cmdline)" "ovup-stack-2" "the newest runs"
run list -k
like "$OUT" "cmdline_proc_show: stack2 stack1" "list shows the stack, newest first"
run revert -k stack1
is "$RC" 1 "reverting the older one first is refused"
like "$ERR" "patch 'stack1' is under patch 'stack2' on function 'cmdline_proc_show'; revert 'stack2' first" "... with the reason"
is "$(cat /proc/cmdline)" "ovup-stack-2" "... and nothing changed"
run revert -k
is "$(cat /proc/cmdline)" "ovup-stack-1" "revert the newest: the older runs again"
run revert -k
is "$(cat /proc/cmdline)" "$CMDLINE" "revert the older: the original runs again"
is "$(text "$FCMD")" "$T0" "kernel text is as before"

# 4b. patch-local data, OVUP_ORIG, one switch for two functions
run apply -k /tmp/data.o
is "$RC" 0 "a kernel patch with its own data and helper"
is "$(cat /proc/cmdline)" "ovup-data reads=1 one total=101" "first read: counter, constant table, string"
is "$(cat /proc/cmdline)" "ovup-data reads=2 two total=102" "second read: its variables kept their writes"
run revert -k
run apply -k /tmp/wrap.o
is "$RC" 0 "a kernel fix calling the original (OVUP_ORIG)"
is "$(cat /proc/cmdline)" "ovup-wrap: $CMDLINE" "it adds its text, then the original prints the command line"
run apply -k /tmp/stack1.o
is "$(cat /proc/cmdline)" "ovup-stack-1" "a patch stacked over the wrapper"
run revert -k
is "$(cat /proc/cmdline)" "ovup-wrap: $CMDLINE" "... reverted: the wrapper again"
run revert -k
is "$(text "$FCMD")" "$T0" "the wrapper reverted: kernel text as before"
OVUP_FAULT=stale-site:2 ovup apply -k /tmp/two.o >/tmp/out 2>/tmp/err
RC=$?
is "$RC" 1 "two functions, the second site changed before the switch: exit 1"
like "$(cat /tmp/err)" "function 'version_proc_show': the bytes at 0x[0-9a-f]+ changed while the patch was prepared; nothing was switched" "... nothing switched"
is "$(text "$FCMD") $(text "$FVER")" "$T0 $V0" "... both functions' text unchanged (all or none)"
is "$(cat /proc/cmdline)" "$CMDLINE" "... /proc/cmdline unchanged"
run apply -k /tmp/kernel-cmdline.o
is "$RC" 0 "examples/kernel-cmdline.c applies"
like "$(cat /proc/cmdline)" "^$CMDLINE \\[patched by ovup; read by cat, pid [0-9]+\\]$" "... and reads saved_command_line and current"
run revert -k
run apply -k /tmp/otherbuild.o
is "$RC" 1 "an object built for another kernel build is refused"
like "$ERR" "built for kernel build '#1 SMP Debian 0.0-0 \\(1999-01-01\\)', but the running kernel is build '#1 SMP" "... naming both builds"

# 5. bad input: a clear error, kernel text unchanged
run apply -k /tmp/unknown.o
is "$RC" 1 "unknown symbol: exit 1"
like "$ERR" "^ovup: symbol 'no_such_kernel_symbol' used by the patch is not in the target" "unknown symbol: named"
run apply -k /tmp/ambiguous.o
is "$RC" 1 "ambiguous static name: exit 1"
like "$ERR" "function '__list_del_entry' is ambiguous: vmlinux#1 .*vmlinux#2" "... lists the candidates with their positions"
like "$ERR" "OVUP_OBJECT\(__list_del_entry|OVUP_SYMPOS" "... and how to choose"
run apply -k /tmp/tiny.o
is "$RC" 1 "function too small: exit 1"
like "$ERR" "function 'abort' in vmlinux is [0-9] bytes, shorter than the 5-byte jump \(plus 5 kept\)" "... names the sizes"
is "$(text "$FCMD")" "$T0" "kernel text unchanged after the refusals"
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
# first as a plain int3, then let the kernel optimize the kprobe into a
# jmp to its detour buffer: both are someone else's hook
echo 0 >/proc/sys/debug/kprobes-optimization 2>/dev/null
if echo 'p:ovuptest version_proc_show+5' >/sys/kernel/tracing/kprobe_events 2>/dev/null &&
	echo 1 >/sys/kernel/tracing/events/kprobes/ovuptest/enable; then
	V1=$(text "$FVER")
	run apply -k /tmp/version.o
	is "$RC" 1 "a site hooked by a kprobe (int3) is refused"
	like "$ERR" "function 'version_proc_show': a kprobe at version_proc_show\\+0x5 +lies in the bytes ovup's jump would replace" "... saying so"
	is "$(text "$FVER")" "$V1" "... and the kprobe's bytes are untouched"
	echo 1 >/proc/sys/debug/kprobes-optimization
	for i in 1 2 3 4 5 6 7 8 9 10; do
		case $(text "$FVER") in 0f1f440000e9*) break ;; esac
		sleep 0.5
	done
	V2=$(text "$FVER")
	like "$V2" "^0f1f440000e9" "the kernel optimized the kprobe into a jmp"
	run apply -k /tmp/version.o
	is "$RC" 1 "a site hooked by an optimized kprobe (jmp) is refused"
	like "$ERR" "function 'version_proc_show': a kprobe at version_proc_show\\+0x5 \\[OPTIMIZED\\] lies in the bytes ovup's jump would replace" "... naming the optimized probe"
	is "$(text "$FVER")" "$V2" "... and its bytes are untouched"
	echo 0 >/sys/kernel/tracing/events/kprobes/ovuptest/enable
	echo '-:ovuptest' >>/sys/kernel/tracing/kprobe_events
else
	ok 1 "could not place a kprobe to test a hooked site"
fi
is "$(text "$FVER")" "$V0" "/proc/version's function is as before"
run list -k --json
like "$OUT" '"patches":\[\]' "no patch is left applied"
echo 2 >/proc/sys/kernel/kptr_restrict
run apply -k /tmp/cmdline.o
is "$RC" 1 "kptr_restrict=2 hides kernel addresses: exit 1"
like "$ERR" "shows every address as 0 \\(kernel.kptr_restrict" "... and the cause is named"
echo 0 >/proc/sys/kernel/kptr_restrict
is "$(cat /proc/cmdline)" "$CMDLINE" "... nothing changed"
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
su -s /bin/sh nobody -c 'ovup list -k' >/tmp/out 2>/tmp/err
RC=$?
is "$RC" 1 "a caller without privilege: exit 1"
like "$(cat /tmp/err)" "cannot open /dev/ovup: permission denied; run ovup as root" "... told to run as root"
rmmod ovup_target
rmmod ovup
[ ! -e /dev/ovup ]; ok $? "with no patch active the module unloads"
run list -k
is "$RC" 1 "module not loaded: exit 1"
like "$ERR" "/dev/ovup does not exist: the ovup module is not loaded; load it with 'insmod ovup.ko'" "module not loaded: says how to load it"
insmod /lib/ovup/ovup.ko
dmesg | grep -E "BUG|Oops|WARNING|general protection" >/tmp/bad
[ ! -s /tmp/bad ]; ok $? "no BUG/Oops/WARNING in the kernel log"
sed 's/^/#   /' /tmp/bad
echo "1..$n"
exit $failed
