#!/bin/bash
# Killing ovup at any instant never harms the target.  Every ptrace,
# pwrite64 and wait4 call of an apply and of a revert is a kill point
# (strace -e inject=SYSCALL:signal=SIGKILL:when=N), then random moments.
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

# old, new, mixed (one function switched, one not) or broken
fstate() {
	local c s
	c=$(ask v call compute 5)
	s=$(ask v call secret 5)
	case "$c/$s" in
	11/1006) echo old ;;
	15/2005) echo new ;;
	11/2005 | 15/1006) echo mixed ;;
	*) echo "broken($c/$s)" ;;
	esac
}
leftovers() {
	echo "$(grep -c memfd:ovup /proc/$P/maps) maps, $(ls -l /proc/$P/fd 2>/dev/null | grep -c memfd:ovup) fds"
}

KILLS=0 LOST=0 LEAKED=0 BAD=0
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
	if [ "$(leftovers)" != "0 maps, 0 fds" ]; then
		LEAKED=$((LEAKED + 1))
		why="$why left $(leftovers);"
	fi
	set -- $(ask v regs)
	[ "${2:-x}" = 0 ] || why="$why registers changed in $2 rounds;"
	if [ -z "$why" ]; then
		pass "$what: alive, $st, settled to $after, nothing left"
	else
		BAD=$((BAD + 1))
		fail "$what:$why"
	fi
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
# exits, so the target is whole at once, with no run needed to settle it
for sig in INT TERM HUP; do
	bad=0 seen=""
	for i in $(seq 1 12); do
		for op in apply revert; do
			[ "$op" = revert ] && run_ovup apply -p "$P" "$WORK/two.o"
			"$OVUP" "$op" -p "$P" $([ "$op" = apply ] && echo "$WORK/two.o") \
				>/dev/null 2>"$WORK/sigerr" &
			k=$!
			sleep "0.0$((RANDOM % 100))"
			kill -"$sig" "$k" 2>/dev/null
			{ wait "$k"; rc=$?; } 2>/dev/null
			st=$(fstate)
			# 0: finished; 1: rolled back; 129/130/143: the signal
			# came before ovup could catch it, and found nothing begun
			case "$rc/$st" in
			0/old | 0/new | 1/old | 1/new | 129/old | 129/new | 130/old | 130/new | \
				143/old | 143/new) ;;
			*) bad=$((bad + 1)); echo "# $op SIG$sig: exit $rc, $st: $(cat "$WORK/sigerr")" ;;
			esac
			# a block a thread's stale register pointed into is kept
			# (and recorded) until a later run finds it unused
			[ "$st" = old ] && [ "$(leftovers)" != "0 maps, 0 fds" ] &&
				run_ovup list -p "$P"
			if [ "$st" = old ] && [ "$(leftovers)" != "0 maps, 0 fds" ]; then
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

# the scratch directory of a run that died: gone after the next run
OVUP_FAULT=crash-before-branch run_ovup apply -p "$P" "$WORK/two.o"
is "$(ls -d "$TMPDIR"/ovup.* 2>/dev/null | wc -l)" 1 "an ovup that died left its scratch directory"
run_ovup apply -p "$P" "$WORK/two.o"
run_ovup revert -p "$P"
is "$(ls -d "$TMPDIR"/ovup.* 2>/dev/null | wc -l)" 0 "the next run removed it"

echo "# kill points: $KILLS, targets lost: $LOST, leaked: $LEAKED, other failures: $BAD"
is "$LOST/$LEAKED/$BAD" "0/0/0" "$KILLS kills: no target lost, nothing leaked, every one settled"
stop_victim v
done_testing
