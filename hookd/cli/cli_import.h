/* hookd import: libvirt's common qemu.d/VM/OP/SUBOP/ script tree as per-VM INI files. */
#ifndef HOOKD_CLI_IMPORT_H
#define HOOKD_CLI_IMPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

struct import_opts {
	const char *dir;     /* the qemu.d directory */
	const char *only_vm; /* NULL: every VM directory in dir */
	bool force;          /* replace an existing INI file */
	bool to_stdout;      /* print the INI files instead of writing them */
	bool native;         /* native sections for the lines recognised, [exec] steps for the rest */
};

/* Returns an exit status: 0 ok, 1 a file could not be written, 2 nothing to import or refused. */
int import_run(const struct hookd_conf *conf, const struct import_opts *o);

#endif
