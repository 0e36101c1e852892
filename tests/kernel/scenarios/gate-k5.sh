# SPDX-License-Identifier: MIT
# Kernel scenario gate-k5: the raw interface: the writer slot, K5 refusals,
# CAP_SYS_MODULE

klog_add 'Call Trace'
kio gate k5 perm
