# SPDX-License-Identifier: MIT
# The one TAP producer of the shell tests, sourced by tests/proc/*.t (bash),
# tests/kernel/*.t (bash) and the kernel scenarios in the guest (busybox
# sh): POSIX sh only.  Every test fails through its exit status
# (done_testing).  API (docs/testing.md):
#   ok STATUS DESC        a result: STATUS 0 passes (ok $? "...")
#   pass DESC, fail DESC  a result without a status
#   is GOT WANT DESC      string equality, both shown on failure
#   like TEXT ERE DESC    TEXT matches the extended regex (grep -E)
#   unlike TEXT ERE DESC  ... does not match it
#   diag LINE...          diagnostic lines ("# LINE")
#   tap_import [PREFIX]   renumber another program's TAP (stdin) into ours
#   done_testing          the plan, and exit 0 only if all passed

tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $2"
	fi
}

pass() { ok 0 "$1"; }
fail() { ok 1 "$1"; }

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

# the text through a here-document, not a pipe: grep -q may stop reading
# early, and a writer in a pipe would then die of SIGPIPE
tap_grep() {
	grep -qE -- "$2" <<TAP_EOF
$1
TAP_EOF
}

like() {
	if tap_grep "$1" "$2"; then
		pass "$3"
	else
		fail "$3"
		echo "#   /$2/ not in:"
		printf '%s\n' "$1" | sed 's/^/#     /'
	fi
}

unlike() {
	if ! tap_grep "$1" "$2"; then
		pass "$3"
	else
		fail "$3"
		echo "#   /$2/ unexpectedly in:"
		printf '%s\n' "$1" | sed 's/^/#     /'
	fi
}

# tap_import [PREFIX] <FILE: another program's TAP lines become ours,
# renumbered, their descriptions prefixed; a bail-out is a failure, other
# text a diagnostic.  Returns 0 if its plan matched its results, and leaves
# the plan and the count in tap_import_plan and tap_import_count.  Read
# from a redirection, never a pipe: a pipe would run it in a subshell,
# whose counts are lost.
tap_import() {
	tap_import_plan=
	tap_import_count=0
	while IFS= read -r tap_line; do
		case $tap_line in
		"ok "*)
			tap_import_count=$((tap_import_count + 1))
			ok 0 "${1:-}${tap_line#* - }" ;;
		"not ok "*)
			tap_import_count=$((tap_import_count + 1))
			ok 1 "${1:-}${tap_line#* - }" ;;
		"Bail out!"*) ok 1 "${1:-}$tap_line" ;;
		1..*) tap_import_plan=${tap_line#1..} ;;
		"#"*) echo "$tap_line" ;;
		*) echo "# $tap_line" ;;
		esac
	done
	[ -n "$tap_import_plan" ] && [ "$tap_import_plan" = "$tap_import_count" ]
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ] && [ "$tap_n" -gt 0 ]
	exit $?
}
