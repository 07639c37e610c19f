/* Config + domain -> the ordered steps of one phase; rendered for the dry run. Touches nothing. */
#ifndef HOOKD_PLAN_H
#define HOOKD_PLAN_H

#include <stdio.h>

#include "action.h"
#include "vmconfig.h"

struct step {
	const struct action_ops *ops;
	char *op;      /* journaled: what the step does */
	char *target;  /* journaled: what it acts on */
	char *label;   /* LABEL of the [action LABEL] section that planned it, or NULL */
	char *section; /* how people and messages name that section: "[exec]", "[exec backup]" */
	char *value;   /* journaled: what it sets */
	char *desc;    /* one line for people, e.g. "0000:01:00.0 (NVIDIA ...): nvidia -> vfio-pci" */
	char **writes; /* "PATH <- VALUE" lines, in order, for the dry run */
	size_t n_writes;
	bool revertible; /* false for steps left in place on release (loading vfio-pci) */
	bool shared;     /* several VMs may hold the same target (hugepage pool, host CPU set) */
};

struct plan {
	enum phase phase;
	const char *label; /* while a named section plans: its steps' targets become "LABEL:target" */
	struct step *steps;
	size_t n;
};

/* Parses "prepare", "started", "release", ...; PHASE_NONE for phases with no steps. -EINVAL if unknown. */
int phase_from_name(const char *name, enum phase *out);
const char *phase_name(enum phase p);

int plan_build(const struct action_ctx *ctx, const struct vm_config *cfg, enum phase phase, struct plan **out,
	       struct err *e);
/* Adds a step (takes ownership of desc); returns it so the action can add writes. */
struct step *plan_add(struct plan *p, const struct action_ops *ops, const char *op, const char *target,
		      const char *value, char *desc);
void step_add_write(struct step *st, const char *path, const char *value);
void plan_print_text(const struct plan *p, const char *vm, FILE *out);
void plan_print_json(const struct plan *p, const char *vm, FILE *out);
void plan_free(struct plan *p);

#endif
