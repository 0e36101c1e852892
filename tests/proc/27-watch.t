#!/bin/bash
# Patches that come back: a process patch built for a program file (no
# process), installed, applied by `ovup watch` to each process of that
# build that starts later, without any command, within a second of its
# exec; another build skipped with the reason; uninstall; the kernel's
# installed patches skipped when built for another kernel.
. "$(dirname "$0")/lib.sh"

export OVUP_LIB_DIR=$WORK/lib
B=$WORK/bin
mkdir -p "$B" "$WORK/bin2"
cp "$V/victim-pie" "$V/libvictim.so" "$B/"
cp "$V/libvictim.so" "$WORK/bin2/"
# the same program, another build (the build-id changed, the code not)
id=$(readelf -n "$B/victim-pie" | awk '/Build ID/ {print $3}')
other_build "$B/victim-pie" "$WORK/bin2/victim-pie"

patch fix <<'P'
int compute(int x) { return x * 1000; }
P
# 1. built for the file, no process needed; installed
run_ovup build --object "$B/victim-pie" "$WORK/fix.c" -o "$WORK/fix.o"
is "$RC" 0 "build --object: a patch for the program file"
run_ovup info "$WORK/fix.o"
like "$OUT" "$B/victim-pie build-id $id" "... it records the file and its build-id"
run_ovup install --name cve-1 "$WORK/fix.o"
is "$RC" 0 "install"
[ -f "$WORK/lib/process/$id/cve-1.o" ]
ok $? "... kept in \$OVUP_LIB_DIR/process/BUILD-ID/NAME.o"

start_victim early "$B/victim-pie"
before=$(ask early call compute 3)
"$OVUP" watch >"$WORK/watch.log" 2>&1 &
W=$!
for _ in $(seq 500); do grep -q "^watching" "$WORK/watch.log" && break; sleep 0.01; done
for _ in $(seq 200); do [ "$(ask early call compute 3)" = 3000 ] && break; sleep 0.01; done
is "$(ask early call compute 3)" 3000 "watch: a process already running is patched first"

# 2. a process that starts later: patched without any command
t0=$(date +%s%N)
start_victim new "$B/victim-pie"
for _ in $(seq 100); do [ "$(ask new call compute 3)" = 3000 ] && break; sleep 0.01; done
t1=$(date +%s%N)
is "$(ask new call compute 3)" 3000 "a process started later is patched, no command given"
ok "$([ $(((t1 - t0) / 1000000)) -lt 1000 ]; echo $?)" \
	"... within a second of its start ($(((t1 - t0) / 1000000)) ms, its start included)"
like "$(cat "$WORK/watch.log")" "pid $new_PID \(victim-pie\): applied 'cve-1', [0-9.]+ ms after its exec" \
	"... and watch logs it with the time since its exec"
run_ovup list -p "$new_PID"
like "$OUT" "cve-1" "... list shows the patch"

# 3. another build of the program: skipped, with the reason
start_victim other "$WORK/bin2/victim-pie"
for _ in $(seq 200); do grep -q "pid $other_PID " "$WORK/watch.log" && break; sleep 0.01; done
like "$(cat "$WORK/watch.log")" "pid $other_PID \(victim-pie\): 'cve-1' skipped: maps .* with build-id [0-9a-f]+; 'cve-1' is for $id" \
	"another build: skipped, naming both build-ids"
is "$(ask other call compute 3)" "$before" "... and not patched"

# 4. another program: nothing
start_victim np "$V/victim-nopie"
sleep 0.3
is "$(ask np call compute 3)" "$before" "another program is left alone"

# 5. uninstalled: the next process is not patched
run_ovup uninstall cve-1
is "$RC" 0 "uninstall"
[ ! -e "$WORK/lib/process/$id/cve-1.o" ]
ok $? "... the object is gone"
start_victim late "$B/victim-pie"
sleep 0.5
is "$(ask late call compute 3)" "$before" "a process started after the uninstall is not patched"
is "$(ask new call compute 3)" 3000 "... those patched before keep the patch (revert undoes it)"
kill -TERM "$W"
wait "$W"
is "$?" 0 "watch stops on SIGTERM, exit 0"
like "$(tail -1 "$WORK/watch.log")" "^watch: stopped$" "... saying so"

# 6. a burst of execs the kernel's events overflow (the smallest socket
# buffer): watch looks at every process again, and none is missed
run_ovup install --name cve-3 "$WORK/fix.o"
OVUP_FAULT=watch-small-buffer "$OVUP" watch >"$WORK/burst.log" 2>&1 &
W=$!
for _ in $(seq 500); do grep -q "^watching" "$WORK/burst.log" && break; sleep 0.01; done
# all 40 read one FIFO no one writes to (held open here)
mkfifo "$WORK/burst.in"
exec {bw}<>"$WORK/burst.in"
burst=""
for _ in $(seq 40); do
	"$B/victim-pie" <"$WORK/burst.in" >/dev/null 2>&1 &
	burst="$burst $!"
	track "$!"
done
missed=40
for _ in $(seq 100); do
	missed=0
	for p in $burst; do
		"$OVUP" list -p "$p" 2>/dev/null | grep -q cve-3 || missed=$((missed + 1))
	done
	[ "$missed" = 0 ] && break
	sleep 0.1
done
is "$missed" 0 "40 processes started at once: every one patched"
like "$(cat "$WORK/burst.log")" "watch: the kernel dropped process events .*looking at every process again" \
	"... the events the kernel dropped were made up for by looking at every process"
kill -TERM "$W"
wait "$W"
for p in $burst; do kill "$p" 2>/dev/null; done
exec {bw}>&-
run_ovup uninstall cve-3

# 7. watch killed while the run it started patches a new process: that
# run finishes alone, the process is wholly old or new, and the next
# apply --installed --all settles it
run_ovup install --name cve-4 "$WORK/fix.o"
{ strace -qq -o /dev/null -e trace=wait4 -e inject=wait4:signal=SIGKILL:when=2 \
	"$OVUP" watch >"$WORK/killed.log" 2>&1 & } 2>/dev/null
ws=$!
disown "$ws"
for _ in $(seq 500); do grep -q "^watching" "$WORK/killed.log" && break; sleep 0.01; done
sleep 0.3
start_victim kv "$B/victim-pie"
for _ in $(seq 200); do kill -0 "$ws" 2>/dev/null || break; sleep 0.01; done
! kill -0 "$ws" 2>/dev/null && ! grep -q "watch: stopped" "$WORK/killed.log"
ok $? "watch was killed (SIGKILL at its second wait4) while it patched the new process"
sleep 0.5
case "$(ask kv call compute 3)" in
3000 | "$before") pass "watch killed mid-run: the new process is wholly old or new" ;;
*) fail "watch killed mid-run: the new process is wholly old or new" ;;
esac
run_ovup apply --installed --all
like "$OUT" "$kv_PID victim-pie +(applied|already applied)" "... the next apply --installed --all settles it"
is "$(ask kv call compute 3)" 3000 "... and it runs the patch"
run_ovup revert --all --object "$B/victim-pie" cve-4
run_ovup uninstall cve-4

# 8. apply --installed --all: the running processes, without watch
run_ovup install --name cve-2 "$WORK/fix.o"
run_ovup apply --installed --all
is "$RC" 5 "apply --installed --all: exit 5, a process of another build is not patched"
like "$OUT" "$other_PID victim-pie +another build, not touched" "... and named"
like "$OUT" "$late_PID victim-pie +applied" "... the process started after the uninstall is patched now"
like "$OUT" "$new_PID victim-pie +applied" "... and one with cve-1 too (another name)"
run_ovup uninstall cve-2

# 9. bad input: one line, the documented code
gcc -c -o "$WORK/plain.o" "$WORK/fix.c"
run_ovup install "$WORK/plain.o"
like "$RC.$ERR" "^1\.ovup: .*plain.o: (records nothing it was built for|.*'ovup build')" \
	"an object not from 'ovup build': refused"
run_ovup uninstall nosuch
like "$RC.$ERR" "^1\.ovup: no installed patch 'nosuch' in $WORK/lib" "uninstall of a name not installed"
run_ovup apply --installed
like "$RC.$ERR" "^2\.ovup: apply --installed takes -k .* or --all" "apply --installed needs -k or --all"
run_ovup apply --installed -k "$WORK/fix.o"
is "$RC" 2 "... and no patch file"

# 10. a kernel patch for another kernel than this one: skipped at boot
if "$OVUP" build -k "$ROOT/tests/kernel/patches/cmdline.c" -o "$WORK/k.o" >"$WORK/kb" 2>&1; then
	rel=$("$OVUP" info "$WORK/k.o" | sed -n 's/.*kernel \([^ ,]*\).*/\1/p' | head -1)
	run_ovup install "$WORK/k.o"
	is "$RC" 0 "install of a kernel patch (built for $rel)"
	[ -f "$WORK/lib/kernel/$rel/cmdline.o" ]
	ok $? "... kept in \$OVUP_LIB_DIR/kernel/RELEASE/NAME.o"
	run_ovup apply --installed -k
	if [ "$rel" != "$(uname -r)" ]; then
		is "$RC" 0 "apply --installed -k on a kernel it was not built for: exit 0"
		like "$OUT" "cmdline: skipped: built for kernel $rel, this is $(uname -r)" "... skipped, with the reason"
		like "$OUT" "1 installed kernel patch: 0 applied, 0 failed, 1 for another kernel" "... and counted"
	else
		pass "# SKIP this host runs $rel: the kernel tests apply it (tests/kernel)"
	fi
else
	sed 's/^/# /' "$WORK/kb"
	fail "ovup build -k tests/kernel/patches/cmdline.c"
fi
done_testing
