#!/bin/bash
# make install and uninstall: the layout under DESTDIR; an installed ovup
# that compiles a patch including <ovup.h> with no OVUP_INCLUDE (found next
# to it, or, for a copy elsewhere, in the PREFIX it was built for); the
# diagnosis when ovup.h is nowhere; the version from VERSION; an uninstall
# that leaves no file behind.
. "$(dirname "$0")/lib.sh"
unset OVUP_INCLUDE MAKEFLAGS MAKELEVEL
VERSION=$(cat "$ROOT/VERSION")

# A build directory of the test's own: PREFIX is compiled into ovup, and
# build/ovup, which the other tests run, must keep the tree's.  The tree's
# objects are copied with their times, so only the objects that use the
# configured values are compiled again.
B=$WORK/build
mkdir -p "$B" && cp -a "$ROOT/build/src" "$B/"
# mk ARGS...: make in the tree with that build directory; sets RC, MKOUT
mk() {
	make -s -C "$ROOT" BUILD="$B" "$@" >"$WORK/make.out" 2>&1
	RC=$?
	MKOUT=$(cat "$WORK/make.out")
}
# files DIR: the files and links under DIR, relative, sorted
files() { (cd "$1" && find . \( -type f -o -type l \) | sort); }

# 1. the version, from the VERSION file
OVUP=$ROOT/build/ovup
run_ovup -V
is "$OUT" "ovup $VERSION" "ovup -V prints VERSION's version"
run_ovup --version
is "$OUT" "ovup $VERSION" "ovup --version too"
run_ovup version
is "$OUT" "ovup $VERSION" "ovup version too"

# 2. a staged install (DESTDIR), laid out as a Debian package would be;
# install builds the man pages (scdoc); the completion is installed too
R=$WORK/root
mk install DESTDIR="$R" PREFIX=/usr
is "$RC" 0 "make install DESTDIR=... PREFIX=/usr succeeds"
[ "$RC" = 0 ] || diag "$MKOUT"
ok "$([ -x "$R/usr/bin/ovup" ] && echo 0)" "the binary is usr/bin/ovup, executable"
cmp -s "$R/usr/share/ovup/include/ovup.h" "$ROOT/include/ovup.h"
ok $? "ovup.h is usr/share/ovup/include/ovup.h"
cmp -s "$R/usr/share/ovup/include/kernel/ovup_jump_label.h" "$ROOT/include/kernel/ovup_jump_label.h"
ok $? "the kernel patches' jump-label header is beside it, in kernel/"
ok "$(grep -q '^\.TH "ovup" "1"' "$R/usr/share/man/man1/ovup.1" &&
	grep -q '^\.TH "ovup-patch" "5"' "$R/usr/share/man/man5/ovup-patch.5" && echo 0)" \
	"the man pages, built from docs/man, go to usr/share/man/man1 and man5"
if [ -n "$(ls "$ROOT"/tools/completion/ovup* 2>/dev/null)" ]; then
	ok "$([ -f "$R/usr/share/bash-completion/completions/ovup" ] && echo 0)" \
		"the bash completion is usr/share/bash-completion/completions/ovup"
else
	pass "# SKIP no bash completion in tools/completion yet"
fi
docs=$(files "$R/usr/share/doc/ovup")
for f in README.md LICENSE CHANGELOG.md cli.md patch-format.md design/kernel-tables.md \
	examples/discount.c examples/Makefile; do
	like "$docs" "^\./$f\$" "usr/share/doc/ovup/$f is installed"
done
unlike "$(files "$R" | grep -v '^\./usr/lib/systemd/system/ovup\(-watch\)\?\.service$')" "^\./usr/(lib|src|include)/" \
	"nothing outside bin/ and share/ but the systemd units (the module is packaged apart)"
like "$(cat "$R/usr/lib/systemd/system/ovup.service")" "ExecStart=/usr/bin/ovup apply --installed -k" \
	"ovup.service is usr/lib/systemd/system/ovup.service, running /usr/bin/ovup"
like "$(cat "$R/usr/lib/systemd/system/ovup-watch.service")" "ExecStart=/usr/bin/ovup watch" \
	"ovup-watch.service beside it"
run=$("$R/usr/bin/ovup" -V)
is "$run" "ovup $VERSION" "the installed ovup -V"
mk uninstall DESTDIR="$R" PREFIX=/usr
is "$RC" 0 "make uninstall DESTDIR=... PREFIX=/usr succeeds"
is "$(files "$R")" "" "... and leaves no file behind"
ok "$([ ! -e "$R/usr/share/ovup" ] && [ ! -e "$R/usr/share/doc/ovup" ] && echo 0)" \
	"... nor ovup's own directories"

# 3. an install in a prefix: its ovup builds and applies a patch that
# includes <ovup.h>, with no variable to find it
P=$WORK/prefix
mk install PREFIX="$P"
is "$RC" 0 "make install PREFIX=$P succeeds"
[ "$RC" = 0 ] || diag "$MKOUT"
start_victim v "$V/victim-pie"
is "$(ask v call compute 5)" 11 "before: compute(5) = 11"
patch sel <<'P'
#include <ovup.h>
OVUP_OBJECT(compute, "victim-pie");
int compute(int x) { return x * 100; }
P
OVUP=$P/bin/ovup
run_ovup apply -p "$VPID" "$WORK/sel.c"
is "$RC" 0 "the installed ovup applies a patch including <ovup.h>, OVUP_INCLUDE unset"
[ "$RC" = 0 ] || diag "$ERR"
is "$(ask v call compute 5)" 500 "compute(5) = 500 now"
run_ovup revert -p "$VPID"
is "$RC" 0 "... and reverts it"
is "$(ask v call compute 5)" 11 "compute(5) = 11 again"

# 4. a copy of it elsewhere finds ovup.h where its PREFIX put it (compiled in)
mkdir -p "$WORK/elsewhere"
cp "$P/bin/ovup" "$WORK/elsewhere/ovup"
OVUP=$WORK/elsewhere/ovup
run_ovup apply -p "$VPID" "$WORK/sel.c"
is "$RC" 0 "a copy elsewhere finds ovup.h in PREFIX/share/ovup/include"
[ "$RC" = 0 ] || diag "$ERR"
is "$(ask v call compute 5)" 500 "... applied"
run_ovup revert -p "$VPID"
is "$(ask v call compute 5)" 11 "... reverted"

# 5. uninstall removes what install put
OVUP=$ROOT/build/ovup
mk uninstall PREFIX="$P"
is "$RC" 0 "make uninstall PREFIX=$P succeeds"
is "$(files "$P")" "" "... and leaves no file behind"
ok "$([ ! -e "$P/share/ovup" ] && [ ! -e "$P/share/doc/ovup" ] && echo 0)" "... nor ovup's own directories"

# 6. ovup.h nowhere: the error says where ovup looked and names OVUP_INCLUDE
OVUP=$WORK/elsewhere/ovup
before=$(snap "$VPID")
run_ovup apply -p "$VPID" "$WORK/sel.c"
is "$RC" 1 "with ovup.h nowhere, the apply fails"
like "$ERR" "ovup\.h: No such file" "... the compiler's error is shown"
like "$ERR" "ovup\.h was not found \(looked in $WORK/elsewhere/\.\./share/ovup/include, $WORK/elsewhere/\.\./include, $P/share/ovup/include\)" \
	"... ovup says where it looked, the configured directory last"
like "$ERR" "set OVUP_INCLUDE to the directory that holds ovup\.h" "... and names OVUP_INCLUDE"
same_mem "$before" "$(snap "$VPID")" "... the target is untouched"
is "$(ask v call compute 5)" 11 "... compute(5) = 11"
patch plain <<'P'
int compute(int x) { return x * 7; }
P
run_ovup apply -p "$VPID" "$WORK/plain.c"
is "$RC" 0 "a patch that does not include ovup.h needs none"
is "$(ask v call compute 5)" 35 "... applied"
run_ovup revert -p "$VPID"
patch broken <<'P'
int compute(int x) { return x * ; }
P
run_ovup apply -p "$VPID" "$WORK/broken.c"
is "$RC" 1 "a patch with another compile error fails"
unlike "$ERR" "OVUP_INCLUDE" "... without blaming ovup.h"
OVUP_INCLUDE=$WORK/nowhere run_ovup apply -p "$VPID" "$WORK/sel.c"
is "$RC" 1 "OVUP_INCLUDE naming a directory without ovup.h fails"
like "$ERR" "ovup\.h is not in $WORK/nowhere \(OVUP_INCLUDE\)" "... and says OVUP_INCLUDE is wrong"
OVUP_INCLUDE=$ROOT/include run_ovup apply -p "$VPID" "$WORK/sel.c"
is "$RC" 0 "OVUP_INCLUDE overrides the lookup"
is "$(ask v call compute 5)" 500 "... applied"
run_ovup revert -p "$VPID"
is "$(ask v call compute 5)" 11 "... reverted"
stop_victim v
done_testing
