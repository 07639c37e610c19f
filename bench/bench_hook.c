/* Times hook invocations the way libvirtd makes them (fork + exec, domain XML on stdin) and prints
 * medians side by side with a bare C program that only drains stdin.
 * usage: bench_hook N XML BARE HOOK CONF VM_CONFIGURED   (see bench/run.sh) */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs argv n times with stdin from xml; returns the median in microseconds (-1 on a failed run). */
static double median_run(int n, const char *xml, char **argv, int want_rc)
{
	double *t = calloc((size_t)n, sizeof(*t)), med;

	for (int i = 0; i < n; i++) {
		posix_spawn_file_actions_t fa;
		int status;
		pid_t pid;
		double t0;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, xml, O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		t0 = now_us();
		if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != want_rc) {
			fprintf(stderr, "bench: %s %s exited abnormally\n", argv[0], argv[1] ? argv[1] : "");
			free(t);
			return -1;
		}
		t[i] = now_us() - t0;
		posix_spawn_file_actions_destroy(&fa);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	med = t[n / 2];
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: %s N XML BARE HOOK CONF CONFIGURED_VM\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[1]);
	char *bare[] = { argv[3], NULL };
	char *unconf[] = { argv[4], "no-such-vm", "prepare", "begin", "-", NULL };
	char *conf_prep[] = { argv[4], argv[6], "prepare", "begin", "-", NULL };
	char *conf_rel[] = { argv[4], argv[6], "release", "end", "-", NULL };
	double b, u, p, r;

	setenv("HOOKD_CONF", argv[5], 1);
	b = median_run(n, argv[2], bare, 0);
	u = median_run(n, argv[2], unconf, 0);
	/* prepare then release, alternating, so each prepare really starts from a released state */
	p = r = 0;
	for (int i = 0; i < n; i++) {
		double pi = median_run(1, argv[2], conf_prep, 0), ri = median_run(1, argv[2], conf_rel, 0);

		if (pi < 0 || ri < 0)
			return 1;
		p += pi / n;
		r += ri / n;
	}
	if (b < 0 || u < 0)
		return 1;
	printf("runs per figure:                 %d\n", n);
	printf("bare C program draining stdin:   %8.1f us (median)\n", b);
	printf("hook, VM without INI (prepare):  %8.1f us (median)  ratio %.2f (target <= 1.30)\n", u, u / b);
	printf("hook, configured prepare:        %8.1f us (mean)    ratio %.2f\n", p, p / b);
	printf("hook, configured release:        %8.1f us (mean)    ratio %.2f\n", r, r / b);
	return 0;
}
