# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared by tests/kernel/*.t and tests/kernel/run (bash, sourced): building
# the guest-side helpers, importing a guest program's TAP, and running
# kernel scenarios (tests/kernel/scenarios/NAME.sh) in one guest.  TAP
# output is tests/lib/tap.sh's.  Every test fails through its exit status;
# a missing plan or a bail-out is a failure too.

set -u
KT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KT_SCENARIOS=$KT_ROOT/tests/kernel/scenarios
VMRUN=$KT_ROOT/tools/vmrun
OVUP=$KT_ROOT/build/ovup
KT_VM=()
# ovup on the host (build -k) reads no process's symbols, but no test may
# ever ask a debuginfod server (Debian's login shells set this)
unset DEBUGINFOD_URLS
. "$KT_ROOT/tests/lib/tap.sh"

# kt_import <FILE: a guest program's TAP lines, renumbered into ours, and
# one more result: its own plan matched what it printed.
kt_import() {
	tap_import
	ok $? "guest printed its whole plan (plan '${tap_import_plan:-none}', $tap_import_count results)"
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

# kt_header FILE KEY: the value of a scenario's "# KEY: value" header line
kt_header() {
	sed -n "1,/^\$/s/^# $2: //p" "$1" | head -n 1
}

# kt_file PATH: a file for /tmp in the guest (for NAME.host.sh)
kt_file() {
	kt_files+=(--file "$1")
}

# kt_scenarios NAME...: the scenarios tests/kernel/scenarios/NAME.sh, in
# one guest.  On the host: the guest helpers and every patch object their
# "# patches:" headers name are built (one result each), then each
# scenario's NAME.host.sh, if there is one, prepares more files.  Then one
# boot runs them in the order given (those with a "# last:" header after
# the others), and their TAP joins ours.  Needs kt_workdir.  KT_VM (an
# array) holds more tools/vmrun options, e.g. (--cpu max).
kt_scenarios() {
	local name f p src rc timeout=120 t built=" " first=() last=()

	kt_files=()
	for name; do
		f=$KT_SCENARIOS/$name.sh
		if [ ! -f "$f" ]; then
			echo "Bail out! no kernel scenario '$name' ($f)"
			exit 1
		fi
		if [ -n "$(kt_header "$f" last)" ]; then last+=("$name"); else first+=("$name"); fi
	done
	kt_build_helpers
	ok $? "guest helpers build"
	for name in "${first[@]}" "${last[@]}"; do
		f=$KT_SCENARIOS/$name.sh
		for p in $(kt_header "$f" patches); do
			# a bare name is tests/kernel/patches/NAME.c; else a path from the top
			case $p in */*) src=$p.c ;; *) src=tests/kernel/patches/$p.c ;; esac
			case $built in *" $p "*) continue ;; esac
			built="$built$p "
			"$OVUP" build -k "$KT_ROOT/$src" -o "$work/${p##*/}.o" >"$work/log" 2>&1
			rc=$?
			ok $rc "ovup build -k $src"
			[ $rc = 0 ] || sed 's/^/# /' "$work/log"
			kt_file "$work/${p##*/}.o"
		done
		t=$(kt_header "$f" timeout)
		timeout=$((timeout + ${t:-60}))
		kt_file "$f"
	done
	for name in "${first[@]}" "${last[@]}"; do
		f=$KT_SCENARIOS/$name.host.sh
		[ ! -f "$f" ] || . "$f"
	done
	# the budgets are this machine's times with room to spare; CI's hosts
	# ran the same guests about twice as slowly: the hang guard is double
	"$VMRUN" "${KT_VM[@]}" --timeout "$((timeout * 2))" "${kt_files[@]}" -- \
		sh /usr/share/ovup-tests/guest.sh "${first[@]}" "${last[@]}" >"$work/guest" 2>&1
	rc=$?
	kt_import <"$work/guest"
	ok $rc "the guest ran $(("${#first[@]}" + "${#last[@]}")) scenario(s) and exited 0 (status $rc)"
	# a CI log shows stderr, not TAP comments: where a failed guest was
	[ $rc = 0 ] || awk '/^# scenario /{n = 0} {l[n++] = $0} END {for (i = 0; i < n; i++) print "guest: " l[i]}' \
		"$work/guest" | tail -n 300 >&2
}

# kt_ksrc PATH...: the files PATH (relative to the tree's top, e.g.
# fs/eventfd.c) of Debian's kernel source tarball, unpacked once into
# $KT_ROOT/build/ksrc/linux-source-X.Y (the tree's path is printed).
kt_ksrc() {
	local tar tree tmp p missing=
	tar=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tar" ] || {
		echo "kt_ksrc: no /usr/src/linux-source-*.tar.xz (tools/deps kernel installs it)" >&2
		return 1
	}
	tree=$KT_ROOT/build/ksrc/$(basename "$tar" .tar.xz)
	for p; do [ -f "$tree/$p" ] || missing="$missing $p"; done
	if [ -n "$missing" ]; then
		mkdir -p "$KT_ROOT/build/ksrc" &&
			tmp=$(mktemp -d "$KT_ROOT/build/ksrc/.unpack.XXXXXX") || return 1
		# shellcheck disable=SC2086 # the paths, one word each
		tar -xJf "$tar" -C "$tmp" --wildcards $(for p in $missing; do echo "*/$p"; done) ||
			{ rm -rf "$tmp"; return 1; }
		mkdir -p "$tree"
		cp -r "$tmp/$(basename "$tree")/." "$tree/" && rm -rf "$tmp" || return 1
	fi
	echo "$tree"
}
