/* One libvirt hook phase for one VM: what the hook worker and `hookd run` both do. */
#ifndef HOOKD_PHASE_H
#define HOOKD_PHASE_H

#include <stddef.h>

#include "conf.h"

enum { EXIT_OK = 0, EXIT_ACTION_FAILED = 1, EXIT_CONFIG = 2 };

/* Runs phase (a libvirt operation name: prepare, started, release, ...) for vm with its domain XML
 * (may be NULL for release). Returns EXIT_*; e->msg holds the one line for the user. */
int phase_run(const struct hookd_conf *conf, const char *vm, const char *phase, const char *xml, size_t len,
	      struct err *e);

#endif
