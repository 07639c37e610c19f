/* The table of action types: the engine and the config loader only ever go through these ops. */
#ifndef HOOKD_ACTION_H
#define HOOKD_ACTION_H

#include <stddef.h>

#include "conf.h"
#include "domain.h"
#include "util.h"

struct plan;
struct step;
struct journal_rec;

/* What an action sees while planning or acting. */
struct journal;

struct action_ctx {
	const struct hookd_conf *conf;
	const struct domain *dom; /* NULL while reverting from a journal alone */
	const char *vm;
	const char *xml; /* the domain XML as libvirt gave it (NULL when none: `hookd restore`) */
	size_t xml_len;
	bool describe; /* name devices in step descriptions (pci.ids costs ~20 ms: not on the hook's path) */
	/* The other VMs' live journals, loaded under the global lock while steps apply or revert:
	 * what a shared resource (hugepage pool, host CPU set) must keep for them. */
	struct journal *const *others;
	size_t n_others;
};

/* The phases of the libvirt lifecycle that carry steps. */
enum phase { PHASE_PREPARE, PHASE_STARTED, PHASE_RELEASE, PHASE_NONE };

struct action_ops {
	const char *name; /* the INI section */
	bool repeatable;  /* may appear several times as [name LABEL] ([exec] for imported scripts) */
	size_t data_size;
	void (*init)(void *data);
	/* -ENOENT for an unknown key, -EINVAL for a bad value (e->msg says why, without file:line). */
	int (*set)(void *data, const char *key, const char *value, struct err *e);
	/* Checks the section once all its keys are read. May be NULL. */
	int (*finish)(void *data, struct err *e);
	void (*free_data)(void *data);
	/* Appends this section's steps for phase to plan; reads the system, changes nothing. */
	int (*plan)(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *plan, struct err *e);
	/* Reads what step is about to change, as a string the journal keeps for revert. */
	int (*observe)(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e);
	int (*apply)(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e);
	/* Undoes a journaled step. Must succeed when the change never happened or was undone already,
	 * and must be safe to run again after a crash at any point of it: it works out the state to
	 * reach from what the step saved and the other live journals, compares with what the kernel
	 * holds now, and never adds or subtracts relative to the current value. */
	int (*revert)(const struct action_ctx *ctx, const struct journal_rec *rec, struct err *e);
	/* The longest applying or undoing a step (op, value) may take, in ms: other runs wait that
	 * long for the global lock. NULL: a few waits bounded by hookd.conf's timeout. */
	unsigned (*bound_ms)(const struct action_ctx *ctx, const char *op, const char *value);
};

extern const struct action_ops *const action_table[];
/* The ops named name in table (NULL-terminated), or NULL. */
const struct action_ops *action_find_in(const struct action_ops *const *table, const char *name);
/* action_find_in(action_table, name) */
const struct action_ops *action_find(const char *name);

#endif
