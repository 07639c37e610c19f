/* Runs steps under the global lock, journaling each before and after; undoes them from the journal. */
#ifndef HOOKD_ENGINE_H
#define HOOKD_ENGINE_H

#include "action.h"
#include "plan.h"

struct journal;

/* Applies plan's steps in order. Call it with the plan phase_plan built under an exclusive
 * engine_view, whose others are in ctx: the steps are applied with the view they were planned
 * with. On failure reverts everything the journal holds, newest first, removes the journal and
 * returns the step's error (e->msg names the step). actions: the table (NULL-terminated; hookd's
 * is action_table) in which a journal record's action is found for its revert. */
int engine_apply(const struct action_ctx *ctx, const struct action_ops *const *actions, const struct plan *plan,
		 const char *journal_path, struct err *e);
/* Reverts every record of the journal, newest first, and removes it. No journal: nothing to do.
 * A journal that cannot be read completely is an error, and is kept. */
int engine_revert(const struct action_ctx *ctx, const struct action_ops *const *actions, const char *journal_path,
		  struct err *e);
/* The live journals in state_dir but own_path's (NULL: all of them), and what the other VMs hold
 * in them: v is action_ctx.others. */
struct engine_others {
	const char *own_path;
	struct journal **journals;
	size_t n_journals;
	struct held_step *v; /* every record of journals, pointing into them */
	size_t n;
};
int engine_load_others(const char *state_dir, const char *own_path, struct engine_others *o, struct err *e);
void engine_free_others(struct engine_others *o);

/* What planning and applying both see: the global lock, and the other VMs' live journals read
 * under it. exclusive: the hook's lock (creates the state directory). Shared (`hookd plan`):
 * waits for a running hook the same way and reads the same journals, but creates nothing. */
struct engine_view {
	int lock_fd; /* -1 when not locked (shared, and no state directory yet) */
	bool blind;  /* shared, and the state directory is not readable (not root): no journals seen */
	struct engine_others others;
};
int engine_view_open(const struct hookd_conf *conf, const char *own_path, bool exclusive, struct engine_view *v,
		     struct err *e);
void engine_view_close(struct engine_view *v);
/* -EBUSY when a step would take what another VM's journal holds (a device, for instance). */
int engine_check_conflicts(const struct action_ctx *ctx, const struct plan *plan, struct err *e);

#endif
