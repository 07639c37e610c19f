/* hookd edit VM: a per-VM INI edit that cannot break a start (visudo's way). */
#ifndef HOOKD_CLI_EDIT_H
#define HOOKD_CLI_EDIT_H

#include "conf.h"

/* Runs $VISUAL/$EDITOR on a copy of VM's INI; the copy replaces it only once it passes check (on an
 * error: file:line, then edit again or abandon, from stdin). Returns 0 when replaced or unchanged by
 * choice, 1 when abandoned or it could not be written, 2 when the VM has no INI. */
int edit_run(const struct hookd_conf *conf, const char *vm);

#endif
