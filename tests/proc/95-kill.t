#!/bin/bash
# Killing ovup at any instant never harms the target.  Every ptrace,
# pwrite64 and wait4 call of an apply and of a revert is a kill point
# (strace -e inject=SYSCALL:signal=SIGKILL:when=N), so are the pwrite64
# calls and a sample of the ptrace calls of forget and revert --force
# (after another tool changed the sites), then random moments.
# After each: the target is alive with every register of the thread ovup
# injects into intact, each function is wholly old or wholly new, the
# next ovup run settles the patch (all or none) and, once reverted,
# nothing of ovup's is left in the target.
. "$(dirname "$0")/lib.sh"
# scratch directories of killed runs land here, to be counted
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

patch two <<'P'
int compute(int x) { return x * 3; }
int secret(int x) { return x + 2000; }
P
# the main thread (where ovup makes its system calls) spins checking its
# registers; one worker calls compute() without end
start_victim v "$V/victim-pie" -r -t 1
P=$VPID
run_ovup build -p "$P" "$WORK/two.c" -o "$WORK/two.o"
is "$RC" 0 "a two-function patch, built once"

leftovers() {
	echo "$(grep -c memfd:ovup /proc/$P/maps) maps, $(ls -l /proc/$P/fd 2>/dev/null | grep -c memfd:ovup) fds"
}
# released: nothing of ovup's left in the target.  Memory a thread may
# still return into (one descheduled inside the patch's code, which a
# loaded machine makes likely) is kept and recorded, and a later run
# releases it: up to 10 later runs, 0.3 s apart, before it counts as left.
released() {
	local i
	for i in $(seq 10); do
		[ "$(leftovers)" = "0 maps, 0 fds" ] && return 0
		sleep 0.3
		"$OVUP" list -p "$P" >/dev/null 2>&1
	done
	[ "$(leftovers)" = "0 maps, 0 fds" ]
}

KILLS=0 LOST=0 LEAKED=0 BAD=0 UNKILLED=0
# verdict WHAT WHY GOOD: what every kill ends with, after the checks of
# its kind gathered WHY: nothing of ovup's left, the registers intact
verdict() {
	local what=$1 why=$2 good=$3
	if ! released; then
		LEAKED=$((LEAKED + 1))
		why="$why left $(leftovers);"
	fi
	set -- $(ask v regs)
	[ "${2:-x}" = 0 ] || why="$why registers changed in $2 rounds;"
	if [ -z "$why" ]; then
		pass "$what: $good"
	else
		BAD=$((BAD + 1))
		fail "$what:$why"
	fi
}
# check WHAT: after a kill, the target must be fine and the next run settle it
check() {
	local what=$1 why="" st after alive
	KILLS=$((KILLS + 1))
	case "$(sed 's/.*) //' /proc/$P/stat 2>/dev/null | cut -c1)" in
	"" | Z | X) alive=no ;;
	*) alive=yes ;;
	esac
	if [ "$alive" = no ]; then
		LOST=$((LOST + 1))
		fail "$what: the target died"
		done_testing
	fi
	st=$(fstate)
	case "$st" in old | new | mixed) ;; *) why="$why functions $st;" ;; esac
	run_ovup list -p "$P"
	[ "$RC" = 0 ] || why="$why next run exit $RC ($ERR);"
	after=$(fstate)
	case "$after" in old | new) ;; *) why="$why not settled: $after;" ;; esac
	if [ "$after" = new ]; then
		run_ovup revert -p "$P"
		[ "$RC" = 0 ] || why="$why revert exit $RC ($ERR);"
		[ "$(fstate)" = old ] || why="$why revert left $(fstate);"
	fi
	verdict "$what" "$why" "alive, $st, settled to $after, nothing left"
}

# kill OP SYSCALL N: ovup OP killed at its N-th SYSCALL
killed_at() {
	local op=$1 sc=$2 n=$3
	{ strace -o /dev/null -e trace="$sc" -e inject="$sc":signal=SIGKILL:when="$n" \
		"$OVUP" "$op" -p "$P" $([ "$op" = apply ] && echo "$WORK/two.o") \
		>/dev/null 2>&1; } 2>/dev/null
}

# how often an undisturbed run makes each call
count() {
	strace -o "$WORK/trace" -e trace="$2" "$OVUP" "$1" -p "$P" \
		$([ "$1" = apply ] && echo "$WORK/two.o") >/dev/null 2>&1
	grep -c "^$2(" "$WORK/trace"
}

for sc in ptrace pwrite64 wait4; do
	n=$(count apply "$sc")
	run_ovup revert -p "$P"
	for i in $(seq 1 "$n"); do
		killed_at apply "$sc" "$i"
		check "apply killed at $sc #$i of $n"
	done
	run_ovup apply -p "$P" "$WORK/two.o"
	n=$(count revert "$sc")
	for i in $(seq 1 "$n"); do
		run_ovup apply -p "$P" "$WORK/two.o"
		killed_at revert "$sc" "$i"
		check "revert killed at $sc #$i of $n"
	done
done

# forget and revert --force, each killed at its ptrace and pwrite64
# calls, after another tool changed the sites (62-ways-out.t): forget
# once it put the old bytes back at both, revert --force once it wrote
# its own jump at compute (to twin) and left ovup's at secret.  Every
# pwrite64 is a kill point; of the ptrace calls (some 60 or 70, most of
# them alike: the stops and the injected system calls), every 10th from
# the first, and the last.
addr() { printf '0x%x' "0x$("$OVUP" symbols -p "$P" "$1" | awk -v n="$1" '$5 == n { print $1; exit }')"; }
jmp() { printf 'e9%08x' $((($2 - $1 - 5) & 0xffffffff)) | sed 's/e9\(..\)\(..\)\(..\)\(..\)/e9\4\3\2\1/'; }
csite=$(addr compute) ssite=$(addr secret) twin=$(addr twin)
cold=$("$H/peek" "$P" "$csite" 5) sold=$("$H/peek" "$P" "$ssite" 5)
is "$(ask v call twin 5)" 100007 "twin(5) is 100007, where another tool's jump leads"
# the other tool stops the process first: its worker runs compute()
# without end, and must not meet a half-written instruction
other_tool() {
	local i
	kill -STOP "$P"
	for i in $(seq 500); do
		[ "$(sed 's/.*) //' /proc/$P/task/*/stat | cut -c1 | sort -u)" = T ] && break
		sleep 0.01
	done
	[ "$i" = 500 ] && diag "the target's threads did not all stop for the other tool"
	while [ $# -gt 0 ]; do
		printf "$(echo "$2" | sed 's/../\\x&/g')" |
			dd of="/proc/$P/mem" bs=1 seek="$(($1))" conv=notrunc status=none
		shift 2
	done
	kill -CONT "$P"
}
# ways forget|force: the verb's arguments; ways_setup: applied, then changed
ways() {
	case "$1" in
	forget) echo forget -p "$P" two ;;
	force) echo revert --force -p "$P" two ;;
	esac
}
ways_setup() {
	run_ovup apply -p "$P" "$WORK/two.o"
	[ "$RC" = 0 ] || { diag "apply before $1: exit $RC ($ERR)"; return 1; }
	if [ "$1" = forget ]; then
		other_tool "$csite" "$cold" "$ssite" "$sold"
	else
		other_tool "$csite" "$(jmp "$csite" "$twin")"
	fi
}
# check_way WAY WHAT: what the killed run left runs; the same command
# again ends with no patch, the old code and nothing of ovup's
check_way() {
	local way=$1 what=$2 why="" c s after
	KILLS=$((KILLS + 1))
	case "$(sed 's/.*) //' /proc/$P/stat 2>/dev/null | cut -c1)" in
	"" | Z | X)
		LOST=$((LOST + 1))
		fail "$what: the target died"
		done_testing
		;;
	esac
	c=$(ask v call compute 5)
	s=$(ask v call secret 5)
	# forget writes no code: old throughout; a forced revert switches
	# compute from the other jump back, secret from the patch
	case "$way/$c/$s" in
	forget/11/1006 | force/11/1006 | force/11/2005 | force/100007/1006 | \
		force/100007/2005) ;;
	*) why="$why runs $c/$s;" ;;
	esac
	run_ovup $(ways "$way")
	# 1: a dead run had dropped the record, or this one's load finished it
	case "$RC" in
	0) ;;
	1) tap_grep "$ERR" "nothing to (forget|revert): no patch applied by ovup" ||
		why="$why next run exit 1 ($ERR);" ;;
	*) why="$why next run exit $RC ($ERR);" ;;
	esac
	run_ovup list -p "$P"
	tap_grep "$OUT" "no patches applied" || why="$why list: $OUT $ERR;"
	after=$(fstate)
	[ "$after" = old ] || why="$why settled to $after;"
	verdict "$what" "$why" "alive, $c/$s, finished by the next run, nothing left"
}
for way in forget force; do
	verb=$(ways "$way" | sed 's/ -p.*//')
	ways_setup "$way"
	strace -o "$WORK/trace" -e trace=ptrace,pwrite64 "$OVUP" $(ways "$way") >/dev/null 2>&1
	rc=$?
	is "$rc/$(fstate)" 0/old "$verb under strace: done, the old code runs"
	for sc in ptrace pwrite64; do
		n=$(grep -c "^$sc(" "$WORK/trace")
		if [ "$sc" = ptrace ]; then
			points=$( (seq 1 10 "$n"; echo "$n") | sort -nu)
		else
			points=$(seq 1 "$n")
		fi
		for i in $points; do
			if ! ways_setup "$way"; then
				BAD=$((BAD + 1))
				fail "$verb at $sc #$i: no patch to kill it over"
				continue
			fi
			{ strace -o /dev/null -e trace="$sc" -e inject="$sc":signal=SIGKILL:when="$i" \
				"$OVUP" $(ways "$way") >/dev/null 2>&1; rc=$?; } 2>/dev/null
			# 137: killed; a run that made fewer calls than counted ends
			if [ "$rc" != 137 ]; then
				UNKILLED=$((UNKILLED + 1))
				diag "$verb: not killed at $sc #$i (exit $rc)"
			fi
			check_way "$way" "$verb killed at $sc #$i of $n"
		done
	done
done
# as the block found it: the apply that the scratch directory test below
# crashes would be refused over a patch left or another tool's jump
is "$("$H/peek" "$P" "$csite" 5) $("$H/peek" "$P" "$ssite" 5)" "$cold $sold" \
	"after forget and revert --force were killed: the old bytes at both sites"

# random moments within the time an apply or a revert takes
for i in $(seq 1 40); do
	"$OVUP" apply -p "$P" "$WORK/two.o" >/dev/null 2>&1 &
	k=$!
	sleep "0.0$((RANDOM % 100))"
	kill -9 "$k" 2>/dev/null
	wait "$k" 2>/dev/null
	check "apply killed at random ($i)"
	run_ovup apply -p "$P" "$WORK/two.o"
	"$OVUP" revert -p "$P" >/dev/null 2>&1 &
	k=$!
	sleep "0.0$((RANDOM % 60))"
	kill -9 "$k" 2>/dev/null
	wait "$k" 2>/dev/null
	check "revert killed at random ($i)"
done

# SIGINT, SIGTERM and SIGHUP: ovup finishes or rolls back before it
# exits, so the target is whole at once, with no run needed to settle it.
# The moment is a random system call of the run, its N-th openat (the
# loader's, then the labels step's) or N-th ptrace (from the first stop
# to the switch), the signal sent by strace at that call's entry: a point
# in ovup's progress that no load can shift.  (A random delay after the
# fork fell mostly before ovup caught signals under load, and mostly
# after its end once ovup ran at nice -20: then no run of 24 was
# interrupted.)
declare -A CALLS
for op in apply revert; do
	[ "$op" = revert ] && run_ovup apply -p "$P" "$WORK/two.o"
	args=("$op" -p "$P")
	[ "$op" = apply ] && args+=("$WORK/two.o")
	strace -o "$WORK/calls" -e trace=openat,ptrace "$OVUP" "${args[@]}" >/dev/null 2>&1
	for sc in openat ptrace; do
		CALLS[$op.$sc]=$(grep -c "^$sc(" "$WORK/calls")
	done
	[ "$op" = apply ] && run_ovup revert -p "$P"
done
diag "calls to pick from: apply ${CALLS[apply.openat]} openat, ${CALLS[apply.ptrace]} ptrace;" \
	"revert ${CALLS[revert.openat]} openat, ${CALLS[revert.ptrace]} ptrace"
for sig in INT TERM HUP; do
	bad=0 seen=""
	for i in $(seq 1 12); do
		for op in apply revert; do
			[ "$op" = revert ] && run_ovup apply -p "$P" "$WORK/two.o"
			args=("$op" -p "$P")
			[ "$op" = apply ] && args+=("$WORK/two.o")
			sc=$([ $((RANDOM % 2)) = 0 ] && echo openat || echo ptrace)
			c=${CALLS[$op.$sc]:-0}
			n=$((1 + RANDOM % (c > 0 ? c : 1)))
			{ strace -o /dev/null -e trace="$sc" -e inject="$sc":signal=SIG"$sig":when="$n" \
				"$OVUP" "${args[@]}" >/dev/null 2>"$WORK/sigerr"; rc=$?; } 2>/dev/null
			st=$(fstate)
			# 0: finished; 1: rolled back; 129/130/143: the signal
			# came before ovup could catch it, and found nothing begun
			case "$rc/$st" in
			0/old | 0/new | 1/old | 1/new | 129/old | 129/new | 130/old | 130/new | \
				143/old | 143/new) ;;
			*) bad=$((bad + 1)); echo "# $op SIG$sig at $sc #$n: exit $rc, $st: $(cat "$WORK/sigerr")" ;;
			esac
			# a block a thread's stale register pointed into is kept
			# (and recorded) until a later run finds it unused
			if [ "$st" = old ] && ! released; then
				bad=$((bad + 1))
				echo "# $op SIG$sig: old code but $(leftovers) left"
			fi
			grep -q "interrupted by SIG$sig" "$WORK/sigerr" && seen=1
			[ "$st" = new ] && run_ovup revert -p "$P"
		done
	done
	is "$bad" 0 "SIG$sig at random moments: every apply and revert finished or rolled back"
	# (a signal may well come after the last step; one in 24 is enough)
	is "$seen" 1 "... and at least one run said it was interrupted by SIG$sig"
done

# Signals that come while ovup holds the threads: a flood of numbered
# SIGRTMIN+1 at the thread ovup makes its calls in, and ovup killed at each
# of its pwrite64 calls (the record, the sites: with the threads held) of
# an apply and a revert, five rounds.  Every signal sent must be received,
# in order.  A 6.18 kernel drops the signal of a thread that a dead tracer
# left in a signal-delivery stop (6.1 delivers it), so ovup delivers such
# a signal as soon as the stop is reported, and keeps none held; what is
# left is the one call between the report and the delivery.
start_victim s "$V/victim-pie" -s 2
S=$VPID
is "$(ask s rtsig)" ok "a victim counting numbered SIGRTMIN+1 signals"
flood_start "$S" 200
bad=0 kills=0
for round in 1 2 3 4 5; do
	for op in apply revert; do
		n=$(strace -o "$WORK/calls" -e trace=pwrite64 "$OVUP" "$op" -p "$S" \
			$([ "$op" = apply ] && echo "$WORK/two.o") >/dev/null 2>&1
			grep -c '^pwrite64(' "$WORK/calls")
		[ "$op" = revert ] || run_ovup revert -p "$S"
		for i in $(seq 1 "$n"); do
			[ "$op" = revert ] && run_ovup apply -p "$S" "$WORK/two.o"
			{ strace -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=SIGKILL:when="$i" \
				"$OVUP" "$op" -p "$S" $([ "$op" = apply ] && echo "$WORK/two.o") \
				>/dev/null 2>&1; } 2>/dev/null
			kills=$((kills + 1))
			run_ovup list -p "$S"
			[ "$RC" = 0 ] || { bad=$((bad + 1)); diag "$op killed at pwrite64 #$i: next run: $ERR"; }
			run_ovup revert -p "$S"
		done
	done
done
flood_stop
sent=$SENT
sleep 0.5
set -- $(ask s rtsig-count)
echo "# $kills kills, $sent signals sent, $1 received, $2 out of order"
is "$bad" 0 "ovup killed at each pwrite64 call of an apply and a revert under a flood of signals, $kills times: each run settled"
is "$1" "$sent" "... and no signal was lost"
is "$2" 0 "... nor any received out of order"
stop_victim s

# the scratch directory of a run that died: gone after the next run.
# It is told by its name, which carries the run's pid; the others
# counted are those of dead runs (dead_dirs), which a run must sweep,
# not one named after a pid another process has taken since (pids are
# reused; the sweep rightly keeps those).  The crashed apply must get to
# its branch: refused before it (its patch still applied, a site another
# tool changed) it leaves no directory, hence its exit status first.
dead_dirs() {
	local d p
	for d in "$TMPDIR"/ovup.*; do
		[ -e "$d" ] || continue
		p=${d#"$TMPDIR"/ovup.}
		kill -0 "${p%%.*}" 2>/dev/null || echo "$d"
	done
}
OVUP_FAULT=crash-before-branch "$OVUP" apply -p "$P" "$WORK/two.o" >/dev/null 2>"$WORK/err" &
dead=$!
{ wait "$dead"; rc=$?; } 2>/dev/null
is "$rc" 134 "an apply that aborts before its branch (OVUP_FAULT=crash-before-branch)"
[ "$rc" = 134 ] || diag "$(cat "$WORK/err")"
is "$(ls -d "$TMPDIR/ovup.$dead".* 2>/dev/null | wc -l)/$(dead_dirs | wc -l)" 1/1 \
	"an ovup that died left its scratch directory, the only one of a dead run"
run_ovup apply -p "$P" "$WORK/two.o"
run_ovup revert -p "$P"
is "$(ls -d "$TMPDIR/ovup.$dead".* 2>/dev/null | wc -l)/$(dead_dirs | wc -l)" 0/0 \
	"the next run removed it"

echo "# kill points: $KILLS, targets lost: $LOST, leaked: $LEAKED, other failures: $BAD, forget and revert --force runs not killed: $UNKILLED"
is "$LOST/$LEAKED/$BAD" "0/0/0" "$KILLS kills: no target lost, nothing leaked, every one settled"
stop_victim v
done_testing
