#include "cli_apparmor.h"

#include <string.h>

#include "apparmor.h"
#include "phase.h"
#include "sysfs.h"

/* Prints each loaded profile's verdict about what (a label: the hook or the install target). */
static void print_report(const struct hookd_aa_report *rep, const char *what, int verbose)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct hookd_aa_result *res = &rep->results[i];

		switch (res->verdict) {
		case HOOKD_AA_NOT_CONFINED:
			if (verbose > 0)
				printf("%s: %s\n", what, res->message);
			break;
		case HOOKD_AA_ALLOWED:
			if (verbose >= 0)
				printf("%s: ok: %s\n", what, res->message);
			break;
		case HOOKD_AA_UNKNOWN: fprintf(stderr, "hookd: warning: %s: %s\n", what, res->message); break;
		case HOOKD_AA_COMPLAIN:
			fprintf(stderr, "hookd: warning: %s: %s\n  Fix: %s.\n", what, res->message, res->fix);
			break;
		case HOOKD_AA_DENIED:
			fprintf(stderr, "hookd: %s: %s\n  Fix: %s.\n", what, res->message, res->fix);
			break;
		}
	}
}

int cli_aa_check_hook(const struct hookd_conf *conf, int verbose)
{
	struct hookd_aa_report rep;
	enum hookd_aa_verdict worst;
	_cleanup_free_ char *link = NULL;

	/* a link whose target is absolute points inside the root, where access() cannot follow it */
	if (!sysfs_exists(conf->root, CLI_AA_HOOK) && sysfs_readlink(conf->root, CLI_AA_HOOK, &link) < 0) {
		if (verbose > 0)
			printf("%s: not installed (hookd install puts it in place)\n", CLI_AA_HOOK);
		return EXIT_OK;
	}
	hookd_aa_check(conf->root, CLI_AA_HOOK, &rep);
	print_report(&rep, CLI_AA_HOOK, verbose);
	worst = rep.results[rep.worst].verdict;
	hookd_aa_report_free(&rep);
	return worst == HOOKD_AA_DENIED ? EXIT_CONFIG : EXIT_OK;
}

int cli_aa_install_gate(const struct hookd_conf *conf, const char *target)
{
	size_t n = strlen(conf->root);
	const char *in_root = target;
	struct hookd_aa_report rep;
	enum hookd_aa_verdict worst;

	while (n > 0 && conf->root[n - 1] == '/')
		n--;
	if (n > 0 && strncmp(target, conf->root, n) == 0 && target[n] == '/')
		in_root = target + n;
	hookd_aa_check(conf->root, in_root, &rep);
	print_report(&rep, in_root, 0);
	worst = rep.results[rep.worst].verdict;
	hookd_aa_report_free(&rep);
	if (worst == HOOKD_AA_DENIED) {
		fprintf(stderr, "hookd: refusing to install a hook that libvirt cannot run: nothing was changed.\n");
		return EXIT_CONFIG;
	}
	if (worst == HOOKD_AA_UNKNOWN || worst == HOOKD_AA_COMPLAIN)
		fprintf(stderr,
			"hookd: installing anyway; check that VMs start (`virsh start`), and see `journalctl -k "
			"| grep apparmor` if they do not.\n");
	return 0;
}
