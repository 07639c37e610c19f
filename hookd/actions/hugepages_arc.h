/* [hugepages] zfs_arc_max: the ZFS ARC kept at most SIZE while the VM runs (hugepages_arc.c). */
#ifndef HOOKD_HUGEPAGES_ARC_H
#define HOOKD_HUGEPAGES_ARC_H

#include "action.h"
#include "plan.h"

/* The journal's op and target of the step. */
#define HUGEPAGES_ARC_OP "zfs_arc_max"
#define HUGEPAGES_ARC_TARGET "zfs_arc_max"

/* The key's value: bytes, or K/M/G/T; refuses what OpenZFS would ignore anywhere (below 64 MiB). */
int hugepages_arc_parse(const char *value, unsigned long long *bytes, struct err *e);
/* The step, before the pools': lowering the ARC leaves room for them. */
int hugepages_arc_plan(const struct action_ctx *ctx, unsigned long long cap, struct plan *pl, struct err *e);
int hugepages_arc_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e);
int hugepages_arc_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e);
int hugepages_arc_revert(const struct action_ctx *ctx, const char *saved, struct err *e);

#endif
