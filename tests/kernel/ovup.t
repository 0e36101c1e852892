#!/bin/bash
# SPDX-License-Identifier: MIT
# `ovup -k` against Debian's kernel under QEMU: patches built on the host
# with `ovup build -k` (kbuild, the installed headers), applied, observed,
# reverted in one guest by the scenarios below (tests/kernel/scenarios/).
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios ovup-cmdline ovup-two ovup-module ovup-stack ovup-data ovup-wrap \
	ovup-stale-site ovup-example ovup-otherbuild ovup-refusals ovup-kprobe ovup-kptr \
	ovup-unprivileged ovup-unload ovup-bootcache
done_testing
