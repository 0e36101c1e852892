#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Displaced bytes are the function's own (issue 8, K2 and its weak cases):
# kprobes in the bytes ovup's jump replaces, breakpoints in flight,
# functions ftrace does not list, code that differs from its object file,
# and objects without build information, truncated or random.  The
# scenarios below, in one guest.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios probe-untraced probe-inputs probe-kprobe probe-jump probe-files probe-inflight
done_testing
