# SPDX-License-Identifier: MIT
# bash completion for ovup: verbs and each verb's options as `ovup --help`
# and `ovup VERB --help` print them (asked once per ovup binary, then
# cached), running pids after -p, the applied patches of that target after
# `revert` and `forget` (from `ovup list --json`), and patch files for apply, build and
# info.
# Standalone: COMP_WORDS and compgen only, no bash-completion helpers.
# Completing a patch name runs `ovup list -p PID --json` (or -k), which,
# like any `list -p`, takes the process's lock for a moment and settles
# what a killed ovup left (docs/cli.md); it gives up after 10 s.
# Install: source it, or copy it to /usr/share/bash-completion/completions/ovup.

declare -gA _ovup_cache

# _ovup_help OVUP [VERB]: the help text, once per binary and verb
_ovup_help() {
	local key="$1|${2:-}"
	if [[ -z ${_ovup_cache[$key]+set} ]]; then
		_ovup_cache[$key]=$("$1" ${2:+"$2"} --help 2>/dev/null)
	fi
	printf '%s\n' "${_ovup_cache[$key]}"
}

# the verbs: the first word of each line of the "verbs:" section
_ovup_verbs() {
	_ovup_help "$1" | sed -n '/^verbs:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p'
}

# the options of VERB (its "options:" section, up to the first blank line)
# and the common ones of `ovup --help`, as words: "-p, --pid PID" is -p --pid
_ovup_opts() {
	{
		_ovup_help "$1" "$2" | sed -n '/^options:/,/^$/p'
		_ovup_help "$1" | sed -n '/^common options:/,/^$/p'
	} | sed -n 's/^  *\(-[^ ].*\)/\1/p' | while read -r a b _; do
		# "-p, --pid PID" or "--json ..." (a description after the option)
		case $a in
		--) ;;
		-?,) printf '%s\n' "${a%,}" "$b" ;;
		-*) printf '%s\n' "$a" ;;
		esac
	done
}

# the names of the patches applied to the target given by the words
# (-p PID or -k), newest last, as `list --json` prints them: each patch
# object opens with "name" then "seq" (its functions' "name"s do not)
_ovup_patches() {
	local ovup=$1 i w target=()
	shift
	for ((i = 0; i < $#; i++)); do
		w=${@:i+1:1}
		case $w in
		-p | --pid) target=(-p "${@:i+2:1}") ;;
		--pid=*) target=(-p "${w#--pid=}") ;;
		-k | --kernel) target=(-k) ;;
		--) break ;;
		--*) ;;
		-*p) target=(-p "${@:i+2:1}") ;;
		-*k*) target=(-k) ;;
		esac
	done
	[[ ${#target[@]} -gt 0 ]] || return 0
	timeout 10 "$ovup" list "${target[@]}" --json 2>/dev/null |
		grep -o '"name":"[^"\\]*","seq"' | sed 's/^"name":"//; s/","seq"$//'
}

_ovup_pids() {
	local p
	for p in /proc/[0-9]*; do printf '%s\n' "${p#/proc/}"; done
}

# COMPREPLY from WORDS (one per line) matching the current word
_ovup_reply() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_ovup_files() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -X "!$1" -- "$2"; compgen -d -- "$2")
}

_ovup() {
	local ovup=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev= verb= i
	[[ $ovup == "~/"* ]] && ovup=$HOME/${ovup#"~/"}
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	if ((COMP_CWORD == 1)); then
		if [[ $cur == -* ]]; then
			_ovup_reply "-h --help -V --version" "$cur"
		else
			_ovup_reply "$(_ovup_verbs "$ovup")" "$cur"
		fi
		return 0
	fi
	verb=${COMP_WORDS[1]}
	# after "--" come compiler flags
	for ((i = 2; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -- ]] && return 0
	done
	# bash splits "--pid=42" at "=" (COMP_WORDBREAKS)
	if [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	case $prev in
	# -p PID, also at the end of combined short options (-np PID)
	-p | --pid | -[a-zA-Z]*p)
		_ovup_reply "$(_ovup_pids)" "$cur"
		return 0
		;;
	-o | --output | -[a-zA-Z]*o)
		_ovup_files '*.o' "$cur"
		return 0
		;;
	--diff)
		_ovup_files '*' "$cur"
		return 0
		;;
	--source)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0
		;;
	--name | --retries)
		return 0
		;;
	esac
	if [[ $cur == -* ]]; then
		_ovup_reply "$(_ovup_opts "$ovup" "$verb")" "$cur"
		return 0
	fi
	case $verb in
	apply) _ovup_files '*.[co]' "$cur" ;;
	build) _ovup_files '*.c' "$cur" ;;
	info) _ovup_files '*.o' "$cur" ;;
	revert | forget) _ovup_reply "$(_ovup_patches "$ovup" "${COMP_WORDS[@]:2:COMP_CWORD-2}")" "$cur" ;;
	help) _ovup_reply "$(_ovup_verbs "$ovup")" "$cur" ;;
	esac
	return 0
}

complete -F _ovup ovup
