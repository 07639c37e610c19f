/* hookd install: put the libvirt hook in place, or chain a hook that is already there. */
#ifndef HOOKD_CLI_INSTALL_H
#define HOOKD_CLI_INSTALL_H

#include <stdbool.h>

#include "conf.h"

struct install_opts {
	const char *hooks_dir; /* libvirt's hooks directory (default /etc/libvirt/hooks) */
	const char *hook;      /* hookd's hook executable (default <sbin>/hookd-qemu) */
	const char *legacy;    /* where 0.1.0 put it: a link there is hookd's, to repoint (or NULL) */
	const char *conf_path; /* the hookd.conf to record `chain =` in */
	bool chain;            /* keep a foreign hook and run it after hookd's steps */
	bool reload;           /* SIGHUP libvirtd so that it notices the new hook */
};

/* The pid files of the daemons that run QEMU hooks: libvirtd, or the modular virtqemud. */
#define INSTALL_N_DAEMONS 2
extern const char *const install_daemon_pidfiles[INSTALL_N_DAEMONS];

/* Returns an exit status (0 ok, 1 failed, 2 refused: a foreign hook without --chain). */
int install_run(const struct hookd_conf *conf, const struct install_opts *o);

#endif
