/* [hugepages] seen from outside the plan: what a VM's section asks of the host (hookd doctor). */
#ifndef HOOKD_HUGEPAGES_H
#define HOOKD_HUGEPAGES_H

#include "action.h"

/* The memory the section (data) reserves for the VM, in KiB, and its zfs_arc_max (0: none), as
 * the plan works them out from ctx->dom; -ENODATA when pages = auto and ctx->dom is NULL. */
int hugepages_demand(const struct action_ctx *ctx, const void *data, unsigned long long *kib,
		     unsigned long long *arc_max, struct err *e);

#endif
