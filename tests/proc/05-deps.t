#!/bin/bash
# Every command the host side of `make check` and `make demo` calls is
# installed by tools/deps or is on every Debian 12 (Essential: yes or
# Priority: required, what debootstrap's minbase installs): the command
# words of the scripts and of the Makefile recipes, found by parsing them
# (tests/lib/shcmds.awk), not from a list.  Each command is resolved with
# `command -v` and `dpkg -S`; a command not installed here fails.
# The guest side of the kernel tests (tests/kernel/guest.sh,
# scenarios/NAME.sh, examples/kernel-demo.sh) runs under busybox sh in the
# QEMU guest, not on Debian's packages: its commands must be busybox
# builtins or applets (vmrun links every applet), or what vmrun copies in
# (ovup, ld, strace, the helpers built from tests/kernel/NAME.c).  Not
# checked: vmrun's init (a here-document), bench/ (not run by make check or
# make demo), and the compiler and linker ovup runs (the build list).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
# root's PATH on Debian: what a bare machine finds (not a pyenv shim)
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
AWKP=$ROOT/tests/lib/shcmds.awk

# cmds FILE...: the command words, one "FILE:LINE WORD" per line
cmds() {
	local f
	for f in "$@"; do awk -f "$AWKP" "$f"; done
}
# recipes MAKEFILE [TARGET...]: its recipe lines (of the rules whose first
# target is one of TARGET...) as a shell script: $(MAKE) is make, $(CC) is
# cc, other make expansions become a variable, skipped; a tab-indented
# make assignment (in a conditional) is no recipe
recipes() {
	local mk=$1
	shift
	awk -v want=" $* " '/^[^\t#][^=]*:/ { t = $1; sub(/:.*/, "", t); on = (want == "  " || index(want, " " t " ")) }
		/^\t/ && on { l = substr($0, 2); while (l ~ /\\$/ && (getline n) > 0) {
		sub(/\\$/, "", l); sub(/^\t/, "", n); l = l " " n }
		sub(/^[@+-]+/, "", l); if (l !~ /^[A-Za-z_]+ *[:+?]?= /) print l }' "$mk" |
		sed -E 's/\$\$/\x01/g; s/\$\(MAKE\)/make/g; s/\$\(CC\)/cc/g; :a; s/\$\([^()]*\)/$M/g; ta; s/\$[@<^*]/$M/g; s/\x01/$/g'
}

# reached TARGET...: the make targets TARGET's recipe runs ($(MAKE) in this
# directory, recursively), and the tools/deps lists their recipes install,
# as "target T" and "deps LIST" lines: what make check and make demo need
# is read from the Makefile, not listed here
reached() {
	local t todo="$*" seen=" "
	while [ -n "${todo// /}" ]; do
		set -- $todo
		t=$1
		shift
		todo="$*"
		case $seen in *" $t "*) continue ;; esac
		seen="$seen$t "
		echo "target $t"
		recipes Makefile "$t" >"$WORK/reached.sh"
		grep -o 'tools/deps [a-z]*' "$WORK/reached.sh" | sed 's/^tools\/deps /deps /'
		todo="$todo $(grep '^make ' "$WORK/reached.sh" | grep -v -- ' -C ' |
			tr ' ' '\n' | grep -v -e '^-' -e '=' -e '\$' -e '^make$' | tr '\n' ' ')"
	done | sort -u
}

# the extractor itself, on cases it must get right (a test that cannot fail
# is a defect: these show that it finds words, and skips what is no command)
printf '%s\n' 'x=$(foo a "$(bar)") baz <<<"$(qux)" | quux; if ! corge; then grault; fi' \
	'case $x in a|b) garply ;; (c) waldo;; esac; arr=(not1 "$(fred)" not2)' \
	'cat <<'"'"'E'"'"' >out' 'notme' 'E' "echo 'not3 | not4' \"not5; \$(plugh)\"" \
	'[[ $a && not6 ]] && timeout 5 xyzzy -x; exec {fd}</dev/null; ((n++)) || thud' >"$WORK/sample.sh"
is "$(cmds "$WORK/sample.sh" | awk '{ print $2 }' | tr '\n' ' ')" \
	"foo bar baz qux quux corge grault garply waldo fred cat echo plugh timeout xyzzy exec thud " \
	"the extractor finds the command words of a sample, and nothing else"

# the packages tools/deps installs for a make target, and what they depend on
deps_list() {
	local build
	build=$(sed -n 's/^build="\(.*\)"$/\1/p' tools/deps)
	sed -n "s/^$1) want=\"\([^\"]*\)\".*/\1/p" tools/deps | sed "s/\\\$build/$build/"
}
# closure PKG...: the packages with every Depends and Pre-Depends (the
# first of alternatives, a virtual one through what provides it here)
closure() {
	dpkg-query -W -f='${db:Status-Status} ${Package}\t${Provides}\t${Pre-Depends}, ${Depends}\n' |
		awk -F '\t' -v want="$*" '
		$1 ~ /^installed / { p = substr($1, 11); deps[p] = $3; real[p] = 1
			n = split($2, pv, /, */); for (i = 1; i <= n; i++) { v = pv[i]; sub(/ .*/, "", v); if (v != "" && !(v in prov)) prov[v] = p } }
		END {
			n = split(want, q, " ")
			for (i = 1; i <= n; i++) seen[q[i]] = 1
			while (n > 0) {
				p = q[n--]; print p
				m = split(deps[p], d, /, */)
				for (j = 1; j <= m; j++) {
					x = d[j]; sub(/ *\|.*/, "", x); sub(/ .*/, "", x); sub(/:.*/, "", x)
					if (x == "") continue
					if (!(x in real) && (x in prov)) x = prov[x]
					if (x in real && !(x in seen)) { seen[x] = 1; q[++n] = x }
				}
			}
		}'
}
# owners PATH...: "PATH PACKAGE" for each path a package ships, from one
# dpkg -S (it reads every file list: once, not per command)
owners() {
	dpkg -S "$@" 2>/dev/null | grep -v '^diversion' |
		sed -E 's/^([^:,]+)(:[a-z0-9]+)?(, [^:]*)?: (.*)$/\4 \1/'
}
declare -A OWNER
# pkg_of PATH: the package that ships PATH (merged /usr: /bin/X is also
# /usr/bin/X; an alternative or symlink: its target)
pkg_of() {
	local p
	for p in "$1" "/usr${1#/usr}" "${1#/usr}" "$(readlink -f "$1")"; do
		[ -n "${OWNER[$p]:-}" ] && { echo "${OWNER[$p]}"; return 0; }
	done
	return 1
}
builtins=" $(compgen -b -k | tr '\n' ' ') "

# check TARGET LISTS FILE...: each command of FILE... in a package of
# tools/deps LISTS (or their dependencies) or Essential/required
check() {
	local target=$1 lists=$2 pkgs funcs w path pkg why f
	shift 2
	local nfiles=$#
	pkgs=" $(closure $(for l in $lists; do deps_list "$l"; done) | tr '\n' ' ') "
	# functions the scripts define are no commands
	funcs=" $(grep -hoE '^[[:space:]]*(function[[:space:]]+)?[A-Za-z_][A-Za-z0-9_-]*[[:space:]]*\(\)' "$@" 2>/dev/null |
		sed -E 's/^[[:space:]]*(function[[:space:]]+)?//; s/[[:space:]]*\(\)//' | sort -u | tr '\n' ' ') "
	local n=0 found=() p
	cmds "$@" >"$WORK/cmds"
	for w in $(awk '{ print $2 }' "$WORK/cmds" | sort -u); do
		case $w in
		*'$'* | -* | *=* | [0-9]*) continue ;; # a variable, an option, data
		/*) path=$w ;;
		*/*) continue ;; # the project's own scripts and binaries
		*)
			case "$builtins$funcs" in *" $w "*) continue ;; esac
			path=$(command -v "$w") || { fail "$target: '$w' is not installed (called in $(grep -m1 " $w\$" "$WORK/cmds" | cut -d' ' -f1))"; continue; }
			;;
		esac
		found+=("$w $path")
	done
	local paths=()
	for p in "${found[@]}"; do
		path=${p#* }
		paths+=("$path" "/usr${path#/usr}" "${path#/usr}" "$(readlink -f "$path")")
	done
	while read -r f pkg; do OWNER[$f]=$pkg; done < <(owners "${paths[@]}")
	for p in "${found[@]}"; do
		w=${p%% *} path=${p#* }
		n=$((n + 1))
		if ! pkg=$(pkg_of "$path"); then
			fail "$target: $w ($path) belongs to no package"
			continue
		fi
		why=
		case $pkgs in *" $pkg "*) why="tools/deps $lists" ;; esac
		[ -n "$why" ] || case $(dpkg-query -W -f='${Essential} ${Priority}' "$pkg" 2>/dev/null) in
		yes*) why="Essential" ;;
		*required) why="Priority: required" ;;
		esac
		if [ -n "$why" ]; then
			pass "$target: $w is in $pkg ($why)"
		else
			fail "$target: $w is in $pkg, which neither tools/deps $lists installs nor is Essential or required"
		fi
	done
	[ "$n" -gt 10 ]
	ok $? "$target: $n commands found in $nfiles files"
}

recipes Makefile >"$WORK/Makefile.sh"
recipes Makefile $(reached demo | sed -n 's/^target //p') '$(BUILD)/ovup' '$(BUILD)/%.o' >"$WORK/demo.sh"
recipes examples/Makefile >"$WORK/examples.sh"
recipes tests/victims/Makefile >"$WORK/victims.sh"
recipes tests/kernel/Makefile >"$WORK/kernel.sh"
recipes kmod/Makefile >"$WORK/kmod.sh"

lists=$(reached check | sed -n 's/^deps //p' | tr '\n' ' ')
like "$lists" "check .*kernel" "make check runs tools/deps $lists"
check "make check" "$lists" \
	tests/proc/*.t tests/proc/lib.sh tests/lib/tap.sh tests/kernel/*.t tests/kernel/lib.sh \
	tests/kernel/run tests/kernel/scenarios/*.host.sh tools/vmrun tools/deps tools/include-graph \
	tools/completion/ovup.bash "$WORK"/{Makefile,victims,kernel,kmod}.sh
lists=$(reached demo | sed -n 's/^deps //p' | tr '\n' ' ')
like "$lists" "demo .*kernel" "make demo runs tools/deps $lists"
check "make demo" "$lists" examples/demo.sh tools/vmrun tools/deps "$WORK"/{demo,examples,kmod}.sh

# guest FILE...: each command of FILE... exists in the guest
guest() {
	local funcs applets w n=0 why
	funcs=" $(grep -hoE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(\)' tests/lib/tap.sh "$@" |
		sed -E 's/^[[:space:]]*//; s/[[:space:]]*\(\)//' | sort -u | tr '\n' ' ') "
	applets=" $(busybox --list | tr '\n' ' ') "
	for w in $(cmds "$@" | awk '{ print $2 }' | sort -u); do
		case $w in *'$'* | */* | -* | *=* | [0-9]*) continue ;; esac
		case $funcs in *" $w "*) continue ;; esac
		n=$((n + 1))
		why=
		case $(busybox sh -c "type $w" 2>&1) in
		*builtin* | *keyword*) why="busybox sh builtin" ;;
		esac
		[ -n "$why" ] || case $applets in *" $w "*) why="busybox applet" ;; esac
		[ -n "$why" ] || case $w in ovup | ld | strace) why="copied in by tools/vmrun" ;; esac
		[ -n "$why" ] || [ ! -f "tests/kernel/$w.c" ] || why="helper built from tests/kernel/$w.c"
		if [ -n "$why" ]; then
			pass "guest: $w ($why)"
		else
			fail "guest: $w is no busybox builtin or applet, nor copied into the guest (called in $(cmds "$@" | grep -m1 " $w\$" | cut -d' ' -f1))"
		fi
	done
	[ "$n" -gt 10 ]
	ok $? "guest: $n commands found in $# files"
}
guest tests/kernel/guest.sh $(ls tests/kernel/scenarios/*.sh | grep -v '\.host\.sh$') examples/kernel-demo.sh

done_testing
