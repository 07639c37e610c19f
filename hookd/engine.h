/* Runs steps under the global lock, journaling each before and after; undoes them from the journal. */
#ifndef HOOKD_ENGINE_H
#define HOOKD_ENGINE_H

#include "journal.h"
#include "plan.h"

/* Applies plan's steps in order. On failure reverts everything the journal holds, newest first,
 * removes the journal and returns the step's error (e->msg names the step). */
int engine_apply(const struct action_ctx *ctx, const struct plan *plan, const char *journal_path,
		 struct err *e);
/* Reverts every record of the journal, newest first, and removes it. No journal: nothing to do. */
int engine_revert(const struct action_ctx *ctx, const char *journal_path, struct err *e);
/* Finds the journal of the VM named vm in state_dir (for `restore VM` without domain XML). */
int engine_find_journal(const char *state_dir, const char *vm, char **path, struct err *e);
/* Calls fn for every journal in state_dir (sorted by file name). */
int engine_for_each_journal(const char *state_dir, int (*fn)(struct journal *j, void *arg), void *arg,
			    struct err *e);
/* The live journals in state_dir but own_path's (NULL: all of them): what the other VMs hold. */
struct engine_others {
	const char *own_path;
	struct journal **v;
	size_t n;
};
int engine_load_others(const char *state_dir, const char *own_path, struct engine_others *o, struct err *e);
void engine_free_others(struct engine_others *o);

#endif
