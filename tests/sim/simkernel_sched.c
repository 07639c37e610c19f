/* Part of libsimkernel.so (see simkernel.c): CPU affinity of threads, for [pin].
 * With HOOKD_SIM_ROOT set, sched_setaffinity(tid) and sched_getaffinity(tid) act on the fixture's
 * <root>/proc/<pid>/task/<tid>/status (Cpus_allowed, Cpus_allowed_list), the pid being the one
 * whose task directory holds tid. They NEVER reach the real kernel then: a tid that is not in the
 * fixture is ESRCH (sched_getaffinity(0), the caller's own mask, is the one read passed through).
 * Like kernel/sched/core.c, the mask is cut to the possible CPUs (sys/devices/system/cpu/possible)
 * and an empty result is EINVAL. Faults: .sim/faults/<tid>.refuse_affinity -> EINVAL. Every
 * sched_setaffinity counts toward .sim/write_count and .sim/faults/crash_at like a store. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define MAXCPU 1024

static char sroot[PATH_MAX / 2]; /* half: every path built below it fits in PATH_MAX */
static bool sactive;
static pthread_once_t sonce = PTHREAD_ONCE_INIT;

static void sinit(void)
{
	const char *env = getenv("HOOKD_SIM_ROOT");

	if (!env || env[0] != '/')
		return;
	char real[PATH_MAX];
	sactive = true; /* even when the root does not resolve: then every tid is ESRCH */
	if (!realpath(env, real) || strlen(real) >= sizeof(sroot))
		snprintf(real, sizeof(real), "/nonexistent");
	memcpy(sroot, real, strlen(real) + 1);
}

static bool sim_on(void)
{
	pthread_once(&sonce, sinit);
	return sactive;
}

static void sread(const char *path, char *out, size_t size)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, size - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
}

/* libc's write, not the shim's: the other simulator hooks in write(2) take .sim/lock, held here. */
static ssize_t raw_write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	return real(fd, buf, n);
}

static int swrite(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = raw_write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -EIO;
}

/* "0-3,8" -> bits; false on a malformed list. */
static bool parse_list(const char *s, bool *bits)
{
	memset(bits, 0, MAXCPU * sizeof(*bits));
	while (*s && *s != '\n') {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s)
			return false;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s)
				return false;
		}
		for (unsigned long c = lo; c <= hi && c < MAXCPU; c++)
			bits[c] = true;
		s = *end == ',' ? end + 1 : end;
	}
	return true;
}

static void format_list(const bool *bits, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned c = 0; c < MAXCPU; c++) {
		if (!bits[c])
			continue;
		unsigned hi = c;
		while (hi + 1 < MAXCPU && bits[hi + 1])
			hi++;
		int n = hi == c ? snprintf(out + used, size - used, "%s%u", used ? "," : "", c)
				: snprintf(out + used, size - used, "%s%u-%u", used ? "," : "", c, hi);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
		c = hi;
	}
}

/* The kernel's %*pb: hex, 32-bit groups separated by commas, as wide as the possible CPUs. */
static void format_mask(const bool *bits, unsigned ncpu, char *out, size_t size)
{
	unsigned groups = (ncpu + 31) / 32, used = 0;
	for (unsigned g = groups; g-- > 0;) {
		unsigned v = 0, width = g == groups - 1 && ncpu % 32 ? (ncpu % 32 + 3) / 4 : 8;
		for (unsigned b = 0; b < 32; b++)
			if (g * 32 + b < MAXCPU && bits[g * 32 + b])
				v |= 1u << b;
		used += (unsigned)snprintf(out + used, size - used, "%s%0*x", g == groups - 1 ? "" : ",", (int)width,
					   v);
		if (used >= size)
			return;
	}
}

/* <root>/proc/<pid>/task/<tid>/status for tid; false when the fixture has no such thread. */
static bool status_path(pid_t tid, char *out)
{
	char dir[PATH_MAX / 2 + 8];
	snprintf(dir, sizeof(dir), "%s/proc", sroot);
	DIR *d = opendir(dir);
	if (!d || tid <= 0) {
		if (d)
			closedir(d);
		return false;
	}
	struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(out, PATH_MAX, "%s/%s/task/%d/status", dir, e->d_name, (int)tid);
		found = access(out, F_OK) == 0;
	}
	closedir(d);
	return found;
}

static bool fault(pid_t tid, const char *what)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/.sim/faults/%d.%s", sroot, (int)tid, what);
	return access(p, F_OK) == 0;
}

/* Replaces the value of "Key:\t..." in a status text. */
static void set_field(char *status, size_t size, const char *key, const char *value)
{
	char *l = strstr(status, key), rest[8192];
	if (!l)
		return;
	char *eol = strchr(l, '\n');
	snprintf(rest, sizeof(rest), "%s", eol ? eol : "");
	snprintf(l, size - (size_t)(l - status), "%s\t%s%s", key, value, rest);
}

/* Counts a store; the crash_at fault kills the caller's process group right after it. */
static void count_store(bool after)
{
	char p[PATH_MAX], cnt[32];
	static long count;
	if (after) {
		snprintf(p, sizeof(p), "%s/.sim/faults/crash_at", sroot);
		sread(p, cnt, sizeof(cnt));
		if (strtol(cnt, NULL, 10) > 0 && count == strtol(cnt, NULL, 10))
			kill(0, SIGKILL);
		return;
	}
	snprintf(p, sizeof(p), "%s/.sim/write_count", sroot);
	sread(p, cnt, sizeof(cnt));
	count = strtol(cnt, NULL, 10) + 1;
	snprintf(cnt, sizeof(cnt), "%ld\n", count);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!raw_write(fd, cnt, strlen(cnt));
		close(fd);
	}
}

static int sim_set(pid_t tid, size_t size, const cpu_set_t *mask)
{
	static bool want[MAXCPU], possible[MAXCPU];
	char path[PATH_MAX], p[PATH_MAX], buf[8192], list[4096], hex[512];
	unsigned ncpu = 0;
	bool any = false;

	if (!status_path(tid, path))
		return -ESRCH;
	snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/possible", sroot);
	sread(p, buf, sizeof(buf));
	if (!parse_list(buf, possible))
		return -EINVAL;
	for (unsigned c = 0; c < MAXCPU; c++) {
		want[c] = possible[c] && c < size * 8 && CPU_ISSET_S(c, size, mask);
		any |= want[c];
		ncpu = possible[c] ? c + 1 : ncpu;
	}
	if (!any || fault(tid, "refuse_affinity"))
		return -EINVAL;
	count_store(false);
	format_list(want, list, sizeof(list));
	format_mask(want, ncpu, hex, sizeof(hex));
	sread(path, buf, sizeof(buf));
	set_field(buf, sizeof(buf), "Cpus_allowed:", hex);
	set_field(buf, sizeof(buf), "Cpus_allowed_list:", list);
	int r = swrite(path, buf);
	count_store(true);
	return r;
}

int sched_setaffinity(pid_t tid, size_t size, const cpu_set_t *mask)
{
	static int (*real)(pid_t, size_t, const cpu_set_t *);
	if (!sim_on()) {
		if (!real)
			*(void **)&real = dlsym(RTLD_NEXT, "sched_setaffinity");
		return real(tid, size, mask);
	}
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/.sim/lock", sroot);
	int lock = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock >= 0)
		flock(lock, LOCK_EX);
	int r = sim_set(tid, size, mask);
	if (lock >= 0)
		close(lock);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

int sched_getaffinity(pid_t tid, size_t size, cpu_set_t *mask)
{
	static int (*real)(pid_t, size_t, cpu_set_t *);
	static __thread bool bits[MAXCPU];
	char path[PATH_MAX], buf[8192];

	if (!sim_on() || tid == 0) {
		if (!real)
			*(void **)&real = dlsym(RTLD_NEXT, "sched_getaffinity");
		return real(tid, size, mask);
	}
	if (!status_path(tid, path)) {
		errno = ESRCH;
		return -1;
	}
	sread(path, buf, sizeof(buf));
	const char *l = strstr(buf, "Cpus_allowed_list:");
	if (!l || !parse_list(l + strlen("Cpus_allowed_list:") + 1, bits)) {
		errno = EINVAL;
		return -1;
	}
	CPU_ZERO_S(size, mask);
	for (unsigned c = 0; c < MAXCPU && c < size * 8; c++)
		if (bits[c])
			CPU_SET_S(c, size, mask);
	return 0;
}
