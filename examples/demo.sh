#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo: a running program has one of its functions replaced live,
# listed, and reverted, without ever stopping.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OVUP=$ROOT/build/ovup
export OVUP_STATE_DIR=${OVUP_STATE_DIR:-$(mktemp -d /tmp/ovup-demo.XXXXXX)}
LOG=$(mktemp /tmp/ovup-demo-log.XXXXXX)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { sleep "$1"; tail -n 2 "$LOG"; }

"$ROOT/build/examples/shop" >"$LOG" &
SHOP=$!
trap 'kill $SHOP 2>/dev/null || true; rm -f "$LOG"' EXIT
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

say "now the running kernel: ovup build -k examples/kernel-cmdline.c (kbuild, installed headers)"
KOBJ=$(mktemp -d /tmp/ovup-demo-k.XXXXXX)
trap 'kill $SHOP 2>/dev/null || true; rm -rf "$LOG" "$KOBJ"' EXIT
"$OVUP" build -k "$ROOT/examples/kernel-cmdline.c" -o "$KOBJ/kernel-cmdline.o"
say "booting Debian's kernel under QEMU (TCG) with ovup.ko loaded..."
"$ROOT/tools/vmrun" --file "$KOBJ/kernel-cmdline.o" --file "$ROOT/examples/kernel-demo.sh" \
	-- sh /tmp/kernel-demo.sh
