#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# CHGPROT changes real page tables: kernel code storing into a data block
# succeeds while the block is RW and faults once it is R.  The fault is an
# oops on purpose, so this runs in a VM of its own.
. "$(dirname "$0")/lib.sh"

kt_build_helpers
ok $? "make -C tests/kernel"

# vmrun warns on stderr about the (expected) oops; keep that out of the way
err=$(mktemp) || { echo "Bail out! mktemp failed"; exit 1; }
trap 'rm -f "$err"' EXIT
out=$("$VMRUN" -- kioctl prot 2>"$err")
rc=$?
kt_import <<<"$out"
ok "$rc" "kioctl prot exits 0 in the guest (status $rc)"
[ "$rc" = 0 ] || sed 's/^/# /' "$err"
done_testing
