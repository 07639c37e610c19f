/* libsimkernel.so: an LD_PRELOAD shim that makes a fixture root (see mkroot.c) react to
 * writes the way the kernel's PCI sysfs does (drivers/pci/pci-sysfs.c, drivers/pci/bus.c,
 * drivers/base/bus.c), in the spirit of libvirt's tests/virpcimock.c.
 *
 * HOOKD_SIM_ROOT=/abs/root selects the root; unset, the shim does nothing. Only files under
 * that root are simulated; with it set, opening a real /sys or /proc path for writing is
 * refused (EPERM), so a product bug can never reach this machine's kernel.
 *
 * Special files (relative to the root), acted on synchronously inside write(2):
 *   sys/devices/.../<bdf>/driver_override   sys/bus/pci/drivers_probe
 *   sys/bus/pci/drivers/<drv>/{bind,unbind,new_id,remove_id}
 * Simulator state lives in <root>/.sim: devices/<bdf>/native, drivers/<drv>/ids (new_id),
 * write_count, lock, and faults/ (<bdf>.stuck_unbind, <bdf>.refuse_bind, crash_at).
 * When <root>/.sim/write_log exists, every write(2) to a file opened under the root (outside .sim)
 * is appended to it as "PATH <- VALUE" (the path as opened, one trailing newline of the value
 * dropped), the form of `hookd plan`'s writes: a test compares what a run wrote with its plan. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum kind { K_NONE, K_OVERRIDE, K_BIND, K_UNBIND, K_NEW_ID, K_REMOVE_ID, K_PROBE };

struct special {
	enum kind kind;
	char arg[64]; /* bdf for K_OVERRIDE, driver name for bind/unbind/new_id/remove_id */
};

#define MAX_FD 16384

static char root[PATH_MAX];
static size_t root_len;
static bool active;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct special fds[MAX_FD];
static char *traced[MAX_FD]; /* the path each fd was opened with, while .sim/write_log exists */
static __thread int in_shim; /* our own file operations pass straight through */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real___openat_2)(int, const char *, int);
static int (*real___openat64_2)(int, const char *, int);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);

static void init(void)
{
	*(void **)&real_open = dlsym(RTLD_NEXT, "open");
	*(void **)&real_open64 = dlsym(RTLD_NEXT, "open64");
	*(void **)&real_openat = dlsym(RTLD_NEXT, "openat");
	*(void **)&real_openat64 = dlsym(RTLD_NEXT, "openat64");
	*(void **)&real___open_2 = dlsym(RTLD_NEXT, "__open_2");
	*(void **)&real___open64_2 = dlsym(RTLD_NEXT, "__open64_2");
	*(void **)&real___openat_2 = dlsym(RTLD_NEXT, "__openat_2");
	*(void **)&real___openat64_2 = dlsym(RTLD_NEXT, "__openat64_2");
	*(void **)&real_fopen = dlsym(RTLD_NEXT, "fopen");
	*(void **)&real_fopen64 = dlsym(RTLD_NEXT, "fopen64");
	*(void **)&real_write = dlsym(RTLD_NEXT, "write");
	*(void **)&real_close = dlsym(RTLD_NEXT, "close");
	*(void **)&real_dup = dlsym(RTLD_NEXT, "dup");
	*(void **)&real_dup2 = dlsym(RTLD_NEXT, "dup2");
	*(void **)&real_dup3 = dlsym(RTLD_NEXT, "dup3");
	const char *env = getenv("HOOKD_SIM_ROOT");
	if (!env || env[0] != '/' || !realpath(env, root) || strcmp(root, "/") == 0)
		return;
	root_len = strlen(root);
	active = true;
}

/* snprintf that never leaves a truncated path behind: too long gives "" (matches nothing). */
static void fmt_into(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
}

static void ensure_init(void)
{
	pthread_once(&once, init);
}

/* ---- small file helpers; all paths are absolute and under the root ---- */

static void rpath(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rpath(char *out, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	fmt_into(out, PATH_MAX, "%s/%s", root, rel);
}

/* Reads a small file, strips one trailing newline; "" when missing. */
static void read_small(const char *path, char *out, size_t size)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, size - 1);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
	size_t len = strlen(out);
	if (len && out[len - 1] == '\n')
		out[len - 1] = '\0';
}

static int write_small(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -EIO;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static bool valid_name(const char *s)
{
	return s[0] && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/') && strlen(s) < 64;
}

/* ---- the device model ---- */

static bool dev_exists(const char *bdf)
{
	char p[PATH_MAX];
	rpath(p, "sys/bus/pci/devices/%s", bdf);
	return valid_name(bdf) && exists(p);
}

static void dev_read(const char *bdf, const char *attr, char *out, size_t size)
{
	char p[PATH_MAX];
	rpath(p, "sys/bus/pci/devices/%s/%s", bdf, attr);
	read_small(p, out, size);
}

/* The driver bdf is bound to, "" when unbound. */
static void dev_driver(const char *bdf, char *out, size_t size)
{
	char p[PATH_MAX], t[PATH_MAX];
	rpath(p, "sys/bus/pci/devices/%s/driver", bdf);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	t[n > 0 ? n : 0] = '\0';
	fmt_into(out, size, "%s", n > 0 ? base_name(t) : "");
}

static void dev_override(const char *bdf, char *out, size_t size)
{
	dev_read(bdf, "driver_override", out, size);
	if (strcmp(out, "(null)") == 0)
		out[0] = '\0';
}

static void dev_group(const char *bdf, char *out, size_t size)
{
	char p[PATH_MAX], t[PATH_MAX];
	rpath(p, "sys/bus/pci/devices/%s/iommu_group", bdf);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	t[n > 0 ? n : 0] = '\0';
	fmt_into(out, size, "%s", n > 0 ? base_name(t) : "");
}

static bool fault(const char *bdf, const char *what)
{
	char p[PATH_MAX];
	rpath(p, ".sim/faults/%s.%s", bdf, what);
	return exists(p);
}

static bool drv_exists(const char *drv)
{
	char p[PATH_MAX];
	struct stat st;
	rpath(p, "sys/bus/pci/drivers/%s", drv);
	return valid_name(drv) && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Is bdf's vendor:device in drv's dynamic id list (new_id)? */
static bool dynid_match(const char *drv, const char *bdf)
{
	char p[PATH_MAX], ids[4096], v[32], d[32], want[32];
	rpath(p, ".sim/drivers/%s/ids", drv);
	read_small(p, ids, sizeof(ids));
	dev_read(bdf, "vendor", v, sizeof(v));
	dev_read(bdf, "device", d, sizeof(d));
	fmt_into(want, sizeof(want), "%04lx %04lx", strtoul(v, NULL, 16), strtoul(d, NULL, 16));
	for (char *line = strtok(ids, "\n"); line; line = strtok(NULL, "\n"))
		if (strcmp(line, want) == 0)
			return true;
	return false;
}

/* pci_match_device(): an override names the only driver that may bind. */
static bool dev_matches(const char *bdf, const char *drv)
{
	char ov[256], native[256], p[PATH_MAX];
	dev_override(bdf, ov, sizeof(ov));
	if (ov[0])
		return strcmp(ov, drv) == 0;
	rpath(p, ".sim/devices/%s/native", bdf);
	read_small(p, native, sizeof(native));
	return strcmp(native, drv) == 0 || dynid_match(drv, bdf);
}

/* The device's path below <root>/sys, e.g. devices/pci0000:00/0000:00:01.0/0000:01:00.0. */
static int dev_sysrel(const char *bdf, char *out, size_t size)
{
	char p[PATH_MAX], real[PATH_MAX];
	rpath(p, "sys/bus/pci/devices/%s", bdf);
	if (!realpath(p, real) || strncmp(real, root, root_len) != 0 || strncmp(real + root_len, "/sys/", 5) != 0)
		return -ENODEV;
	fmt_into(out, size, "%s", real + root_len + 5);
	return 0;
}

static int vfio_group_node(const char *bdf, bool create)
{
	char g[64], p[PATH_MAX];
	dev_group(bdf, g, sizeof(g));
	if (!g[0])
		return 0;
	rpath(p, "dev/vfio/%s", g);
	if (create)
		return exists(p) ? 0 : write_small(p, "");
	/* remove only when no device of the group is left on vfio-pci */
	char gd[PATH_MAX];
	rpath(gd, "sys/kernel/iommu_groups/%s/devices", g);
	DIR *dir = opendir(gd);
	if (dir) {
		struct dirent *e;
		while ((e = readdir(dir))) {
			char drv[256];
			if (e->d_name[0] == '.')
				continue;
			dev_driver(e->d_name, drv, sizeof(drv));
			if (strcmp(drv, "vfio-pci") == 0) {
				closedir(dir);
				return 0;
			}
		}
		closedir(dir);
	}
	unlink(p);
	return 0;
}

static int do_attach(const char *bdf, const char *drv)
{
	char rel[PATH_MAX], up[PATH_MAX] = "", t[PATH_MAX], p[PATH_MAX];
	int r = dev_sysrel(bdf, rel, sizeof(rel));
	if (r < 0)
		return r;
	for (const char *c = rel; c; c = strchr(c + 1, '/'))
		strcat(up, "../");
	fmt_into(t, sizeof(t), "%sbus/pci/drivers/%s", up, drv);
	rpath(p, "sys/%s/driver", rel);
	if (symlink(t, p) < 0)
		return -errno;
	fmt_into(t, sizeof(t), "../../../../%s", rel);
	rpath(p, "sys/bus/pci/drivers/%s/%s", drv, bdf);
	if (symlink(t, p) < 0 && errno != EEXIST)
		return -errno;
	return strcmp(drv, "vfio-pci") == 0 ? vfio_group_node(bdf, true) : 0;
}

static int do_detach(const char *bdf, const char *drv)
{
	char p[PATH_MAX];
	rpath(p, "sys/bus/pci/devices/%s/driver", bdf);
	unlink(p);
	rpath(p, "sys/bus/pci/drivers/%s/%s", drv, bdf);
	unlink(p);
	return strcmp(drv, "vfio-pci") == 0 ? vfio_group_node(bdf, false) : 0;
}

/* bus_rescan_devices_helper(): probe an unbound device; finding no driver is not an error. */
static int probe(const char *bdf)
{
	char cur[256], ov[256], native[256], p[PATH_MAX];
	dev_driver(bdf, cur, sizeof(cur));
	if (cur[0] || fault(bdf, "refuse_bind"))
		return 0;
	dev_override(bdf, ov, sizeof(ov));
	if (ov[0])
		return drv_exists(ov) ? do_attach(bdf, ov) : 0;
	rpath(p, ".sim/devices/%s/native", bdf);
	read_small(p, native, sizeof(native));
	if (native[0] && drv_exists(native))
		return do_attach(bdf, native);
	char dd[PATH_MAX];
	rpath(dd, "sys/bus/pci/drivers");
	DIR *dir = opendir(dd);
	if (!dir)
		return 0;
	struct dirent *e;
	int r = 0;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.' && dynid_match(e->d_name, bdf)) {
			r = do_attach(bdf, e->d_name);
			break;
		}
	closedir(dir);
	return r;
}

static int store_override(const char *bdf, const char *val)
{
	char p[PATH_MAX], content[4200];
	size_t len = strcspn(val, "\n");
	if (len)
		fmt_into(content, sizeof(content), "%.*s\n", (int)len, val);
	else
		fmt_into(content, sizeof(content), "(null)\n");
	rpath(p, "sys/bus/pci/devices/%s/driver_override", bdf);
	return write_small(p, content);
}

static int store_bind(const char *drv, const char *bdf)
{
	char cur[256];
	if (!dev_exists(bdf) || !dev_matches(bdf, drv))
		return -ENODEV;
	dev_driver(bdf, cur, sizeof(cur));
	if (cur[0])
		return -EBUSY;
	if (fault(bdf, "refuse_bind"))
		return -ENODEV;
	return do_attach(bdf, drv);
}

static void block_forever(void)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL); /* like a task in the kernel: only SIGKILL ends it */
	for (;;) {
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
}

static int store_unbind(const char *drv, const char *bdf, int lock_fd)
{
	char cur[256];
	if (!dev_exists(bdf))
		return -ENODEV;
	dev_driver(bdf, cur, sizeof(cur));
	if (strcmp(cur, drv) != 0)
		return -ENODEV;
	if (fault(bdf, "stuck_unbind")) {
		flock(lock_fd, LOCK_UN);
		block_forever();
	}
	return do_detach(bdf, drv);
}

/* new_id / remove_id: "vendor device [subvendor subdevice class class_mask driver_data]", hex. */
static int store_id(const char *drv, const char *val, bool add)
{
	unsigned vendor, device;
	char p[PATH_MAX], ids[4096], line[32], out[4096] = "";
	if (sscanf(val, "%x %x", &vendor, &device) != 2)
		return -EINVAL;
	fmt_into(line, sizeof(line), "%04x %04x", vendor, device);
	rpath(p, ".sim/drivers/%s", drv);
	mkdir(p, 0755);
	rpath(p, ".sim/drivers/%s/ids", drv);
	read_small(p, ids, sizeof(ids));
	bool found = false;
	for (char *l = strtok(ids, "\n"); l; l = strtok(NULL, "\n")) {
		if (strcmp(l, line) == 0) {
			found = true;
			if (!add)
				continue;
		}
		strncat(out, l, sizeof(out) - strlen(out) - 2);
		strcat(out, "\n");
	}
	if (add && found)
		return -EEXIST;
	if (!add)
		return found ? write_small(p, out) : -ENODEV;
	strncat(out, line, sizeof(out) - strlen(out) - 2);
	strcat(out, "\n");
	int r = write_small(p, out);
	if (r < 0)
		return r;
	/* driver_attach(): every unbound device the new id now matches */
	char dd[PATH_MAX];
	rpath(dd, "sys/bus/pci/devices");
	DIR *dir = opendir(dd);
	if (!dir)
		return 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		char cur[256];
		if (e->d_name[0] == '.')
			continue;
		dev_driver(e->d_name, cur, sizeof(cur));
		if (!cur[0] && dev_matches(e->d_name, drv) && !fault(e->d_name, "refuse_bind"))
			do_attach(e->d_name, drv);
	}
	closedir(dir);
	return 0;
}

/* One store, serialised across processes like the kernel's device lock; counts toward crash_at. */
static int sim_store(const struct special *sp, const char *buf, size_t n)
{
	char val[4096], p[PATH_MAX], cnt[32];
	if (n >= sizeof(val))
		return -EINVAL;
	memcpy(val, buf, n);
	val[n] = '\0';
	char arg[64];
	fmt_into(arg, sizeof(arg), "%.*s", (int)strcspn(val, "\n"), val); /* sysfs_streq */

	rpath(p, ".sim/lock");
	int lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd >= 0)
		flock(lock_fd, LOCK_EX);
	rpath(p, ".sim/write_count");
	read_small(p, cnt, sizeof(cnt));
	long count = strtol(cnt, NULL, 10) + 1;
	fmt_into(cnt, sizeof(cnt), "%ld\n", count);
	write_small(p, cnt);
	rpath(p, ".sim/faults/crash_at");
	read_small(p, cnt, sizeof(cnt));
	long crash_at = strtol(cnt, NULL, 10);

	int r;
	switch (sp->kind) {
	case K_OVERRIDE: r = store_override(sp->arg, val); break;
	case K_BIND: r = store_bind(sp->arg, arg); break;
	case K_UNBIND: r = store_unbind(sp->arg, arg, lock_fd); break;
	case K_NEW_ID: r = store_id(sp->arg, val, true); break;
	case K_REMOVE_ID: r = store_id(sp->arg, val, false); break;
	case K_PROBE: r = dev_exists(arg) ? probe(arg) : -ENODEV; break;
	default: r = -EINVAL;
	}
	if (lock_fd >= 0)
		close(lock_fd);
	if (crash_at > 0 && count == crash_at)
		kill(0, SIGKILL);
	return r;
}

/* ---- path classification ---- */

/* Absolute, symlink-free form of path as seen from dirfd (the file itself may not exist yet). */
static void resolve(int dirfd, const char *path, char *out)
{
	char abs[PATH_MAX * 2], dir[PATH_MAX] = "";
	if (path[0] == '/')
		fmt_into(abs, sizeof(abs), "%s", path);
	else {
		if (dirfd == AT_FDCWD) {
			if (!getcwd(dir, sizeof(dir)))
				dir[0] = '\0';
		} else {
			char link[64];
			fmt_into(link, sizeof(link), "/proc/self/fd/%d", dirfd); /* read-only look at our own fd */
			ssize_t n = readlink(link, dir, sizeof(dir) - 1);
			dir[n > 0 ? n : 0] = '\0';
		}
		fmt_into(abs, sizeof(abs), "%s/%s", dir, path);
	}
	if (realpath(abs, out))
		return;
	char *slash = strrchr(abs, '/');
	if (slash && slash != abs) {
		*slash = '\0';
		char parent[PATH_MAX];
		if (realpath(abs, parent)) {
			fmt_into(out, PATH_MAX, "%s/%s", strcmp(parent, "/") ? parent : "", slash + 1);
			return;
		}
		*slash = '/';
	}
	fmt_into(out, PATH_MAX, "%s", abs);
}

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static enum kind classify(const char *real, char *arg)
{
	if (!under(real, root))
		return K_NONE;
	const char *rel = real + root_len;
	if (strcmp(rel, "/sys/bus/pci/drivers_probe") == 0)
		return K_PROBE;
	static const struct {
		const char *name;
		enum kind kind;
	} drv_files[] = {
		{ "bind", K_BIND }, { "unbind", K_UNBIND }, { "new_id", K_NEW_ID }, { "remove_id", K_REMOVE_ID }
	};
	if (strncmp(rel, "/sys/bus/pci/drivers/", 21) == 0) {
		const char *drv = rel + 21, *slash = strchr(drv, '/');
		if (!slash || (size_t)(slash - drv) >= 64 || strchr(slash + 1, '/'))
			return K_NONE;
		for (size_t i = 0; i < sizeof(drv_files) / sizeof(drv_files[0]); i++)
			if (strcmp(slash + 1, drv_files[i].name) == 0) {
				fmt_into(arg, 64, "%.*s", (int)(slash - drv), drv);
				return drv_files[i].kind;
			}
		return K_NONE;
	}
	const char *last = strrchr(rel, '/');
	if (strncmp(rel, "/sys/devices/", 13) == 0 && strcmp(last, "/driver_override") == 0) {
		const char *b = last;
		while (b > rel && b[-1] != '/')
			b--;
		fmt_into(arg, 64, "%.*s", (int)(last - b), b);
		return K_OVERRIDE;
	}
	return K_NONE;
}

/* Decides before the real open: refuse real kernel paths, keep sysfs' "O_TRUNC means nothing". */
static int pre_open(int dirfd, const char *path, int *flags, struct special *sp)
{
	char real[PATH_MAX];
	sp->kind = K_NONE;
	if (!active || in_shim || !path)
		return 0;
	in_shim++;
	resolve(dirfd, path, real);
	bool writing = (*flags & O_ACCMODE) != O_RDONLY || (*flags & (O_TRUNC | O_CREAT));
	int r = 0;
	if (writing && !under(real, root) && (under(real, "/sys") || under(real, "/proc"))) {
		fprintf(stderr, "simkernel: refusing to open the real %s for writing (HOOKD_SIM_ROOT=%s)\n", real,
			root);
		r = -EPERM;
	} else {
		sp->kind = classify(real, sp->arg);
		if (sp->kind != K_NONE)
			*flags &= ~O_TRUNC;
	}
	in_shim--;
	return r;
}

static void track(int fd, const struct special *sp)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	pthread_mutex_lock(&fd_lock);
	fds[fd] = *sp;
	pthread_mutex_unlock(&fd_lock);
}

static void forget(int fd)
{
	track(fd, &(struct special){ K_NONE, "" });
}

static void copy_fd(int from, int to)
{
	if (to < 0 || to >= MAX_FD)
		return;
	struct special sp = { K_NONE, "" };
	if (from >= 0 && from < MAX_FD)
		sp = fds[from];
	track(to, &sp);
}

/* ---- write trace (.sim/write_log) ---- */

static void trace_open(int fd, int dirfd, const char *path, int flags)
{
	char log[PATH_MAX], sim[PATH_MAX];
	size_t n = strlen(root);

	if (!active || in_shim || fd < 0 || fd >= MAX_FD)
		return;
	free(traced[fd]);
	traced[fd] = NULL;
	if ((flags & O_ACCMODE) == O_RDONLY || dirfd != AT_FDCWD || strncmp(path, root, n) || path[n] != '/')
		return;
	rpath(sim, ".sim/");
	rpath(log, ".sim/write_log");
	if (strncmp(path, sim, strlen(sim)) == 0 || !exists(log))
		return;
	traced[fd] = strdup(path);
}

static void trace_write(int fd, const void *buf, size_t n)
{
	char log[PATH_MAX];

	if (!active || in_shim || fd < 0 || fd >= MAX_FD || !traced[fd])
		return;
	if (n && ((const char *)buf)[n - 1] == '\n')
		n--;
	in_shim++;
	rpath(log, ".sim/write_log");
	int lfd = real_open(log, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (lfd >= 0) {
		dprintf(lfd, "%s <- %.*s\n", traced[fd], (int)n, (const char *)buf);
		real_close(lfd);
	}
	in_shim--;
}

/* ---- interposed libc functions ---- */

#define OPEN_BODY(call)                                                          \
	ensure_init();                                                           \
	struct special sp;                                                       \
	int r = pre_open(dirfd, path, &flags, &sp);                              \
	if (r < 0) {                                                             \
		errno = -r;                                                      \
		return -1;                                                       \
	}                                                                        \
	int fd = call;                                                           \
	trace_open(fd, dirfd, path, flags);                                      \
	if (sp.kind != K_NONE) {                                                 \
		int saved = errno;                                               \
		track(fd, &sp);                                                  \
		errno = saved;                                                   \
	} else if (active && fd >= 0 && fd < MAX_FD && fds[fd].kind != K_NONE) { \
		forget(fd);                                                      \
	}                                                                        \
	return fd

static mode_t va_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = va_mode(flags, ap);
	va_end(ap);
	int dirfd = AT_FDCWD;
	OPEN_BODY(real_open(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = va_mode(flags, ap);
	va_end(ap);
	int dirfd = AT_FDCWD;
	OPEN_BODY(real_open64(path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = va_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(real_openat(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = va_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(real_openat64(dirfd, path, flags, mode));
}

/* _FORTIFY_SOURCE's open entry points: glibc exports them but declares them in no header. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
	int dirfd = AT_FDCWD;
	OPEN_BODY(real___open_2(path, flags));
}

int __open64_2(const char *path, int flags)
{
	int dirfd = AT_FDCWD;
	OPEN_BODY(real___open64_2(path, flags));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	OPEN_BODY(real___openat_2(dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	OPEN_BODY(real___openat64_2(dirfd, path, flags));
}

ssize_t write(int fd, const void *buf, size_t n)
{
	ensure_init();
	trace_write(fd, buf, n);
	/* CPU files (cgroup cpuset, IRQ affinity, governors): tests/sim/simkernel_cpus.c */
	extern bool simkernel_cpus_write(const char *, int, const void *, size_t, ssize_t *) __attribute__((weak));
	ssize_t cpus_ret;
	if (active && !in_shim && fd > 2 && simkernel_cpus_write && simkernel_cpus_write(root, fd, buf, n, &cpus_ret))
		return cpus_ret;
	/* Huge page pools, drop_caches, compact_memory: tests/sim/simkernel_hugepages.c */
	extern int simkernel_hugepages_write(const char *, int, const void *, size_t, ssize_t *) __attribute__((weak));
	if (active && !in_shim && fd > 2 && simkernel_hugepages_write) {
		ssize_t hp_ret;
		in_shim++;
		int hp = simkernel_hugepages_write(root, fd, buf, n, &hp_ret);
		in_shim--;
		if (hp)
			return hp_ret;
	}
	/* vtconsole bind, platform driver bind/unbind: tests/sim/simkernel_console.c */
	extern int simkernel_console_write(const char *, int, const void *, size_t, ssize_t *) __attribute__((weak));
	if (active && !in_shim && fd > 2 && simkernel_console_write) {
		ssize_t con_ret;
		in_shim++;
		int con = simkernel_console_write(root, fd, buf, n, &con_ret);
		in_shim--;
		if (con)
			return con_ret;
	}
	if (!active || in_shim || fd < 0 || fd >= MAX_FD || fds[fd].kind == K_NONE)
		return real_write(fd, buf, n);
	struct special sp = fds[fd];
	in_shim++;
	int r = sim_store(&sp, buf, n);
	in_shim--;
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return (ssize_t)n;
}

int close(int fd)
{
	ensure_init();
	if (fd >= 0 && fd < MAX_FD && traced[fd]) {
		free(traced[fd]);
		traced[fd] = NULL;
	}
	if (active && fd >= 0 && fd < MAX_FD && fds[fd].kind != K_NONE)
		forget(fd);
	return real_close(fd);
}

int dup(int fd)
{
	ensure_init();
	int r = real_dup(fd);
	if (active && r >= 0)
		copy_fd(fd, r);
	return r;
}

int dup2(int fd, int to)
{
	ensure_init();
	int r = real_dup2(fd, to);
	if (active && r >= 0)
		copy_fd(fd, r);
	return r;
}

int dup3(int fd, int to, int flags)
{
	ensure_init();
	int r = real_dup3(fd, to, flags);
	if (active && r >= 0)
		copy_fd(fd, r);
	return r;
}

/* stdio writes go through glibc's internal write, which LD_PRELOAD cannot see: a special file
 * opened with fopen() gets a cookie stream whose flushes are stores. */
struct cookie {
	int fd;
	struct special sp;
};

static ssize_t cookie_read(void *c, char *buf, size_t n)
{
	return read(((struct cookie *)c)->fd, buf, n);
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	struct cookie *ck = c;
	in_shim++;
	int r = sim_store(&ck->sp, buf, n);
	in_shim--;
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return (ssize_t)n;
}

static int cookie_close(void *c)
{
	struct cookie *ck = c;
	int r = real_close(ck->fd);
	free(ck);
	return r;
}

static FILE *sim_fopen(FILE *(*real)(const char *, const char *), const char *path, const char *mode)
{
	int flags = strchr(mode, '+') ? O_RDWR : strchr(mode, 'w') || strchr(mode, 'a') ? O_WRONLY : O_RDONLY;
	if (strchr(mode, 'w'))
		flags |= O_TRUNC;
	struct special sp;
	int r = pre_open(AT_FDCWD, path, &flags, &sp);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (sp.kind == K_NONE)
		return real(path, mode);
	struct cookie *ck = malloc(sizeof(*ck));
	if (!ck)
		return NULL;
	ck->sp = sp;
	ck->fd = real_open(path, (flags & O_ACCMODE) | O_CLOEXEC);
	if (ck->fd < 0) {
		free(ck);
		return NULL;
	}
	FILE *f = fopencookie(ck, mode, (cookie_io_functions_t){ cookie_read, cookie_write, NULL, cookie_close });
	if (!f)
		cookie_close(ck);
	return f;
}

FILE *fopen(const char *path, const char *mode)
{
	ensure_init(); /* before real_fopen is read */
	return sim_fopen(real_fopen, path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	ensure_init();
	return sim_fopen(real_fopen64, path, mode);
}

/* hookd asks for this symbol before any kernel call under a simulated root (sysfs_kernel_calls_allowed):
 * module syscalls and sched_setaffinity are intercepted only where this library is loaded. */
__attribute__((visibility("default"))) const int hookd_simkernel_intercepts = 1;
