/* hookd check / hookd install: say whether libvirt's AppArmor profile lets it exec the hook. */
#ifndef HOOKD_CLI_APPARMOR_H
#define HOOKD_CLI_APPARMOR_H

#include "conf.h"

/* libvirt's hook, the path it execs for every QEMU VM event (judged inside conf->root). */
#define CLI_AA_HOOK "/etc/libvirt/hooks/qemu"

/* hookd check: one line about the installed hook (only with verbose > 0 when nothing confines it or
 * no hook is installed). Returns EXIT_CONFIG when an enforcing profile would deny it, with the fix
 * on stderr; warnings (complain mode, cannot verify) go to stderr and return EXIT_OK. */
int cli_aa_check_hook(const struct hookd_conf *conf, int verbose);
/* hookd install: judges target, the executable the hook link is about to point at (a path on this
 * host; under a --root prefix it is taken inside that root). Returns 0 to go on (after a loud warning
 * when it cannot be verified or the profile only complains) or EXIT_CONFIG, having said why and
 * what to do, when an enforcing profile would deny it. */
int cli_aa_install_gate(const struct hookd_conf *conf, const char *target);

#endif
