/* Resources several running VMs hold at once (the hugepage pool, the host CPU set, IRQ affinity):
 * what other VMs hold, and the value the resource had before any VM changed it. */
#ifndef HOOKD_SHARED_H
#define HOOKD_SHARED_H

#include <stdbool.h>

#include "action.h"

/* Calls fn for every step of action+target the other VMs hold (ctx->others), intent or done. */
void shared_for_each(const struct action_ctx *ctx, const char *action, const char *target,
		     void (*fn)(const struct held_step *h, void *arg), void *arg);
bool shared_held_by_others(const struct action_ctx *ctx, const char *action, const char *target);
/* The baseline of action's target: kept in <state_dir>/shared/ from the first VM that changes the
 * resource until no journal holds a record of action+target (shared_leftovers removes it then, so
 * a crash anywhere in a release keeps it for the restore that follows). Stores `current` when
 * there is none yet. */
int shared_baseline(const struct action_ctx *ctx, const char *action, const char *target, const char *current,
		    char **baseline, struct err *e);
/* Forgets the baseline at once (a stale one no live journal can hold). */
int shared_baseline_drop(const struct action_ctx *ctx, const char *action, const char *target, struct err *e);
/* The files of <state_dir>/shared that are no live baseline (no step of `all`, what every live
 * journal holds, holds them, or temp files of a killed run): reported, and removed when remove is
 * set. Call under the lock, with every journal readable. */
int shared_leftovers(const struct hookd_conf *conf, const struct held_step *all, size_t n, bool remove,
		     void (*report)(const char *path, const char *why, void *arg), void *arg);

#endif
