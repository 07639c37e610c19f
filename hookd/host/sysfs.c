#include "sysfs.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "spawn_prog.h"

char *sysfs_path(const char *root, const char *fmt, ...)
{
	_cleanup_free_ char *abs = NULL;
	size_t n = strlen(root);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&abs, fmt, ap) < 0)
		abs = NULL;
	va_end(ap);
	if (!abs)
		abort();
	while (n > 0 && root[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, root, abs);
}

bool sysfs_exists(const char *root, const char *abs)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);

	return access(p, F_OK) == 0;
}

int sysfs_read(const char *root, const char *abs, char **out)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t len;
	int r;

	if (fd < 0)
		return -errno;
	r = read_all_fd(fd, 1 << 20, &buf, &len);
	if (r < 0)
		return r;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	*out = buf;
	return 0;
}

int sysfs_read_bin(const char *root, const char *abs, size_t max, char **out, size_t *len)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return read_all_fd(fd, max, out, len);
}

int sysfs_meminfo_field(const char *root, const char *file, const char *field, unsigned long long *out)
{
	_cleanup_free_ char *s = NULL;
	const char *f;
	int r = sysfs_read(root, file, &s);

	if (r < 0)
		return r;
	f = strstr(s, field);
	if (!f)
		return -ENOENT;
	f += strlen(field);
	while (*f == ' ' || *f == '\t')
		f++;
	return sscanf(f, "%llu", out) == 1 ? 0 : -EINVAL;
}

bool sysfs_same_file(const char *root, const char *a, const char *b)
{
	_cleanup_free_ char *pa = sysfs_path(root, "%s", a), *pb = sysfs_path(root, "%s", b);
	struct stat sa, sb;

	return stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int write_value(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t w;

	if (fd < 0)
		return -errno;
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

int sysfs_write(const char *root, const char *abs, const char *value)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);

	return write_value(p, value);
}

int sysfs_write_uint(const char *root, const char *abs, unsigned long long v, struct err *e)
{
	char val[32];
	int r;

	snprintf(val, sizeof(val), "%llu", v);
	r = sysfs_write(root, abs, val);
	if (r < 0)
		return err_set(e, r, "cannot write %s to %s: %s", val, abs, strerror(-r));
	return 0;
}

int sysfs_write_bounded(const char *root, const char *abs, const char *value, unsigned timeout_ms)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);
	int status, r;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		r = write_value(p, value);
		_exit(r < 0 ? (-r & 0x7f) : 0);
	}
	r = spawn_wait(pid, now_ms() + timeout_ms, NULL, 0, NULL, NULL, &status);
	if (r == -ETIMEDOUT) {
		/* A task stuck in the kernel may not even die of SIGKILL: abandon it, never wait for it. */
		kill(pid, SIGKILL);
		return r;
	}
	if (r < 0)
		return r;
	if (WIFEXITED(status))
		return -WEXITSTATUS(status);
	return -EINTR;
}

int sysfs_readlink(const char *root, const char *abs, char **target)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);
	char buf[4096];
	ssize_t n = readlink(p, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*target = xstrdup(buf);
	return 0;
}

int sysfs_link_name(const char *root, const char *abs, char **out)
{
	_cleanup_free_ char *target = NULL;
	const char *base;
	int r = sysfs_readlink(root, abs, &target);

	if (r < 0)
		return r;
	base = strrchr(target, '/');
	*out = xstrdup(base ? base + 1 : target);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sysfs_list(const char *root, const char *abs, char ***names, size_t *n)
{
	_cleanup_free_ char *p = sysfs_path(root, "%s", abs);
	DIR *d = opendir(p);
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

void sysfs_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

bool sysfs_kernel_calls_allowed(const char *root)
{
	const char *sim = getenv("HOOKD_SIM_ROOT");

	if (strcmp(root, "/") == 0)
		return true;
	/* The variable alone is not enough: the simulator must really be loaded in this process. */
	return sim && sim[0] == '/' && strcmp(sim, root) == 0 &&
	       dlsym(RTLD_DEFAULT, "hookd_simkernel_intercepts") != NULL;
}

struct exists_wait {
	const char *root, *abs;
	bool want;
};

static bool exists_is(void *arg)
{
	const struct exists_wait *w = arg;

	return sysfs_exists(w->root, w->abs) == w->want;
}

int sysfs_wait_exists(const char *root, const char *abs, bool want, unsigned timeout_ms)
{
	struct exists_wait w = { root, abs, want };

	return sysfs_wait(exists_is, &w, timeout_ms);
}

int sysfs_wait(bool (*cond)(void *arg), void *arg, unsigned timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	long interval_us = 200;

	for (;;) {
		struct timespec ts;

		if (cond(arg))
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		ts.tv_sec = 0;
		ts.tv_nsec = interval_us * 1000;
		nanosleep(&ts, NULL);
		if (interval_us < 20000)
			interval_us *= 2;
	}
}
