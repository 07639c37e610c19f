/* hookd-apply: the hook's worker, exec'd by the hook front when a VM is configured. Same argv as the
 * hook (VM OP SUBOP EXTRA), domain XML on stdin. One line on stderr on failure; nothing on stdout. */
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "phase.h"

int main(int argc, char **argv)
{
	struct hookd_conf conf;
	struct err e = { "" };
	char *xml = NULL;
	size_t len = 0;
	int r, code;

	std_fds_ensure();
	if (argc < 4) {
		fprintf(stderr, "usage: %s VM OPERATION SUB-OPERATION [EXTRA] < domain.xml (run by the hook)\n",
			argv[0]);
		return 2;
	}
	r = read_all_fd(STDIN_FILENO, XML_MAX, &xml, &len);
	if (r < 0) {
		fprintf(stderr, "hookd: %s: cannot read the domain XML on stdin: %s\n", argv[1], xml_read_strerror(r));
		return 1;
	}
	if (conf_load(getenv("HOOKD_CONF"), false, &conf, &e) < 0) {
		fprintf(stderr, "hookd: %s\n", e.msg);
		free(xml);
		return 1;
	}
	/* The hook's stderr is what `virsh start` shows: the one failure line and nothing else. Step logs
	 * go to syslog or a log file; `log = stderr` is for the CLI (hookd run, restore). */
	log_open(conf.log == LOG_TARGET_STDERR ? LOG_TARGET_NONE : conf.log, conf.log_file, argv[1], argv[2]);
	code = phase_run(&conf, argv[1], argv[2], len ? xml : NULL, len, &e);
	if (code != EXIT_OK) {
		fprintf(stderr, "hookd: %s %s: %s\n", argv[1], argv[2], e.msg);
		if (conf.log == LOG_TARGET_SYSLOG || conf.log == LOG_TARGET_FILE)
			log_error("%s", e.msg);
	}
	conf_free(&conf);
	free(xml);
	return code == EXIT_OK ? 0 : 1; /* the hook's contract: 1 for any failure (the CLI tells 1 from 2) */
}
