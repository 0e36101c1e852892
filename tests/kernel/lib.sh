# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared by tests/kernel/*.t (bash, sourced): TAP output, building the
# guest-side helpers, and importing a guest program's TAP lines.  Every
# test fails through its exit status; a missing plan or a bail-out is a
# failure too.

set -u
KT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMRUN=$KT_ROOT/tools/vmrun
OVUP=$KT_ROOT/build/ovup
tap_n=0
tap_failed=0

tap_ok() { # tap_ok STATUS DESCRIPTION: STATUS 0 is a pass
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

tap_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

tap_end() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ] && [ "$tap_n" -gt 0 ]
	exit $?
}

# Renumber the TAP lines of a guest program (on stdin) into ours and check
# that its own plan matched what it printed.
tap_import() {
	local line plan= count=0
	while IFS= read -r line; do
		case $line in
		"ok "*) count=$((count + 1)); tap_ok 0 "${line#* - }" ;;
		"not ok "*) count=$((count + 1)); tap_ok 1 "${line#* - }" ;;
		"Bail out!"*) tap_ok 1 "guest: $line" ;;
		1..*) plan=${line#1..} ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done
	[ -n "$plan" ] && [ "$plan" = "$count" ]
	tap_ok $? "guest printed its whole plan (plan '${plan:-none}', $count results)"
}

# Build kioctl and the victim module (quietly unless it fails).
kt_build_helpers() {
	local log
	log=$(make -C "$KT_ROOT/tests/kernel" 2>&1)
	local rc=$?
	[ $rc = 0 ] || printf '%s\n' "$log" | tail -n 20 | sed 's/^/# /'
	return $rc
}

# kt_workdir: a scratch directory in $work, removed on exit.
kt_workdir() {
	work=$(mktemp -d /tmp/ovup-kt.XXXXXX) || {
		echo "Bail out! cannot create a scratch directory in /tmp"
		exit 1
	}
	trap 'rm -rf "$work"' EXIT
}
