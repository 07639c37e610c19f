/* Test helper: run a daemonizing program as our child and reap every orphan it leaves.
 *
 * libvirtd -d double-forks, so its QEMU children are re-parented to PID 1. On machines
 * whose PID 1 reaps late, libvirt's destroy polls kill(pid, 0) on a zombie for ~1.5 s.
 * Being the child subreaper makes the daemon (and QEMU) our descendants, reaped at once.
 * Exits when no descendant is left. */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PROGRAM [ARG...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		perror("prctl(PR_SET_CHILD_SUBREAPER)"); /* still run the daemon, just slower */
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	for (;;)
		if (wait(NULL) < 0 && errno == ECHILD)
			return 0;
}
