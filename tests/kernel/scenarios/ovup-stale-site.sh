# SPDX-License-Identifier: MIT
# Kernel scenario ovup-stale-site: all or none: the second of two sites
# changes before the switch (fault hook OVUP_FAULT=stale-site:2), and
# nothing is switched.
# patches: two

OVUP_FAULT=stale-site:2 ovup apply -k /tmp/two.o >/tmp/out 2>/tmp/err
RC=$?
is "$RC" 1 "two functions, the second site changed before the switch: exit 1"
like "$(cat /tmp/err)" "function 'version_proc_show': the bytes at 0x[0-9a-f]+ changed while the patch was prepared; nothing was switched" "... nothing switched"
is "$(text "$FCMD") $(text "$FVER")" "$T0 $V0" "... both functions' text unchanged (all or none)"
is "$(cat /proc/cmdline)" "$CMDLINE" "... /proc/cmdline unchanged"
