# SPDX-License-Identifier: MIT
# Host half of the diff scenario: the upstream eventfd fix
# (tests/kernel/diffs/eventfd-write-count.patch) built with build -k --diff
# over fs/eventfd.c of Debian's linux-source tarball, the changes it
# cannot express refused; the object goes to the guest.
ksrc=$(kt_ksrc fs/eventfd.c fs/Makefile include/linux/eventfd.h)
ok $? "fs/eventfd.c from Debian's kernel source tarball (${ksrc:-none})"
fix=$KT_ROOT/tests/kernel/diffs/eventfd-write-count.patch
"$OVUP" build -k --diff "$fix" --source "$ksrc" -o "$work/eventfd.o" >"$work/out" 2>"$work/err"
rc=$?
ok $rc "build -k --diff of the upstream eventfd fix over fs/eventfd.c"
[ $rc = 0 ] || sed 's/^/# /' "$work/err"
like "$(cat "$work/err")" "^ovup: fs/eventfd\\.c: changed: eventfd_write$" "... finds the one changed function, eventfd_write"
is "$(grep -c 'ovup: fs/eventfd.c: \(new\|unchanged but affected\|unchanged, but\)' "$work/err")" 0 \
	"... and nothing new, affected or carried"
like "$(nm "$work/eventfd.o" | awk '$2 == "T" {print $3}' | tr '\n' ' ')" "^eventfd_write $" \
	"the object defines eventfd_write only (the unit's other functions stay the kernel's)"
like "$(readelf -p .ovup.meta "$work/eventfd.o")" "near eventfd_write [a-z_]+ [0-9]+" \
	"... and says where the static eventfd_write is: near a global of fs/eventfd.c (kallsyms names no files)"
like "$("$OVUP" info "$work/eventfd.o")" "^  eventfd_write \([0-9]+ bytes, near [a-z_]+ [0-9]+\)$" \
	"ovup info shows that selector"
ok $(readelf -SW "$work/eventfd.o" | grep -q ' \.orc_unwind '; echo $?) \
	"... built through kbuild and objtool (it has ORC)"
ok $(readelf -p .ovup.meta "$work/eventfd.o" 2>/dev/null | grep -q ksymtab ||
	readelf -SW "$work/eventfd.o" | grep -qE '__ksymtab|\.initcall|\.modinfo'; [ $? != 0 ]; echo $?) \
	"... without the unit's exports, initcalls or module information"
"$OVUP" build -k --diff "$fix" --source "$ksrc" --json -o "$work/eventfd2.o" >"$work/json" 2>/dev/null
like "$(cat "$work/json")" '"diff":\{"file":"fs/eventfd.c".*"changed":\["eventfd_write"\]' "--json names it too"

# what it cannot express, each refused with the file:line and nothing built
mkdiff() { # mkdiff NAME SED: a diff of fs/eventfd.c made with sed
	mkdir -p "$work/$1/a/fs" "$work/$1/b/fs"
	cp "$ksrc/fs/eventfd.c" "$work/$1/a/fs/"
	sed "$2" "$ksrc/fs/eventfd.c" >"$work/$1/b/fs/eventfd.c"
	(cd "$work/$1" && diff -u a/fs/eventfd.c b/fs/eventfd.c) >"$work/$1.patch"
}
refused() { # refused NAME: build it, RC and ERR
	"$OVUP" build -k --diff "$work/$1.patch" --source "$ksrc" -o "$work/$1.o" >/dev/null 2>"$work/err"
	RC=$?
	ERR=$(cat "$work/err")
}
mkdiff layout '/^struct eventfd_ctx {/a\	unsigned long ovup_extra;'
refused layout
is "$RC" 1 "a diff that adds a field to struct eventfd_ctx: refused"
like "$ERR" "fs/eventfd\\.c:[0-9]+: the diff changes the definition of 'struct eventfd_ctx', whose layout running code may use" \
	"... naming the struct and its file:line"
ok $([ ! -e "$work/layout.o" ]; echo $?) "... and writing no object"
mkdiff init '/\.llseek.*noop_llseek/d'
refused init
is "$RC" 1 "a diff that changes eventfd_fops' initialiser: refused"
like "$ERR" "fs/eventfd\\.c(:[0-9]+)?: the diff changes the initial value of 'eventfd_fops'" "... naming the variable"
sed 's/count < sizeof(ucnt)/count <= sizeof(ucnt)/' "$fix" >"$work/stale.patch"
refused stale
is "$RC" 1 "a diff whose old lines are not in the tree: refused"
like "$ERR" "does not apply to .*fs/eventfd\\.c" "... saying so"
# mkdiff2 NAME SED-HEADER: the fix plus a change to include/linux/eventfd.h
mkdiff2() {
	mkdir -p "$work/$1/a/fs" "$work/$1/b/fs" "$work/$1/a/include/linux" "$work/$1/b/include/linux"
	cp "$ksrc/fs/eventfd.c" "$work/$1/a/fs/"
	sed 's/count < sizeof(ucnt)/count != sizeof(ucnt)/' "$ksrc/fs/eventfd.c" >"$work/$1/b/fs/eventfd.c"
	cp "$ksrc/include/linux/eventfd.h" "$work/$1/a/include/linux/"
	sed "$2" "$ksrc/include/linux/eventfd.h" >"$work/$1/b/include/linux/eventfd.h"
	(cd "$work/$1" && diff -ru a b) >"$work/$1.patch"
}
mkdiff2 hinline '/^static inline bool eventfd_signal_allowed(void)$/,/^}$/s/return !current->in_eventfd;/return 1;/'
refused hinline
like "$RC:$ERR" "^1:.*include/linux/eventfd\.h:[0-9]+: the diff changes the inline function 'eventfd_signal_allowed' of a header" \
	"a diff that changes an inline function of a kernel header: refused, naming it and its file:line"
mkdiff2 hmacro 's/^#define EFD_SEMAPHORE (1 << 0)$/#define EFD_SEMAPHORE (1 << 0)\n#define EFD_OVUP_NEW 1/'
refused hmacro
like "$RC:$ERR" "^1:.*include/linux/eventfd\.h: a kernel patch is built with the installed headers" \
	"a new macro in include/linux: refused too (the build uses linux-headers', not the tree's)"
kt_file "$work/eventfd.o"
