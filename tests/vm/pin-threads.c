/* pin-threads N [ACCEL]: a stand-in for QEMU in the guest (tests/vm/guest-pin.sh). The main thread
 * is named "qemu-system-x86"; N threads "CPU n/ACCEL" (ACCEL defaults to KVM) and one "worker"
 * thread, all asleep until the process is killed. Prints "ready PID" once every thread is named. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static pthread_barrier_t named;

static void *sleeper(void *arg)
{
	prctl(PR_SET_NAME, (unsigned long)arg, 0, 0, 0);
	pthread_barrier_wait(&named);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	const char *accel = argc > 2 ? argv[2] : "KVM";

	if (n < 1 || n > 64) {
		fprintf(stderr, "usage: pin-threads N [ACCEL] (1 <= N <= 64)\n");
		return 2;
	}
	prctl(PR_SET_NAME, (unsigned long)"qemu-system-x86", 0, 0, 0);
	pthread_barrier_init(&named, NULL, (unsigned)n + 2);
	for (int i = 0; i <= n; i++) {
		char *name = malloc(16);
		pthread_t t;

		if (i < n)
			snprintf(name, 16, "CPU %d/%s", i, accel);
		else
			snprintf(name, 16, "worker");
		if (pthread_create(&t, NULL, sleeper, name) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	pthread_barrier_wait(&named);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
