# SPDX-License-Identifier: MIT
# Shared by tests/proc/*.t: victims driven over pipes, ovup runs captured
# (stdout, stderr, exit code), and memory snapshots.  TAP output is
# tests/lib/tap.sh's (ok, pass, fail, is, like, unlike, diag, done_testing).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/tap.sh"
OVUP=$ROOT/build/ovup
V=$ROOT/build/tests/victims
H=$ROOT/build/tests/helpers
WORK=$(mktemp -d /tmp/ovup-test.XXXXXX) || {
	echo "Bail out! cannot create a scratch directory in /tmp"
	exit 1
}
# no test talks to a network: Debian's libdebuginfod-common sets this in
# login shells (debuginfod.debian.net, unreachable in CI); the debuginfod
# test sets it for its own server only
unset DEBUGINFOD_URLS
VPIDS=""
VSTARTS=""

# the start time of a process, to tell it from a later one with its pid
started() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
# kill_victim PID: only if it is still the process the test started
# (pids are reused quickly where pid_max is 32768)
kill_victim() {
	local p=$1 t
	for t in $VSTARTS; do
		[ "${t%:*}" = "$p" ] && [ "${t#*:}" = "$(started "$p")" ] && kill -9 "$p" 2>/dev/null
	done
}
# track PID: a process the test started, killed when it ends
track() {
	VPIDS="$VPIDS $1"
	VSTARTS="$VSTARTS $1:$(started "$1")"
}
cleanup() {
	local p
	# only the test itself: bash runs this trap in a background job
	# killed before it could exec its command, too
	[ "$BASHPID" = "$$" ] || return 0
	for p in $VPIDS; do kill_victim "$p"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
# a victim that died must fail the test, not kill the script with SIGPIPE
trap '' PIPE

# same_mem BEFORE AFTER DESCRIPTION: two memsnap outputs, shown as a diff
same_mem() {
	if [ "$1" = "$2" ]; then pass "$3"; else
		fail "$3"
		diff <(echo "$1") <(echo "$2") | sed 's/^/#   /'
	fi
}
# start_victim NAME BINARY [ARGS...]: a victim reading commands from a
# FIFO; sets VPID and NAME_PID.
start_victim() {
	local name=$1
	shift
	mkfifo "$WORK/$name.in" "$WORK/$name.out"
	# started from a subshell so that its death is no job-control news.
	# rseq off: the kernel rewrites a thread's rseq cpu_id whenever it
	# returns to user space on another CPU, which would make memory
	# snapshots differ for reasons that are not ovup's
	(GLIBC_TUNABLES=glibc.pthread.rseq=0 "$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &)
	eval "exec {${name}_w}>\"\$WORK/\$name.in\""
	eval "exec {${name}_r}<\"\$WORK/\$name.out\""
	local line
	eval "read -r -t 10 line <&\$${name}_r"
	VPID=${line#ready }
	track "$VPID"
	eval "${name}_PID=\$VPID"
}
# ask NAME COMMAND...: one command, one line of answer
ask() {
	local name=$1 line
	shift
	eval "echo \"\$*\" >&\$${name}_w"
	eval "read -r -t 10 line <&\$${name}_r" || line="(no answer)"
	echo "$line"
}
stop_victim() {
	local name=$1 pid
	eval "pid=\$${name}_PID"
	eval "echo quit >&\$${name}_w" 2>/dev/null
	eval "exec {${name}_w}>&-; exec {${name}_r}<&-"
	rm -f "$WORK/$name.in" "$WORK/$name.out"
	local i
	for i in $(seq 100); do [ -e "/proc/$pid/stat" ] || break; sleep 0.02; done
	kill_victim "$pid"
}

# run_ovup ARGS...: sets OUT, ERR, RC
run_ovup() {
	# the braces take bash's own "Aborted" report for the crash tests
	{ "$OVUP" "$@" >"$WORK/out" 2>"$WORK/err"; RC=$?; } 2>/dev/null
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}

# snap PID: a memory snapshot of a victim idle in read(2) on its command
# pipe (after answering, it still updates stdio state before it blocks;
# up to 10 s, as make check's load can keep it off a CPU that long)
snap() {
	local i
	for i in $(seq 1000); do
		case "$(cat /proc/$1/syscall 2>/dev/null)" in "0 "*) break ;; esac
		sleep 0.01
	done
	"$H/memsnap" "$1"
}

# fstate: what victim v's compute(5) and secret(5) say after a patch of
# both (compute x*3, secret x+2000): old, new, mixed (one function
# switched, one not) or broken
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

# flood_start PID: numbered SIGRTMIN+1 signals to PID's main thread, in
# batches of N (default 1000), until flood_stop, which sets SENT to how
# many (not in $(...): the flood is this shell's job)
flood_start() {
	(
		local sent=0 k
		while [ ! -e "$WORK/flood.stop" ]; do
			k=$("$H/sigflood" "$1" "$1" $((sent + 1)) "${2:-1000}") || break
			sent=$((sent + k))
		done
		echo "$sent" >"$WORK/flood.sent"
	) &
	FLOOD=$!
}
flood_stop() {
	touch "$WORK/flood.stop"
	wait "$FLOOD"
	rm -f "$WORK/flood.stop"
	SENT=$(cat "$WORK/flood.sent")
}

# patch NAME <<EOF ... : writes $WORK/NAME.c
patch() { cat >"$WORK/$1.c"; }

# debsrc PKG VERSION DEST: Debian's source package PKG=VERSION unpacked
# into DEST (once: DEST stays as a cache), through apt-get source with a
# private deb-src list (this machine's lists have none): the release and
# its updates first, then with the security archive too (a version only
# it has); fails with the log on stdout as TAP comments
debsrc() {
	local pkg=$1 ver=$2 dest=$3 tmp u
	[ -d "$dest" ] && return 0
	tmp=$(mktemp -d "$(dirname "$dest")/.get.XXXXXX") || return 1
	: >"$tmp/log"
	for u in "debian bookworm bookworm-updates" "debian-security bookworm-security"; do
		set -- $u
		rm -rf "$tmp/lists" "$tmp/cache" "$tmp/src"
		mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
		printf 'Types: deb-src\nURIs: http://deb.debian.org/%s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
			"$1" "${*:2}" >"$tmp/parts/$1.sources"
		local apt=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/parts"
			-o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache")
		if apt-get "${apt[@]}" -qq update >>"$tmp/log" 2>&1 &&
			(cd "$tmp/src" && apt-get "${apt[@]}" -qq source "$pkg=$ver") >>"$tmp/log" 2>&1 &&
			mv "$tmp/src/$pkg"-*/ "$dest"; then
			rm -rf "$tmp"
			return 0
		fi
	done
	sed 's/^/# /' "$tmp/log"
	rm -rf "$tmp"
	return 1
}

# other_build SRC DST: a copy of program SRC whose build-id differs (its
# bytes flipped) and whose code does not: another build of the same
# program, as an upgrade that changed nothing else would leave
other_build() {
	python3 - "$1" "$2" "$(readelf -n "$1" | awk '/Build ID/ {print $3}')" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
old = bytes.fromhex(sys.argv[3])
i = data.find(old)
data[i:i + len(old)] = bytes(b ^ 0x5a for b in old)
open(sys.argv[2], 'wb').write(data)
PY
	chmod +x "$2"
}
