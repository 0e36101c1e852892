#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 8, K4 and rmmod -f: a kernel patch that calls into a module pins
# that module; `rmmod -f` of a module a patch needs or patches drops the
# patch and restores the kernel's text; `rmmod -f ovup` restores every
# patch before ovup.ko goes.  The scenarios below, in one guest.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios deps-pin deps-loading deps-rmmod-f deps-sleeper deps-patched-module deps-rmmod-ovup
done_testing
