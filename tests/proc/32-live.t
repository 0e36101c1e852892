#!/bin/bash
# The live switch (docs/procedure.md, "The pause"): an apply to a process
# of 16 threads or more stops only the threads that are running; the
# others are read from /proc and left asleep.  Breakpoints guard the sites
# while the jumps are written, and ovup's SIGTRAP handler keeps a thread
# that meets one at the site until the jump is whole.  Checked here:
# idle threads are never stopped, busy and napping threads see only the
# old or the new function, a thread asleep inside the bytes still refuses
# the switch, a process with its own SIGTRAP handler (or threads blocking
# SIGTRAP) is served another way, a foreign SIGTRAP still kills, and the
# tracer killed at each of its steps, alone or with ovup, leaves the
# process alive, settled (by ovup, or by the next run) and clean.
. "$(dirname "$0")/lib.sh"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

patch fix <<'P'
int compute(int x) { return x * 1000; }
P
patch two <<'P'
int compute(int x) { return x * 3; }
int secret(int x) { return x + 2000; }
P

# the tids a trace shows interrupted
interrupted() { grep -o 'PTRACE_INTERRUPT, [0-9]*' "$1" | sort -u | wc -l; }
trapbit() { echo $((0x$(awk '/^SigCgt:/ { print $2 }' /proc/"$1"/status) >> 4 & 1)); }
alive() {
	case "$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | cut -c1)" in
	"" | Z | X) echo dead ;;
	*) echo alive ;;
	esac
}
leftovers() {
	echo "$(grep -c memfd:ovup /proc/"$1"/maps) maps, $(ls -l /proc/"$1"/fd 2>/dev/null | grep -c memfd:ovup) fds, handler $(trapbit "$1")"
}
# released PID: nothing of ovup's left (memory a thread may still be
# inside is freed by a later run: up to 10, 0.3 s apart)
released() {
	local i
	for i in $(seq 10); do
		[ "$(leftovers "$1")" = "0 maps, 0 fds, handler 0" ] && return 0
		sleep 0.3
		"$OVUP" list -p "$1" >/dev/null 2>&1
	done
	[ "$(leftovers "$1")" = "0 maps, 0 fds, handler 0" ]
}
# stats of the workers since a reset: only one result may show
settled_to() {
	ask v reset >/dev/null
	sleep 0.3
	ask v stats
}

# --- 1,000 idle threads: none of them is stopped ---------------------------
start_victim v "$V/victim-pie" -s 999
P=$VPID
run_ovup build -p "$P" "$WORK/fix.c" -o "$WORK/fix.o"
is "$RC" 0 "a one-function patch, built"
strace -f -qq -o "$WORK/live" -e trace=ptrace "$OVUP" apply -p "$P" "$WORK/fix.o" >/dev/null 2>&1
ok $? "applied to a process of 1,000 idle threads"
is "$(ask v call compute 5)" 5000 "the new code runs"
n=$(interrupted "$WORK/live")
ok "$([ "$n" -le 3 ] && echo 0 || echo 1)" "at most 3 of its 1,000 threads were ever stopped (saw $n)"
is "$(trapbit "$P")" 1 "while the patch is applied, ovup's SIGTRAP handler is installed"
strace -f -qq -o "$WORK/stop" -e trace=ptrace "$OVUP" revert -p "$P" >/dev/null 2>&1
ok $? "reverted (a revert stops every thread)"
n=$(interrupted "$WORK/stop")
ok "$([ "$n" -ge 1000 ] && echo 0 || echo 1)" "... and the revert did stop all of them (saw $n): the difference is the live switch"
is "$(ask v call compute 5)" 11 "the old code runs again"
is "$(ls /proc/"$P"/task | wc -l)" 1000 "all 1,000 threads alive"
ok "$(released "$P" && echo 0 || echo 1)" "nothing of ovup's left, the default SIGTRAP action back: $(leftovers "$P")"
OVUP_PAUSE=stop strace -f -qq -o "$WORK/forced" -e trace=ptrace "$OVUP" apply -p "$P" "$WORK/fix.o" >/dev/null 2>&1
n=$(interrupted "$WORK/forced")
ok "$([ "$n" -ge 1000 ] && echo 0 || echo 1)" "OVUP_PAUSE=stop: every thread stopped instead (saw $n)"
is "$(trapbit "$P")" 0 "... and no handler installed"
run_ovup revert -p "$P"
stop_victim v

# --- the choice: few threads are all stopped, as before ---------------------
start_victim v "$V/victim-pie" -s 4
strace -f -qq -o "$WORK/few" -e trace=ptrace "$OVUP" apply -p "$VPID" "$WORK/fix.c" >/dev/null 2>&1
is "$(interrupted "$WORK/few")" 5 "5 threads: all 5 stopped (fewer than 32: stopping them costs less)"
is "$(trapbit "$VPID")" 0 "... and no handler installed"
run_ovup revert -p "$VPID"
stop_victim v

# --- threads busy in the function, or waking to call it --------------------
for kind in "-t 100" "-w 60"; do
	start_victim v "$V/victim-pie" $kind
	P=$VPID
	bad=0
	for r in 1 2 3 4 5; do
		OVUP_PAUSE=live run_ovup apply -v -p "$P" "$WORK/fix.o"
		[ "$RC" = 0 ] || bad=$((bad + 1))
		[[ "$ERR" == *"live switch:"* ]] || bad=$((bad + 1))
		[[ "$(settled_to)" =~ ^21000:[0-9]+$ ]] || bad=$((bad + 1))
		run_ovup revert -p "$P"
		[ "$RC" = 0 ] || bad=$((bad + 1))
		[[ "$(settled_to)" =~ ^43:[0-9]+$ ]] || bad=$((bad + 1))
	done
	is "$bad" 0 "victim $kind: 5 live applies and reverts, each seeing only the new, then only the old result"
	is "$(ls /proc/"$P"/task | wc -l)" $((${kind#* } + 1)) "victim $kind: every thread alive"
	ok "$(released "$P" && echo 0 || echo 1)" "victim $kind: nothing of ovup's left: $(leftovers "$P")"
	stop_victim v
done

# --- threads that block SIGTRAP are stopped: a trap would kill them ---------
VICTIM_BLOCK_TRAP=1 start_victim v "$V/victim-pie" -w 40
P=$VPID
OVUP_PAUSE=live run_ovup apply -v -p "$P" "$WORK/fix.o"
is "$RC" 0 "40 workers blocking SIGTRAP: applied"
held=$(sed -n 's/.*live switch: [0-9]* threads, \([0-9]*\) held.*/\1/p' <<<"$ERR")
ok "$([ "${held:-0}" -ge 40 ] && echo 0 || echo 1)" "... each of them held (${held:-none} held)"
like "$(settled_to)" "^21000:[0-9]+$" "... only the new result"
run_ovup revert -p "$P"
is "$(ls /proc/"$P"/task | wc -l)" 41 "... every thread alive"
stop_victim v

# --- a process with a SIGTRAP handler of its own keeps it --------------------
VICTIM_TRAP_HANDLER=1 start_victim v "$V/victim-pie" -s 40
P=$VPID
run_ovup apply -v -p "$P" "$WORK/fix.o"
is "$RC" 0 "its own SIGTRAP handler: applied"
like "$ERR" "handles SIGTRAP itself; all its threads are stopped instead" "... stopping every thread, and saying why"
is "$(ask v call compute 5)" 5000 "... the new code runs"
is "$(ask v trap)" 1 "... and a SIGTRAP still reaches its own handler"
run_ovup revert -p "$P"
is "$(ask v trap)" 2 "... also after the revert"
stop_victim v

# --- a foreign SIGTRAP still has the default action ---------------------------
STATUS=$WORK/status start_victim v sh -c '"$0" "$@"; echo "$?" >"$STATUS"' "$V/victim-pie" -s 40
P=$VPID
run_ovup apply -p "$P" "$WORK/fix.o"
is "$(trapbit "$P")" 1 "a live apply installed ovup's handler"
ask v trap >/dev/null
for _ in $(seq 50); do [ "$(alive "$P")" = dead ] && break; sleep 0.1; done
is "$(alive "$P")" dead "raise(SIGTRAP) still ends the process"
is "$(cat "$WORK/status" 2>/dev/null)" 133 "... killed by SIGTRAP (exit 128+5), as without ovup"
stop_victim v

# --- two patches applied live, one over the other -----------------------------
patch sec <<'P'
int secret(int x) { return x + 7000; }
P
start_victim v "$V/victim-pie" -s 40
P=$VPID
run_ovup apply -p "$P" "$WORK/fix.o"
run_ovup apply -v -p "$P" "$WORK/sec.c"
is "$RC/$(ask v call compute 5)/$(ask v call secret 5)" 0/5000/7005 "a second live patch over the first: both run"
like "$ERR" "live switch:" "... the second switched live too, over the first one's handler"
is "$(trapbit "$P")" 1 "... ovup's handler installed"
run_ovup revert -p "$P"
is "$RC/$(ask v call compute 5)/$(ask v call secret 5)" 0/5000/1006 "the newest reverted"
is "$(trapbit "$P")" 0 "... and with its memory the handler it had installed: the default action"
run_ovup revert -p "$P"
is "$RC/$(ask v call compute 5)" 0/11 "the first reverted"
ok "$(released "$P" && echo 0 || echo 1)" "nothing of ovup's left: $(leftovers "$P")"
stop_victim v

# --- a thread asleep in the bytes to be changed refuses the switch ----------
start_victim v "$V/victim-pie" -s 40
P=$VPID
is "$(ask v block-late)" ok "a thread asleep in pause(), its syscall instruction at late_entry+3"
patch late <<'P'
void late_entry(void) { }
P
before=$(snap "$P")
OVUP_PAUSE=live run_ovup apply -v -p "$P" --retries 2 "$WORK/late.c"
is "$RC" 3 "live: busy, the interrupted syscall would restart inside the jump"
like "$ERR" "thread [0-9]+ \(late\) is executing the bytes to be changed at late_entry\+0x3" \
	"... naming the thread and where it would resume"
same_mem "$before" "$(snap "$P")" "... and the target is untouched"
is "$(trapbit "$P")" 0 "... with the default SIGTRAP action"
stop_victim v

# --- the handler's call: the thread held one stop, and puts itself back --------
# The thread stopped to install the handler over the default action is
# let go at once with the call's registers: it makes the call on its own
# and returns through the signal frame under its stack; ovup reads the
# old action there.  Over an earlier patch's handler (the action must be
# read while the thread is stopped) it makes the call from the handler's
# own "syscall; int3; ret": one stop, at the breakpoint after the call.
# A call the kernel restarts through its restart block (here the
# leader's nanosleep) would fail with EINTR either way: that thread makes
# the call the long way, and its sleep goes on.
start_victim v "$V/victim-pie" -s 39
P=$VPID
# the tracer's requests to thread $1 in trace $2, up to the first time it
# let it go (a loaded machine may find it running in a later survey, and
# hold it again)
to() { grep -E "^$tracer +" "$2" | sed -n "s/.*ptrace(\(PTRACE_[A-Z_]*\), $1[,)].*/\1/p" | tr '\n' ' ' | sed 's/\(PTRACE_DETACH \).*/\1/'; }
# traced $1 $2: apply $2 under strace to trace $1, until the leader is
# the thread stopped for the handler's call (not one found running and
# held to the end, which a loaded machine may give: up to 5 tries)
traced() {
	local k
	for k in 1 2 3 4 5; do
		strace -f -qq -o "$1" -e trace=ptrace "$OVUP" apply -v -p "$P" "$2" >"$WORK/call.out" 2>&1 || return 1
		grep -q "thread $P stopped for the handler's call" "$WORK/call.out" && return 0
		"$OVUP" revert -p "$P" >/dev/null 2>&1 || return 1
	done
	return 1
}
traced "$WORK/call" "$WORK/fix.c"
ok $? "live apply under strace, the leader stopped for the handler's call"
like "$(cat "$WORK/call.out")" "live switch: 40 threads, 1 held" "... one thread held, for the handler's call"
unlike "$(cat "$WORK/call.out")" "the long way" "... which took the short way"
tracer=$(grep -oE '^[0-9]+ +ptrace\(PTRACE_SEIZE, '"$P"',' "$WORK/call" | tail -1 | cut -d' ' -f1)
like "$(to "$P" "$WORK/call")" "^PTRACE_SEIZE PTRACE_INTERRUPT (PTRACE_[A-Z_]+ )*PTRACE_SETREGS PTRACE_SETSIGMASK PTRACE_DETACH $" \
	"... stopped once, and let go with the call's registers"
unlike "$(to "$P" "$WORK/call")" "PTRACE_CONT|PTRACE_SYSCALL" "... never resumed to a second stop"
is "$(ask v call compute 5)" 5000 "the leader, back inside its read(), serves the next command: new code"
is "$(trapbit "$P")" 1 "... ovup's handler installed"
traced "$WORK/call2" "$WORK/sec.c"
ok $? "a second live apply, over the first one's handler"
tracer=$(grep -oE '^[0-9]+ +ptrace\(PTRACE_SEIZE, '"$P"',' "$WORK/call2" | tail -1 | cut -d' ' -f1)
like "$(to "$P" "$WORK/call2")" "^PTRACE_SEIZE PTRACE_INTERRUPT (PTRACE_[A-Z_]+ )*PTRACE_SETREGS PTRACE_SETSIGMASK PTRACE_CONT PTRACE_GETREGS (PTRACE_[A-Z_]+ )*PTRACE_DETACH $" \
	"... the thread stopped once more, at the breakpoint after the call"
unlike "$(to "$P" "$WORK/call2")" "PTRACE_SYSCALL" "... never at a call's entry"
is "$(ask v call compute 5)/$(ask v call secret 5)" 5000/7005 "... both patches run"
run_ovup revert -p "$P"
run_ovup revert -p "$P"
is "$RC/$(ask v call compute 5)" 0/11 "reverted"
stop_victim v
start_victim v "$V/victim-pie" -n -s 39
P=$VPID
run_ovup apply -v -p "$P" "$WORK/fix.c"
is "$RC" 0 "live apply, the leader asleep in nanosleep"
like "$ERR" "thread $P makes the call the long way: the call it was interrupted in would not restart from a frame" \
	"... the leader makes the call the long way"
is "$(ask v call compute 5)" 5000 "... new code"
run_ovup revert -p "$P"
is "$RC/$(ask v naps-cut)" 0/0 "... and its nanosleep was never cut short"
stop_victim v
# the tracer killed once it gave that thread the call's registers (the
# kernel resumes it from its stop, to make the call), once it let it go,
# and (over an earlier
# patch) while the thread makes the call and while it is stopped at the
# breakpoint after it: the thread puts itself back (the trap goes to the
# handler, which lets it on, or is dropped with the tracer), nothing was
# switched, and ovup says so
start_victim v "$V/victim-pie" -s 39
P=$VPID
for f in trap-regs trap-released trap-call trap-called; do
	case "$f" in trap-regs | trap-released) ;; *) false ;; esac || { run_ovup apply -p "$P" "$WORK/sec.c"; is "$RC" 0 "$f: a first patch, whose handler stays"; }
	OVUP_FAULT=$f run_ovup apply -p "$P" "$WORK/fix.c"
	is "$(alive "$P")" alive "tracer killed at $f: the process lives"
	unlike "$RC" "^0$" "... the apply failed"
	like "$ERR" "the process switching its sites died; nothing was switched" "... saying why"
	is "$(ask v call compute 5)" 11 "... the old code, and the thread let go serves the next command"
	case "$f" in trap-regs | trap-released) ;; *) false ;; esac || { run_ovup revert -p "$P"; is "$RC/$(ask v call secret 5)" 0/1006 "... the first patch reverted"; }
	ok "$(released "$P" && echo 0 || echo 1)" "... nothing of ovup's left: $(leftovers "$P")"
done
run_ovup apply -p "$P" "$WORK/fix.c"
is "$RC/$(ask v call compute 5)" 0/5000 "the next apply switches"
run_ovup revert -p "$P"
is "$(ls /proc/"$P"/task | wc -l)" 40 "all 40 threads alive"
stop_victim v

# --- the tracer killed at each step, alone or with ovup -----------------------
start_victim v "$V/victim-pie" -w 60
P=$VPID
run_ovup build -p "$P" "$WORK/two.c" -o "$WORK/two.o"
for c in trap-before:old trap-traps:old trap-tail:1:old trap-tail:2:old \
	trap-head:1:new trap-head:2:new trap-after:new \
	trap-both,trap-tail:2:old trap-both,trap-head:1:new trap-both,trap-after:new; do
	fault=${c%:*} want=${c##*:} why=""
	{ OVUP_FAULT=$fault OVUP_PAUSE=live "$OVUP" apply -p "$P" "$WORK/two.o" >"$WORK/out" 2>&1; } 2>/dev/null
	rc=$?
	case "$fault" in
	trap-both,*)
		# both died: threads that met a breakpoint wait in the handler
		# until the next run settles the switch
		[ "$rc" = 137 ] || why="$why ovup exit $rc, not killed;"
		for _ in $(seq 50); do pgrep -f "ovup apply -p $P" >/dev/null || break; sleep 0.1; done
		if [ "$want" = old ]; then
			# the breakpoints stay: the workers, waking every 100 us,
			# meet them and wait, running, in the handler
			sleep 0.5
			spin=$(cat /proc/"$P"/task/*/syscall 2>/dev/null | grep -c '^running')
			[ "$spin" -ge 30 ] || why="$why only $spin threads waiting at the breakpoints;"
		fi
		run_ovup list -p "$P"
		[ "$RC" = 0 ] || why="$why next run exit $RC ($ERR);"
		[[ "$ERR$OUT" == *"half-way"* || "$want/$(fstate)" = new/new ]] ||
			why="$why next run did not say it settled a switch;"
		;;
	*)
		[ "$want" = new ] && [ "$rc" != 0 ] && why="$why exit $rc ($(cat "$WORK/out"));"
		[ "$want" = old ] && [ "$rc" = 0 ] && why="$why exit 0 though nothing was switched;"
		grep -q "the process switching its sites died" "$WORK/out" ||
			why="$why no word of the dead tracer;"
		;;
	esac
	[ "$(alive "$P")" = alive ] || {
		fail "$fault: the process died"
		done_testing
	}
	st=$(fstate)
	[ "$st" = "$want" ] || why="$why functions $st, not $want;"
	[[ "$(settled_to)" =~ ^(43|63):[0-9]+$ ]] || why="$why workers saw $(ask v stats);"
	[ "$st" = new ] && run_ovup revert -p "$P"
	[ "$(fstate)" = old ] || why="$why revert left $(fstate);"
	released "$P" || why="$why left $(leftovers "$P");"
	if [ -z "$why" ]; then pass "tracer killed at $fault: alive, $want, settled, nothing left"; else fail "tracer killed at $fault:$why"; fi
done
is "$(ls /proc/"$P"/task | wc -l)" 61 "all 61 threads alive after the kills"

# ovup itself killed at each of its wait4 calls (strace, ovup only): the
# calls it makes in the process before the switch, then the wait for its
# tracer, which finishes alone; the next run confirms or drops the patch
n=$(OVUP_PAUSE=live strace -o "$WORK/calls" -e trace=wait4 "$OVUP" apply -p "$P" "$WORK/two.o" >/dev/null 2>&1; grep -c '^wait4(' "$WORK/calls")
run_ovup revert -p "$P"
bad=0
for i in $(seq 1 "$n"); do
	{ OVUP_PAUSE=live strace -o /dev/null -e trace=wait4 -e inject=wait4:signal=SIGKILL:when="$i" \
		"$OVUP" apply -p "$P" "$WORK/two.o" >/dev/null 2>&1; } 2>/dev/null
	for _ in $(seq 50); do pgrep -f "ovup apply -p $P" >/dev/null || break; sleep 0.1; done
	why=""
	[ "$(alive "$P")" = alive ] || { fail "ovup killed at wait4 #$i of $n: the process died"; done_testing; }
	st=$(fstate)
	case "$st" in old | new) ;; *) why="$why functions $st;" ;; esac
	run_ovup list -p "$P"
	[ "$RC" = 0 ] || why="$why next run exit $RC ($ERR);"
	[ "$(fstate)" = "$st" ] || why="$why the next run changed $st to $(fstate);"
	[ "$st" = new ] && run_ovup revert -p "$P"
	released "$P" || why="$why left $(leftovers "$P");"
	[ -z "$why" ] || { bad=$((bad + 1)); diag "ovup killed at wait4 #$i of $n:$why"; }
done
is "$bad" 0 "ovup killed at each of its $n wait4 calls: each time alive, wholly old or new, settled, nothing left"
is "$(ls /proc/"$P"/task | wc -l)" 61 "all 61 threads alive"
stop_victim v
done_testing
