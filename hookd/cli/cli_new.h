/* hookd new VM [--xml FILE] [--stdout]: the VM's INI, written from its domain XML and the host. */
#ifndef HOOKD_CLI_NEW_H
#define HOOKD_CLI_NEW_H

#include <stdbool.h>

#include "conf.h"
#include "domain.h"

/* Writes <hooks_dir>/<vm>.ini for dom (or prints it with to_stdout), checked as `hookd check` would,
 * never over an existing file. Returns the exit status: 0, 1 (could not write), 2 (it exists). */
int new_run(const struct hookd_conf *conf, const char *vm, const struct domain *dom, bool to_stdout);

#endif
