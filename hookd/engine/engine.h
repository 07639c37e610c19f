/* Runs steps under the global lock, journaling each before and after; undoes them from the journal. */
#ifndef HOOKD_ENGINE_H
#define HOOKD_ENGINE_H

#include "journal.h"
#include "plan.h"

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
/* Finds the journal of the VM named vm in state_dir (for `restore VM` without domain XML). -ENOENT
 * when there is none; -EBADMSG (e->msg says why) when none names it but an unreadable one may be
 * its own: without uuid, any; with it, the one named by the VM's name. */
int engine_find_journal(const char *state_dir, const char *vm, const char *uuid, char **path, struct err *e);
/* Calls fn for every journal in state_dir (sorted by file name); one that cannot be read comes
 * with j->unreadable set and no records. */
int engine_for_each_journal(const char *state_dir, int (*fn)(struct journal *j, void *arg), void *arg, struct err *e);
/* The live journals in state_dir but own_path's (NULL: all of them): what the other VMs hold. */
struct engine_others {
	const char *own_path;
	struct journal **v;
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
