# SPDX-License-Identifier: MIT
# Prints "FILE:LINE WORD" for the command word of every simple command of
# a shell script (tests/proc/05-deps.t checks that a package provides
# each): the first word at the start of a line and after | || && ; & ( {
# $( ` ! and the keywords that open a command list, past assignments and
# redirections.  Skipped: here-document bodies, comments, the text of
# quotes (but not the $(...) inside double quotes), ${...}, [[ ]], (( )),
# case patterns, for/select word lists.  An approximation of the shell's
# grammar; it does not see commands hidden in data: a string run by
# `sh -c` or `eval`, `find -exec`, a command name in a variable (none of
# which the host scripts use for a system command today).
# Run with: awk -f shcmds.awk FILE (one file per run: the state of an
# unterminated construct must not leak into the next file).

function emit(w) {
	if (w != "") print FILENAME ":" lineno " " w
}
# a finished word: decide whether it is the command word
function word(w,   base) {
	if (w == "") return
	if (skipnext) { skipnext = 0; return }
	if (inarith || intest) return
	if (forlist) {
		if (w == "do") { forlist = 0; cmdpos = 1 }
		return
	}
	if (inpat) { if (w == "esac") inpat = 0; return }
	if (!cmdpos) {
		if (w == "in" && casewait) { casewait = 0; inpat = 1 }
		return
	}
	# prefixes that keep the next word in command position
	if (w ~ /^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=/) return
	if (w ~ /^([0-9]*|\{[A-Za-z_]+\})(>>?|<<<|<|&>|>&|<&)$/) { skipnext = 1; return }
	if (w ~ /^([0-9]*|\{[A-Za-z_]+\})(>>?|<<<|<|&>|>&|<&)./) return
	if (w ~ /^(then|do|else|elif|if|while|until|!|time|\{|exec|nohup|setsid|env|nice|stdbuf)$/) {
		if (w ~ /^(exec|nohup|setsid|env|nice|stdbuf)$/) emit(w)
		return
	}
	if (w == "[[") { intest = 1; return }
	if (w == "case") { casewait = 1; cmdpos = 0; return }
	if (w == "esac") { cmdpos = 0; return }
	if (w ~ /^(for|select)$/) { forlist = 1; cmdpos = 0; return }
	if (w ~ /^(fi|done|\}|\]\])$/) { cmdpos = 0; return }
	if (w == "function") { skipnext = 1; cmdpos = 0; return }
	emit(w)
	cmdpos = 0
	# a command that runs the next word as a command
	if (w ~ /^(timeout|xargs)$/) wrapper = w
}
function flush() {
	if (cur != "" || quoted) {
		if (wrapper != "" && cur !~ /^-/ && cur != wrapper) {
			# timeout DURATION COMMAND, xargs COMMAND
			if (wrapper == "timeout" && cur ~ /^[0-9.]+[smhd]?$/) { cur = ""; quoted = 0; return }
			wrapper = ""
			cmdpos = 1
		}
		word(cur)
	}
	cur = ""
	quoted = 0
}
function sep() { flush(); cmdpos = 1; wrapper = "" }

# $( and ( nest: the word and command position around them come back
# after their )
function push(kind) {
	stk_cur[depth] = cur; stk_pos[depth] = cmdpos; stk_st[depth] = st
	stk_q[depth] = quoted; stk_kind[depth] = kind; stk_w[depth] = wrapper
	stk_arr[depth] = inarr; inarr = 0
	depth++
}
function open_sub() { push("sub"); st = ""; cur = ""; quoted = 0; cmdpos = 1; wrapper = "" }
function close_sub() {
	flush()
	if (depth == 0) { cmdpos = 0; return }
	depth--
	if (stk_kind[depth] == "par") { cmdpos = 0; st = ""; return }
	cur = stk_cur[depth] "$()"; cmdpos = stk_pos[depth]; st = stk_st[depth]
	quoted = stk_q[depth]; wrapper = stk_w[depth]; inarr = stk_arr[depth]
	if (st == "bq_dq") st = "dq"
}

BEGIN { cmdpos = 1; depth = 0; arith = 0; bdepth = 0 }
{
	lineno = FNR
	line = $0
	if (heredoc != "") {
		l = line
		if (hdtabs) sub(/^\t+/, "", l)
		if (l == heredoc) heredoc = ""
		next
	}
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		c2 = substr(line, i, 2)
		if (st == "sq") { if (c == "'") st = ""; else cur = cur c; continue }
		if (st == "dq") {
			if (c == "\\") { cur = cur substr(line, i + 1, 1); i++; continue }
			if (c == "\"") { st = ""; continue }
			if (c2 == "$(" && substr(line, i, 3) != "$((") { i++; open_sub(); continue }
			if (c == "`") { st = "bq_dq"; push("bq"); cur = ""; cmdpos = 1 }
			else cur = cur c
			continue
		}
		if (st == "brace") {
			if (c == "{") bdepth++
			else if (c == "}" && --bdepth == 0) st = ""
			continue
		}
		# normal text
		if (c == "\\") { cur = cur substr(line, i, 2); i++; continue }
		if (c == "'") { st = "sq"; quoted = 1; continue }
		if (c == "\"") { st = "dq"; quoted = 1; continue }
		if (c2 == "${") { st = "brace"; bdepth = 1; i++; cur = cur "${}"; continue }
		if (c == "#" && cur == "") break
		if (c2 == "$(" && substr(line, i, 3) == "$((") { arith++; inarith = 1; i += 2; cur = cur "$(())"; continue }
		if (c2 == "((" && cur == "" && cmdpos) { arith++; inarith = 1; i++; continue }
		if (inarith && c2 == "))") { if (--arith == 0) inarith = 0; i++; continue }
		if (inarith) { if (c == "(") arith++; continue }
		if (c2 == "$(") { i++; open_sub(); continue }
		if (c == "`") {
			if (st == "bq_dq") { close_sub(); continue }
			if (intick) { close_sub(); intick = 0; continue }
			push("bq"); cur = ""; cmdpos = 1; intick = 1; continue
		}
		if (substr(line, i, 3) == "<<<") { flush(); cur = "<<<"; i += 2; continue }
		if (c2 == "<<") {
			flush()
			rest = substr(line, i + 2)
			hdtabs = (rest ~ /^-/)
			sub(/^-/, "", rest)
			sub(/^[ \t]*/, "", rest)
			d = rest
			sub(/[ \t;|&)<>].*$/, "", d)
			i += 1 + (length(substr(line, i + 2)) - length(rest)) + length(d)
			gsub(/["'\\]/, "", d)
			pending = d
			continue
		}
		if (inarr) { if (c == ")") { inarr = 0; cur = ""; quoted = 0 }; continue }
		if (c == " " || c == "\t") { flush(); continue }
		if (intest) {
			if (c2 == "]]") { flush(); intest = 0; i++; continue }
			continue
		}
		if (inpat) {
			if (c == ")") { inpat = 0; cur = ""; quoted = 0; cmdpos = 1 }
			else if (c == " " || c == "\t" || c == ";") { flush(); if (!inpat) cmdpos = 1 }
			else cur = cur c
			continue
		}
		if (c2 == ";;" || c2 == ";&") {
			flush(); i++; if (substr(line, i + 1, 1) == "&") i++
			inpat = 1; continue
		}
		if (c2 == "&&" || c2 == "||") { sep(); i++; continue }
		if (c == "!" && !(cur == "" && cmdpos)) { cur = cur c; continue }
		if (c == ";" || c == "|" || c == "&" || c == "!") {
			if (c == "&" && (cur ~ /[<>]$/ || substr(line, i + 1, 1) == ">")) { cur = cur c; continue }
			if (c == "|" && cur ~ /[<>]$/) { cur = cur c; continue }
			sep(); continue
		}
		if (c == "(") {
			# NAME() defines a function: not a command
			if (substr(line, i, 2) == "()" && cur !~ /=$/) { cur = ""; i++; cmdpos = 1; continue }
			if (cur ~ /[<>]$/) { cur = cur c; continue }
			# NAME=( words ): an array, no command
			if (cur ~ /=$/) { inarr = 1; cur = cur "("; continue }
			sep(); push("par"); continue
		}
		if (c == ")") {
			close_sub()
			continue
		}
		if ((c == "<" || c == ">") && cur != "" && cur !~ /^([0-9]*|\{[A-Za-z_]+\})[<>&]*$/) flush()
		cur = cur c
	}
	# a quote or ${ open at the end of the line goes on on the next
	if (st != "") next
	# a backslash at the end continues the command
	if (cur ~ /\\$/) { cur = substr(cur, 1, length(cur) - 1); flush(); next }
	flush()
	if (!intest && !forlist) { cmdpos = 1; wrapper = "" }
	if (forlist) { forlist = 0; cmdpos = 1 }
	if (casewait == 0 && inpat == 0 && line ~ /\|[ \t]*$/) cmdpos = 1
	if (pending != "") { heredoc = pending; pending = "" }
}
