# SPDX-License-Identifier: MIT
# The guest half of the kernel tests: the shared library of the scenarios
# in tests/kernel/scenarios/ and their runner.  tools/vmrun packs it, with
# tests/lib/tap.sh, into /usr/share/ovup-tests/ of the guest (busybox sh:
# POSIX only); tests/kernel/run copies the scenarios and the patch objects
# built on the host to /tmp and calls
#   sh /usr/share/ovup-tests/guest.sh NAME...
# which sources each /tmp/NAME.sh in order, in this one shell, and ends
# with one check of the kernel log.  Prints TAP; exits non-zero on failure.
. /usr/share/ovup-tests/tap.sh

# run ARGS...: ovup, with OUT, ERR and RC set
run() { ovup "$@" >/tmp/out 2>/tmp/err; RC=$?; OUT=$(cat /tmp/out); ERR=$(cat /tmp/err); }
# addr FUNCTION OBJECT: the address of a kernel function, 0x...
addr() { ovup symbols -k "$1" | awk -v o="$2" '$NF == o || $(NF) ~ "^"o {print "0x"$1; exit}'; }
# text ADDR: the first 32 bytes of kernel code at ADDR, through /dev/ovup
text() { kpeek "$1" 32 | cut -d' ' -f2; }
loaded() { grep -q "^$1 " /proc/modules; }
refcnt() { cat "/sys/module/$1/refcnt" 2>/dev/null; }
# the kernel log since the mark: what a step printed
mark() { dmesg | wc -l >/tmp/mark; }
since() { dmesg | tail -n +$(($(cat /tmp/mark) + 1)); }
# kio GROUP...: kioctl's TAP imported into ours, and its exit status
kio() {
	kioctl "$@" >/tmp/kio 2>&1
	krc=$?
	tap_import "kioctl $1: " </tmp/kio
	is "$krc" 0 "kioctl $* exits 0"
}
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
# wait up to $1 seconds until `ovup list -k` shows no retired block
wait_freed() {
	i=0
	while [ $i -lt $(($1 * 5)) ]; do
		ovup list -k 2>/dev/null | grep -q '^retired' || return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# The kernel as it booted: what scenarios compare against.  A scenario
# leaves the kernel this way (its patches reverted, ovup.ko loaded) and
# sets up at its start whatever else it needs (e.g. ovup_target loaded or
# not), so that each also runs alone.
KO=/lib/ovup/ovup_target.ko
CMDLINE=$(cat /proc/cmdline)
VERSION=$(cat /proc/version)
FCMD=$(addr cmdline_proc_show vmlinux)
FVER=$(addr version_proc_show vmlinux)
T0=$(text "$FCMD")
V0=$(text "$FVER")

# What the kernel log must not hold at the end (an extended regex); a
# scenario may add to it with klog_add ERE.  The lines echoing the kernel's
# command line ("Command line:", "Kernel command line:") are no error,
# whatever they say (vmrun boots with panic=-1).
klog_bad='BUG|Oops|WARNING|general protection|Kernel panic|RIP:'
klog_add() {
	case "|$klog_bad|" in *"|$1|"*) ;; *) klog_bad="$klog_bad|$1" ;; esac
}

# stuck SCENARIO SECONDS: a scenario still running after twice its budget
# and a minute is stuck.  Say where each task waits (its state, kernel stack, and the
# kernel's own list of blocked tasks), then end every process, so that the
# guest stops now, with the reason in its output, not at the VM's timeout.
stuck() {
	n=$(dmesg | wc -l)
	sleep "$2"
	echo "Bail out! scenario $1 still runs after $2 s (twice its budget, and a minute); its tasks:"
	for d in /proc/[0-9]*; do
		st=$(cut -d')' -f2 "$d/stat" 2>/dev/null | cut -d' ' -f2)
		cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null | cut -c1-100)
		[ -n "$cmd" ] || continue
		echo "#   ${d#/proc/} $st $cmd"
		case "$st $cmd" in
		D*|*ovup*|*timeout*|*kpeek*|*kioctl*) sed 's/^/#     /' "$d/stack" 2>/dev/null ;;
		esac
	done
	echo w >/proc/sysrq-trigger 2>/dev/null
	dmesg | tail -n +$((n + 1)) | tail -n 200 | sed 's/^/#   dmesg: /'
	kill -9 -1
}

# each scenario's start says the guest's uptime: where a guest that ran out
# of time spent it
for name; do
	echo "# scenario $name (at $(cut -d' ' -f1 /proc/uptime) s)"
	if [ -f "/tmp/$name.sh" ]; then
		budget=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "/tmp/$name.sh")
		stuck "$name" "$((${budget:-60} * 2 + 60))" &
		watchdog=$!
		. "/tmp/$name.sh"
		kill "$watchdog" 2>/dev/null
	else
		fail "scenario $name: /tmp/$name.sh is missing"
	fi
done

dmesg | grep -v -i 'command line' | grep -E "$klog_bad" >/tmp/bad
[ ! -s /tmp/bad ]; ok $? "no BUG/Oops/WARNING in the kernel log (/$klog_bad/)"
if [ -s /tmp/bad ]; then
	sed 's/^/#   /' /tmp/bad
	dmesg | grep 'ovup:' | sed 's/^/#   /'
fi
done_testing
