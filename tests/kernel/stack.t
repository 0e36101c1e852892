#!/bin/bash
# SPDX-License-Identifier: MIT
# Revert of code tasks are still in (issue 8, K3 and the schedule()
# wrapper): idle tasks parked in a wrapper of schedule_idle, sleepers in
# wrappers of do_nanosleep and schedule().  The scenarios below, in one guest.
. "$(dirname "$0")/lib.sh"
kt_workdir
kt_scenarios stack-nanosleep stack-idle stack-sched
done_testing
