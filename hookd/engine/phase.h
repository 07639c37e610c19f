/* One libvirt hook phase for one VM: what the hook worker and `hookd run` both do. */
#ifndef HOOKD_PHASE_H
#define HOOKD_PHASE_H

#include <stddef.h>

#include "conf.h"
#include "engine.h"
#include "plan.h"
#include "vmconfig.h"

enum { EXIT_OK = 0, EXIT_ACTION_FAILED = 1, EXIT_CONFIG = 2 };

/* The one planning path of the hook and of `hookd plan`: opens the engine view (the global lock,
 * exclusive for a run and shared for a dry run, and the other VMs' journals read under it), puts
 * the journals in ctx, builds the plan with them and refuses what another VM holds. So the steps
 * and values a dry run prints are the ones a run journals and writes. On success the caller
 * applies or prints the plan, then closes the view; on failure nothing is left open. */
int phase_plan(struct action_ctx *ctx, const struct vm_config *cfg, enum phase ph, bool exclusive,
	       struct engine_view *view, struct plan **plan, struct err *e);

/* Runs phase (a libvirt operation name: prepare, started, release, ...) for vm with its domain XML
 * (may be NULL for release). Returns EXIT_*; e->msg holds the one line for the user. */
int phase_run(const struct hookd_conf *conf, const char *vm, const char *phase, const char *xml, size_t len,
	      struct err *e);

#endif
