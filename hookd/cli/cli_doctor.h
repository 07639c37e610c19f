/* hookd doctor [VM...]: is this host ready for passthrough, and is each named VM? */
#ifndef HOOKD_CLI_DOCTOR_H
#define HOOKD_CLI_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "domain.h"

/* Loads VM's domain XML (from libvirt or --xml); -errno with e->msg when it cannot. */
typedef int (*doctor_load_fn)(void *arg, const char *vm, struct domain **dom, struct err *e);

/* Runs the host checks, then each VM's, and prints them (text or JSON) on stdout. Read-only.
 * Returns the exit status: 0 when nothing failed (warnings allowed), 1 otherwise. */
int doctor_run(const struct hookd_conf *conf, char **vms, size_t n_vms, doctor_load_fn load, void *arg, bool json);

#endif
