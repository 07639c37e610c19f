/* Resources several running VMs hold at once (the hugepage pool, the host CPU set, IRQ affinity):
 * what other VMs hold, and the value the resource had before any VM changed it. */
#ifndef HOOKD_SHARED_H
#define HOOKD_SHARED_H

#include <stdbool.h>

#include "action.h"
#include "journal.h"

/* Calls fn for every record of action+target in the other VMs' live journals. */
void shared_for_each(const struct action_ctx *ctx, const char *action, const char *target,
		     void (*fn)(const struct journal *j, const struct journal_rec *rec, void *arg), void *arg);
bool shared_held_by_others(const struct action_ctx *ctx, const char *action, const char *target);
/* The baseline of key: kept in <state_dir>/shared/ from the first VM that changes the resource to
 * the last that gives it back. Stores `current` when there is none yet. */
int shared_baseline(const struct action_ctx *ctx, const char *key, const char *current, char **baseline,
		    struct err *e);
/* Forgets the baseline (the last holder restored it). */
int shared_baseline_drop(const struct action_ctx *ctx, const char *key, struct err *e);

#endif
