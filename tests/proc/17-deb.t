#!/bin/bash
# make deb and its packages on this machine, for real: lintian finds no
# error; apt installs ovup and ovup-dkms; DKMS builds ovup.ko for the
# kernel the guest boots (tools/vmrun --print-kver); the installed
# /usr/bin/ovup applies, lists and reverts a patch that includes <ovup.h>,
# with no OVUP_INCLUDE; tools/vmrun --ko boots with the module DKMS built
# and the guest's /dev/ovup answers; apt purges both and the machine is as
# it was, also when the test stops half-way (the EXIT trap purges).
# Needs root (dpkg); takes minutes (package build, DKMS build, one boot).
. "$(dirname "$0")/lib.sh"
unset OVUP_INCLUDE MAKEFLAGS MAKELEVEL
export DEBIAN_FRONTEND=noninteractive
VERSION=$(cat "$ROOT/VERSION")
DEB=$ROOT/build/deb
VMRUN=$ROOT/tools/vmrun
DEBARCH=$(dpkg --print-architecture)
PKG_TOOL=$DEB/ovup_${VERSION}_$DEBARCH.deb
PKG_DKMS=$DEB/ovup-dkms_${VERSION}_all.deb

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP installs packages: needs root"
	exit 0
fi

# secs START: seconds since START ($EPOCHREALTIME)
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }
# what is ovup's on this machine: its packages, files and DKMS entries
# (empty on a machine without ovup installed)
ovup_traces() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' ovup ovup-dkms 2>/dev/null | grep -v '^[up]n '
	ls -d /usr/bin/ovup /usr/share/ovup /usr/share/doc/ovup /usr/share/doc/ovup-dkms \
		/usr/src/ovup-* /var/lib/dkms/ovup /lib/modules/*/updates/dkms/ovup.ko* 2>/dev/null
	dkms_status
}
# dkms_status: dkms status of ovup.  SIGPIPE back to its default for it:
# lib.sh ignores it, and dkms's own pipes then print write errors
dkms_status() { (trap - PIPE; dkms status ovup 2>&1); }
# the installed packages, one "NAME VERSION" a line
installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\n' | awk '$1 == "ii" { print $2, $3 }'; }

# The test installs and purges ovup: it must not take away an ovup that
# someone installed here (a package, or make install PREFIX=/usr).
traces=$(ovup_traces)
if [ -n "$traces" ]; then
	echo "Bail out! ovup is installed here; the test installs and purges its own. Remove it first" \
		"(apt-get purge ovup ovup-dkms, or make uninstall PREFIX=/usr): $(echo $traces)"
	exit 1
fi
installed >"$WORK/before"

# purge: remove both packages (the EXIT trap too, if the test stops after
# installing them); dpkg --purge if apt cannot
INSTALLED=0
purge() {
	apt-get purge -y -q ovup ovup-dkms >"$WORK/purge.log" 2>&1 ||
		dpkg --purge ovup ovup-dkms >>"$WORK/purge.log" 2>&1
}
on_exit() {
	[ "$BASHPID" = "$$" ] || return 0
	if [ "$INSTALLED" = 1 ] && ! purge; then
		echo "# the EXIT trap could not purge ovup and ovup-dkms:"
		sed 's/^/#   /' "$WORK/purge.log"
	fi
	cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# 1. make deb (nothing to do if no tracked file changed since the last)
start=$EPOCHREALTIME
make -s -C "$ROOT" deb >"$WORK/deb.log" 2>&1
rc=$?
ok $rc "make deb ($(secs "$start") s)"
[ "$rc" = 0 ] || tail -n 30 "$WORK/deb.log" | sed 's/^/#   /'
for f in "$PKG_TOOL" "$PKG_DKMS" "$DEB/ovup_${VERSION}_$DEBARCH.changes" "$DEB/ovup_${VERSION}_$DEBARCH.buildinfo"; do
	ok "$([ -s "$f" ] && echo 0)" "build/deb/${f##*/} is there"
done
is "$(dpkg-deb -f "$PKG_TOOL" Version) $(dpkg-deb -f "$PKG_DKMS" Version)" "$VERSION $VERSION" \
	"both packages have VERSION's version"
tool_files=$(dpkg-deb -c "$PKG_TOOL" | awk '{ print $6 }')
for f in usr/bin/ovup usr/share/ovup/include/ovup.h usr/share/ovup/include/kernel/ovup_jump_label.h \
	usr/share/man/man1/ovup.1.gz usr/share/man/man5/ovup-patch.5.gz \
	usr/share/bash-completion/completions/ovup usr/share/doc/ovup/copyright \
	usr/share/doc/ovup/examples/discount.c; do
	like "$tool_files" "^\./$f\$" "ovup holds /$f"
done
dkms_files=$(dpkg-deb -c "$PKG_DKMS" | awk '{ print $6 }')
src=usr/src/ovup-$VERSION
for f in dkms.conf Kbuild Makefile VERSION include/uapi/ovup_uapi.h ovup_main.c ovup_area.S; do
	like "$dkms_files" "^\./$src/$f\$" "ovup-dkms holds /$src/$f"
done
unlike "$dkms_files$tool_files" '\.(o|ko|cmd|mod|mod\.c|d)$|/build/' \
	"no object or build directory of the developer's tree in either package"
is "$(dpkg-deb --fsys-tarfile "$PKG_DKMS" | tar -xO "./$src/dkms.conf" | sed -n 's/^PACKAGE_VERSION=//p')" \
	"\"$VERSION\"" "dkms.conf's PACKAGE_VERSION is VERSION's"

# 2. lintian on the .changes, which lists both packages (and the debug
# symbols); every line is shown
lintian --pedantic -I -E --show-overrides "$DEB/ovup_${VERSION}_$DEBARCH.changes" >"$WORK/lintian" 2>&1
rc=$?
sed 's/^/# lintian: /' "$WORK/lintian"
ok $rc "lintian exits 0"
unlike "$(cat "$WORK/lintian")" '^E: ' "lintian reports no error"
diag "lintian: $(grep -c '^W: ' "$WORK/lintian") warnings, $(grep -c '^I: ' "$WORK/lintian") notes, $(grep -c '^O: ' "$WORK/lintian") overridden"

# 3. install both (dkms is there: tools/deps deb); DKMS builds the module
# for every kernel with headers, the guest's among them
start=$EPOCHREALTIME
INSTALLED=1
apt-get install -y -q --no-install-recommends "$PKG_TOOL" "$PKG_DKMS" >"$WORK/install.log" 2>&1
rc=$?
ok $rc "apt-get install ovup ovup-dkms ($(secs "$start") s)"
[ "$rc" = 0 ] || tail -n 30 "$WORK/install.log" | sed 's/^/#   /'
KVER=$("$VMRUN" --print-kver)
like "$KVER" '^[0-9]' "tools/vmrun --print-kver names the guest's kernel ($KVER)"
status=$(dkms_status)
diag "dkms status ovup:" "$status"
like "$status" "^ovup/$VERSION, $KVER, $(uname -m): installed\$" "dkms built and installed ovup $VERSION for $KVER"
ko=$(modinfo -k "$KVER" -n ovup 2>/dev/null)
like "$ko" "^/lib/modules/$KVER/updates/dkms/ovup\.ko\$" "the kernel's module index finds it in updates/dkms ($ko)"
is "$(modinfo -F version "$ko" 2>&1) $(modinfo -F vermagic "$ko" 2>&1 | cut -d' ' -f1)" "$VERSION $KVER" \
	"its version is VERSION's, its vermagic the guest kernel's"

# 4. the installed ovup, which finds its header in /usr/share/ovup/include
# (OVUP_INCLUDE is unset): apply, list, revert on a victim
OVUP=/usr/bin/ovup
run_ovup -V
is "$OUT" "ovup $VERSION" "/usr/bin/ovup -V"
is "$(dpkg-query -S /usr/share/ovup/include/ovup.h 2>&1)" "ovup: /usr/share/ovup/include/ovup.h" \
	"ovup.h is the package's"
start_victim v "$V/victim-pie"
is "$(ask v call compute 5)" 11 "before: compute(5) = 11"
patch fix <<'P'
#include <ovup.h>
OVUP_OBJECT(compute, "victim-pie");
int compute(int x) { return x * 100; }
P
cd "$WORK" || exit 1
run_ovup apply -p "$VPID" "$WORK/fix.c"
is "$RC" 0 "the installed ovup applies a patch including <ovup.h>"
[ "$RC" = 0 ] || diag "$ERR"
is "$(ask v call compute 5)" 500 "patched: compute(5) = 500, not 11"
run_ovup list -p "$VPID"
like "$OUT" "^ *fix +\(seq 1," "list shows the patch"
like "$OUT" "compute +victim-pie 0x[0-9a-f]+ -> 0x[0-9a-f]+ +active" "... with compute active"
run_ovup revert -p "$VPID"
is "$RC" 0 "revert"
is "$(ask v call compute 5)" 11 "reverted: compute(5) = 11, not 500"
run_ovup list -p "$VPID"
like "$OUT" "no patches applied" "list is empty again"
stop_victim v
cd "$ROOT" || exit 1

# 5. the guest boots with the module DKMS built (and the installed ovup):
# the loaded module is that file (its build-id, which differs from
# kmod/ovup.ko's: srcversion, from the sources alone, would not tell them
# apart), and /dev/ovup answers ovup list -k
want_id=$(readelf -n "$ko" 2>/dev/null | sed -n 's/^ *Build ID: //p')
like "$want_id" '^[0-9a-f]{40}$' "the DKMS module has a build-id ($want_id)"
if [ -f "$ROOT/kmod/ovup.ko" ]; then
	kmod_id=$(readelf -n "$ROOT/kmod/ovup.ko" 2>/dev/null | sed -n 's/^ *Build ID: //p')
	ok "$([ "$kmod_id" != "$want_id" ] && echo 0)" "... not kmod/ovup.ko's ($kmod_id)"
fi
guest='uname -r
cat /sys/module/ovup/srcversion /sys/module/ovup/version
od -An -tx1 -v -j16 /sys/module/ovup/notes/.note.gnu.build-id | tr -d " \n"; echo
ovup list -k; echo "list-rc=$?"'
start=$EPOCHREALTIME
OVUP_BIN=/usr/bin/ovup "$VMRUN" --ko "$ko" -- "$guest" >"$WORK/guest.out" 2>"$WORK/guest.err"
rc=$?
ok $rc "tools/vmrun --ko $ko boots and runs ($(secs "$start") s)"
[ "$rc" = 0 ] || sed 's/^/#   /' "$WORK/guest.err"
mapfile -t g <"$WORK/guest.out"
is "${g[0]:-}" "$KVER" "the guest runs $KVER"
is "${g[1]:-}" "$(modinfo -F srcversion "$ko")" "the loaded module's srcversion is the DKMS module's"
is "${g[2]:-}" "$VERSION" "... its version VERSION's"
is "${g[3]:-}" "$want_id" "... its build-id the DKMS module's"
like "$(cat "$WORK/guest.out")" "^kernel $KVER: no patches applied\$" "ovup list -k answers through /dev/ovup"
like "$(cat "$WORK/guest.out")" "^list-rc=0\$" "... with status 0"

# 6. purge: nothing of ovup is left, and the installed packages are the
# ones from before
start=$EPOCHREALTIME
purge
rc=$?
ok $rc "apt-get purge ovup ovup-dkms ($(secs "$start") s)"
[ "$rc" = 0 ] || tail -n 30 "$WORK/purge.log" | sed 's/^/#   /'
[ "$rc" = 0 ] && INSTALLED=0
is "$(ovup_traces)" "" "no package, file or DKMS entry of ovup is left"
is "$(dkms_status)" "" "dkms status shows no ovup"
ok "$([ ! -e "$ko" ] && echo 0)" "$ko is gone"
installed >"$WORK/after"
diff "$WORK/before" "$WORK/after" >"$WORK/pkgdiff"
ok $? "the installed packages are those from before the test"
sed 's/^/#   /' "$WORK/pkgdiff"
done_testing
