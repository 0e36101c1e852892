#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo: a running program has one of its functions replaced live,
# listed, and reverted, without ever stopping.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OVUP=$ROOT/build/ovup
# one scratch directory for the program's output, the kernel patch object
# and (unless the caller chose one) the record of applied patches; set -e
# stops the demo if it cannot be made
WORK=$(mktemp -d /tmp/ovup-demo.XXXXXX)
SHOP=
cleanup() {
	[ -z "$SHOP" ] || kill "$SHOP" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
LOG=$WORK/shop.log
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { sleep "$1"; tail -n 2 "$LOG"; }

"$ROOT/build/examples/shop" >"$LOG" &
SHOP=$!
say "a program is running (pid $SHOP), printing price(100) = 100 + 20% tax"
show 0.7
say "ovup apply -p $SHOP examples/discount.c   (price() gets a 50% discount)"
"$OVUP" apply -p "$SHOP" "$ROOT/examples/discount.c"
show 0.7
say "ovup list -p $SHOP"
"$OVUP" list -p "$SHOP"
say "ovup revert -p $SHOP"
"$OVUP" revert -p "$SHOP"
show 0.7
say "same pid $SHOP throughout: the program never stopped"
ps -o pid,etime,cmd -p "$SHOP" | cat
kill "$SHOP"
SHOP=

say "now the running kernel: ovup build -k examples/kernel-cmdline.c (kbuild, installed headers)"
"$OVUP" build -k "$ROOT/examples/kernel-cmdline.c" -o "$WORK/kernel-cmdline.o"
say "booting Debian's kernel under QEMU (TCG) with ovup.ko loaded..."
"$ROOT/tools/vmrun" --file "$WORK/kernel-cmdline.o" --file "$ROOT/examples/kernel-demo.sh" \
	-- sh /tmp/kernel-demo.sh
