/* The table of action types: the engine and the config loader only ever go through these ops. */
#ifndef HOOKD_ACTION_H
#define HOOKD_ACTION_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "domain.h"
#include "util.h"

struct plan;
struct step;

/* A step as the journal keeps it: what revert is handed, and what another VM holds. */
struct step_record {
	const char *action; /* the action's name (the INI section) */
	const char *op;     /* what the step does, e.g. "bind" */
	const char *target; /* what it acts on, e.g. "0000:01:00.0" */
	const char *value;  /* what it sets, e.g. "vfio-pci" */
	const char *saved;  /* what observe found before acting */
	bool done;          /* false: only its intent was recorded (the change may have happened) */
};

/* A step another running VM holds: a record of its live journal, done or only intended (a change
 * that may have happened is held until that VM's release reverts it). */
struct held_step {
	const char *vm;      /* that VM's name */
	const char *journal; /* its journal's path */
	struct step_record rec;
};

/* What an action sees while planning or acting. */
struct action_ctx {
	const struct hookd_conf *conf;
	const struct domain *dom; /* NULL while reverting from a journal alone */
	const char *vm;
	const char *xml; /* the domain XML as libvirt gave it (NULL when none: `hookd restore`) */
	size_t xml_len;
	bool describe; /* name devices in step descriptions (pci.ids costs ~20 ms: not on the hook's path) */
	/* What the other VMs' live journals hold (every record, in journal order), read under the
	 * global lock while steps apply or revert: what a shared resource (hugepage pool, host CPU
	 * set) must keep for them, and what a step may not take. */
	const struct held_step *others;
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
	int (*revert)(const struct action_ctx *ctx, const struct step_record *rec, struct err *e);
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
