/* The simulated kernel's modules (see simmodules.h), modelled on kernel/module/main.c:
 * load_module() refuses a loaded name (EEXIST) and unresolved symbols (ENOENT), links the module
 * into its dependencies' holders and takes a reference on each; delete_module() refuses a module
 * with holders or references (EWOULDBLOCK, never waiting), and a PCI driver's unregistration
 * unbinds its devices (drivers/base/dd.c). */
#include "simmodules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LIST 16

struct modimage {
	char name[64];
	char deps[MAX_LIST][64];
	char drivers[MAX_LIST][64];
	size_t n_deps, n_drivers;
};

static const char *R; /* the root of the current call */

/* Past the shim's write(): its other handlers take .sim/lock, which this code already holds. */
static ssize_t raw_write(int fd, const void *buf, size_t n)
{
	return syscall(SYS_write, fd, buf, n);
}

static void rp(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp(char *out, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", R, rel) >= PATH_MAX)
		out[0] = '\0';
}

static bool exists(const char *p)
{
	struct stat st;

	return p[0] && lstat(p, &st) == 0;
}

static long read_long(const char *p)
{
	char buf[32] = "";
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	return strtol(buf, NULL, 10);
}

/* Replaces a (read-only) attribute file: unlink and create, so mode 0444 is no obstacle. */
static void put(const char *p, mode_t mode, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(const char *p, mode_t mode, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return;
	if (n > 0 && raw_write(fd, buf, (size_t)n) < 0)
		n = 0;
	fchmod(fd, mode);
	close(fd);
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char p[PATH_MAX], buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf) - 1)
		return;
	buf[n++] = '\n';
	rp(p, ".sim/module_log");
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (raw_write(fd, buf, (size_t)n) < 0)
			n = 0;
		close(fd);
	}
}

static void split(char *v, char out[][64], size_t *n)
{
	for (char *save = NULL, *t = strtok_r(v, ",", &save); t && *n < MAX_LIST; t = strtok_r(NULL, ",", &save))
		if (strlen(t) < 64 && !strchr(t, '/') && t[0] != '.')
			strcpy(out[(*n)++], t);
}

static int parse_image(const char *image, size_t len, struct modimage *m)
{
	char text[4096];

	memset(m, 0, sizeof(*m));
	if (len >= sizeof(text) || len < strlen(SIMMOD_MAGIC) || memcmp(image, SIMMOD_MAGIC, strlen(SIMMOD_MAGIC)))
		return -ENOEXEC;
	memcpy(text, image, len);
	text[len] = '\0';
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "name=", 5) == 0 && strlen(l + 5) < 64)
			strcpy(m->name, l + 5);
		else if (strncmp(l, "depends=", 8) == 0)
			split(l + 8, m->deps, &m->n_deps);
		else if (strncmp(l, "drivers=", 8) == 0)
			split(l + 8, m->drivers, &m->n_drivers);
	}
	return m->name[0] && !strchr(m->name, '/') && m->name[0] != '.' ? 0 : -ENOEXEC;
}

static bool loaded(const char *name)
{
	char p[PATH_MAX];

	rp(p, "sys/module/%s/initstate", name);
	return exists(p);
}

static void add_ref(const char *name, long delta)
{
	char p[PATH_MAX];

	rp(p, "sys/module/%s/refcnt", name);
	put(p, 0444, "%ld\n", read_long(p) + delta);
}

static void read_line(const char *p, char *out, size_t size)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, size - 1) : 0;

	if (fd >= 0)
		close(fd);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* pci_bus_match + really_probe, for a driver just registered: binds every unbound device it matches. */
static void probe_driver(const char *drv)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;

	rp(dir, "sys/bus/pci/devices");
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX], real[PATH_MAX], ov[128], native[128], t[PATH_MAX + 64];

		if (e->d_name[0] == '.')
			continue;
		rp(p, "sys/bus/pci/devices/%s/driver", e->d_name);
		if (exists(p))
			continue;
		rp(p, "sys/bus/pci/devices/%s/driver_override", e->d_name);
		read_line(p, ov, sizeof(ov));
		rp(p, ".sim/devices/%s/native", e->d_name);
		read_line(p, native, sizeof(native));
		bool ovr = ov[0] && strcmp(ov, "(null)") != 0;
		if (strcmp(ovr ? ov : native, drv) != 0)
			continue;
		rp(p, "sys/bus/pci/devices/%s", e->d_name);
		if (!realpath(p, real) || strncmp(real, R, strlen(R)) != 0)
			continue;
		const char *rel = real + strlen(R) + 5; /* below <root>/sys/ */
		char up[PATH_MAX / 2] = "";
		for (const char *c = rel; c; c = strchr(c + 1, '/'))
			strcat(up, "../");
		snprintf(t, sizeof(t), "%sbus/pci/drivers/%s", up, drv);
		rp(p, "sys/%s/driver", rel);
		symlink(t, p);
		snprintf(t, sizeof(t), "../../../../%s", rel);
		rp(p, "sys/bus/pci/drivers/%s/%s", drv, e->d_name);
		symlink(t, p);
	}
	closedir(d);
}

static void register_driver(const char *drv, const char *module)
{
	static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
	char p[PATH_MAX], t[PATH_MAX];

	rp(p, "sys/bus/pci/drivers/%s", drv);
	mkdir(p, 0755);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		rp(p, "sys/bus/pci/drivers/%s/%s", drv, files[i]);
		put(p, 0200, "%s", "");
	}
	snprintf(t, sizeof(t), "../../../../module/%s", module);
	rp(p, "sys/bus/pci/drivers/%s/module", drv);
	symlink(t, p);
	probe_driver(drv);
}

static int insert(const struct modimage *m)
{
	char p[PATH_MAX], t[PATH_MAX];

	rp(p, "sys/module/%s", m->name);
	if (exists(p))
		return -EEXIST; /* loaded, or built in */
	for (size_t i = 0; i < m->n_deps; i++)
		if (!loaded(m->deps[i]))
			return -ENOENT; /* "Unknown symbol" */
	mkdir(p, 0755);
	rp(p, "sys/module/%s/holders", m->name);
	mkdir(p, 0755);
	rp(p, "sys/module/%s/refcnt", m->name);
	put(p, 0444, "0\n");
	rp(p, "sys/module/%s/initstate", m->name);
	put(p, 0444, "live\n");
	for (size_t i = 0; i < m->n_deps; i++) {
		snprintf(t, sizeof(t), "../../%s", m->name);
		rp(p, "sys/module/%s/holders/%s", m->deps[i], m->name);
		symlink(t, p);
		add_ref(m->deps[i], 1);
	}
	for (size_t i = 0; i < m->n_drivers; i++)
		register_driver(m->drivers[i], m->name);
	return 0;
}

static int lock_root(void)
{
	char p[PATH_MAX];
	int fd;

	rp(p, ".sim/lock");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

int simmod_insert(const char *root, const char *image, size_t len)
{
	struct modimage m;
	int r, lock;

	R = root;
	r = parse_image(image, len, &m);
	if (r < 0)
		return r;
	lock = lock_root();
	r = insert(&m);
	log_line(r == 0 ? "insert %s" : "insert %s: refused (%s)", m.name, strerror(-r));
	if (lock >= 0)
		close(lock);
	return r;
}

/* driver_unregister(): every bound device loses its driver, then the driver's directory goes. */
static void unregister_drivers(const char *module)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;

	rp(dir, "sys/bus/pci/drivers");
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX], t[PATH_MAX], ddir[PATH_MAX];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		rp(p, "sys/bus/pci/drivers/%s/module", e->d_name);
		n = readlink(p, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = '\0';
		const char *base = strrchr(t, '/');
		if (n <= 0 || strcmp(base ? base + 1 : t, module) != 0)
			continue;
		rp(ddir, "sys/bus/pci/drivers/%s", e->d_name);
		DIR *dd = opendir(ddir);
		struct dirent *f;
		while (dd && (f = readdir(dd))) {
			if (f->d_name[0] == '.')
				continue;
			if (strchr(f->d_name, ':')) {
				rp(p, "sys/bus/pci/devices/%s/driver", f->d_name);
				unlink(p);
			}
			rp(p, "sys/bus/pci/drivers/%s/%s", e->d_name, f->d_name);
			unlink(p);
		}
		if (dd)
			closedir(dd);
		rmdir(ddir);
	}
	closedir(d);
}

static void drop_dependency_refs(const char *name)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *e;

	rp(dir, "sys/module");
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		rp(p, "sys/module/%s/holders/%s", e->d_name, name);
		if (exists(p)) {
			unlink(p);
			add_ref(e->d_name, -1);
		}
	}
	closedir(d);
}

static int delete (const char *name)
{
	char p[PATH_MAX];
	DIR *d;

	if (!loaded(name))
		return -ENOENT;
	rp(p, "sys/module/%s/holders", name);
	d = opendir(p);
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.') {
			closedir(d);
			return -EWOULDBLOCK;
		}
	if (d)
		closedir(d);
	rp(p, "sys/module/%s/refcnt", name);
	if (read_long(p) > 0)
		return -EWOULDBLOCK;
	unregister_drivers(name);
	drop_dependency_refs(name);
	rp(p, "sys/module/%s/refcnt", name);
	unlink(p);
	rp(p, "sys/module/%s/initstate", name);
	unlink(p);
	rp(p, "sys/module/%s/holders", name);
	rmdir(p);
	rp(p, "sys/module/%s", name);
	return rmdir(p) < 0 ? -errno : 0;
}

int simmod_delete(const char *root, const char *name)
{
	int r, lock;

	R = root;
	if (!name[0] || strchr(name, '/') || name[0] == '.' || strlen(name) >= 64)
		return -ENOENT;
	lock = lock_root();
	r = delete (name);
	log_line(r == 0 ? "delete %s" : "delete %s: refused (%s)", name, strerror(-r));
	if (lock >= 0)
		close(lock);
	return r;
}
