/* The libvirt hook, /etc/libvirt/hooks/qemu -> /usr/libexec/hookd/qemu:  qemu VM OP SUBOP EXTRA
 * with the domain XML on stdin. Most calls concern VMs without an INI file, so this front links only
 * libc and (static) inih and decides cheaply; real work is done by hookd-apply, exec'd beside it with
 * the same argv and the untouched stdin. Nothing is ever written to stdout: for migrate and restore
 * libvirt reads stdout as a replacement XML. */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "conf.h"

static void drain_stdin(void)
{
	char buf[65536];

	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0 || errno == EINTR)
		errno = 0;
}

/* The libvirt operations that can carry steps (DESIGN.md §1); every other call is a no-op. */
static bool acts_on(const char *op, const char *subop)
{
	return (!strcmp(op, "prepare") && !strcmp(subop, "begin")) ||
	       (!strcmp(op, "started") && !strcmp(subop, "begin")) ||
	       (!strcmp(op, "release") && !strcmp(subop, "end"));
}

static bool has_journals(const char *state_dir)
{
	DIR *d = opendir(state_dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		found = n > 8 && !strcmp(de->d_name + n - 8, ".journal");
	}
	closedir(d);
	return found;
}

static int exec_worker(char **argv)
{
	char self[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);

	if (n < 0) {
		fprintf(stderr, "hookd: cannot find the hook's own path: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "hookd-apply");
	execv(self, argv);
	fprintf(stderr, "hookd: cannot run %s: %s (reinstall hookd)\n", self, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct hookd_conf conf;
	struct err e;
	char *ini;
	bool run;

	if (argc < 4) {
		fprintf(stderr, "usage: %s VM OPERATION SUB-OPERATION [EXTRA] < domain.xml\n"
				"This is the libvirt QEMU hook of hookd; libvirtd runs it. See hookd(8).\n",
			argv[0]);
		return 2;
	}
	if (!acts_on(argv[2], argv[3])) {
		drain_stdin();
		return 0;
	}
	if (conf_load(getenv("HOOKD_CONF"), false, &conf, &e) < 0) {
		drain_stdin();
		fprintf(stderr, "hookd: %s\n", e.msg);
		return 1;
	}
	ini = conf_vm_ini_path(&conf, argv[1]);
	run = ini && access(ini, F_OK) == 0;
	if (!run && !strcmp(argv[2], "release"))
		run = has_journals(conf.state_dir);
	free(ini);
	conf_free(&conf);
	if (!run) {
		drain_stdin();
		return 0;
	}
	return exec_worker(argv);
}
