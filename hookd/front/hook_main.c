/* The libvirt hook, /etc/libvirt/hooks/qemu -> /usr/sbin/hookd-qemu:  qemu VM OP SUBOP EXTRA
 * with the domain XML on stdin. Most calls concern VMs without an INI file, so this front links only
 * libc and (static) inih and decides cheaply; real work is done by hookd-apply, exec'd beside it with
 * the same argv and the untouched stdin. Nothing is ever written to stdout: for migrate and restore
 * libvirt reads stdout as a replacement XML. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "conf.h"
#include "journal_files.h"
#include "trust.h"

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
	       (!strcmp(op, "started") && !strcmp(subop, "begin")) || (!strcmp(op, "release") && !strcmp(subop, "end"));
}

/* hookd-apply, beside this executable (resolved through /proc/self/exe, so symlinks work). */
static int worker_path(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 32);
	char *slash;

	if (n < 0) {
		fprintf(stderr, "hookd: cannot find the hook's own path: %s\n", strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	strcpy(slash ? slash + 1 : buf, "hookd-apply");
	return 0;
}

static int exec_worker(char **argv)
{
	char self[4096];

	if (worker_path(self, sizeof(self)) < 0)
		return 1;
	execv(self, argv);
	fprintf(stderr, "hookd: cannot run %s: %s (reinstall hookd)\n", self, strerror(errno));
	return 1;
}

/* Runs path with argv (argv[0] replaced) and stdin read from the start of fd; returns its status. */
static int run_with_stdin(const char *path, char **argv, int fd)
{
	int status;
	pid_t pid;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		dup2(fd, STDIN_FILENO);
		argv[0] = (char *)path;
		execv(path, argv);
		fprintf(stderr, "hookd: cannot run the chained hook %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* `hookd install --chain` kept the previous hook: it runs after hookd's own steps, for every call,
 * with the same argv and the same stdin; its stdout is passed through (libvirt may read it). */
static int run_chained(const char *chain, bool run, char **argv)
{
	char worker[4096], buf[65536];
	int fd = memfd_create("hookd-stdin", MFD_CLOEXEC), rc = 0;
	size_t total = 0;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "hookd: memfd_create: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0 && (total += (size_t)n) <= XML_MAX && write(fd, buf, (size_t)n) != n)
			return 1;
	}
	if (total > XML_MAX) {
		fprintf(stderr, "hookd: %s: the domain XML on stdin is %s\n", argv[1], xml_read_strerror(-EFBIG));
		return 1;
	}
	if (run)
		rc = worker_path(worker, sizeof(worker)) < 0 ? 1 : run_with_stdin(worker, argv, fd);
	if (rc == 0)
		rc = run_with_stdin(chain, argv, fd);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct hookd_conf conf;
	struct err e;
	char *ini;
	bool run;

	std_fds_ensure();
	if (argc < 4) {
		fprintf(stderr,
			"usage: %s VM OPERATION SUB-OPERATION [EXTRA] < domain.xml\n"
			"This is the libvirt QEMU hook of hookd; libvirtd runs it. See hookd(8).\n",
			argv[0]);
		return 2;
	}
	if (acts_on(argv[2], argv[3]) && conf_vm_name_check(argv[1], &e) < 0) {
		drain_stdin();
		fprintf(stderr, "hookd: %s\n", e.msg);
		return 1;
	}
	if (conf_load(getenv("HOOKD_CONF"), false, &conf, &e) < 0) {
		drain_stdin();
		fprintf(stderr, "hookd: %s\n", e.msg);
		return 1;
	}
	if (!acts_on(argv[2], argv[3]) && !conf.chain) {
		conf_free(&conf);
		drain_stdin();
		return 0;
	}
	ini = acts_on(argv[2], argv[3]) ? conf_vm_ini_path(&conf, argv[1]) : NULL;
	run = ini && access(ini, F_OK) == 0;
	if (!run && acts_on(argv[2], argv[3]) && !strcmp(argv[2], "release"))
		run = journal_any(conf.state_dir);
	free(ini);
	if (conf.chain) {
		int rc = trust_program(conf.chain, &e) < 0 ? -1 : run_chained(conf.chain, run, argv);

		if (rc < 0) {
			drain_stdin();
			fprintf(stderr, "hookd: refusing to run the chained hook: %s\n", e.msg);
			rc = 1;
		}
		conf_free(&conf);
		return rc;
	}
	conf_free(&conf);
	if (!run) {
		drain_stdin();
		return 0;
	}
	return exec_worker(argv);
}
