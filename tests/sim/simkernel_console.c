/* The simulated kernel's console files (part of libsimkernel.so; fixture: mkroot_console.c).
 *
 *   sys/devices/virtual/vtconsole/vtcon<N>/bind   (reached through sys/class/vtconsole/vtcon<N>)
 *       "0" unbinds, anything else binds; the write always succeeds, like drivers/tty/vt/vt.c's
 *       store_bind, which ignores what vt_bind/vt_unbind return. .sim/faults/vtcon<N>.no_rebind
 *       makes a bind have no effect (fbcon under SeaBIOS, DESIGN.md §6).
 *   sys/bus/platform/drivers/<drv>/{bind,unbind}  <- NAME of a platform device
 *       like drivers/base/bus.c: unbind of a device not bound to drv is ENODEV; bind of a bound
 *       device EBUSY, of a missing one ENODEV.
 * fbcon as the real kernel shows it (tests/vm/guest-console.sh under OVMF): a "frame buffer" vtcon
 * exists only while a platform *framebuffer* device is bound. Unbinding the last one removes the
 * vtcon (kept in .sim/fbcon/ meanwhile); binding one again brings it back, bound (fbcon takes the
 * terminals over by itself). The "(S) dummy device" vtcon is bound exactly when no other is. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void cpath(char *out, const char *root, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cpath(char *out, const char *root, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX)
		out[0] = '\0';
}

static bool exists(const char *p)
{
	struct stat st;

	return p[0] && lstat(p, &st) == 0;
}

static int vt_store(const char *root, int fd, const char *vt, const char *val)
{
	char p[PATH_MAX];
	bool bind = strtoul(val, NULL, 0) != 0;

	cpath(p, root, ".sim/faults/%s.no_rebind%s", vt, "");
	if (bind && exists(p))
		return 0;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, bind ? "1\n" : "0\n", 2, 0) != 2)
		return -EIO;
	return 0;
}

static int platform_store(const char *root, const char *drv, bool bind, const char *name)
{
	char dev[PATH_MAX], link[PATH_MAX], back[PATH_MAX], t[PATH_MAX];
	ssize_t n;

	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -ENODEV;
	cpath(dev, root, "sys/devices/platform/%s%s", name, "");
	cpath(link, root, "sys/devices/platform/%s/driver%s", name, "");
	cpath(back, root, "sys/bus/platform/drivers/%s/%s", drv, name);
	if (!exists(dev))
		return -ENODEV;
	n = readlink(link, t, sizeof(t) - 1);
	t[n > 0 ? n : 0] = '\0';
	const char *cur = n > 0 ? strrchr(t, '/') + 1 : "";
	if (!bind) {
		if (strcmp(cur, drv) != 0)
			return -ENODEV;
		unlink(link);
		unlink(back);
		return 0;
	}
	if (cur[0])
		return -EBUSY;
	snprintf(t, sizeof(t), "../../../bus/platform/drivers/%s", drv);
	if (symlink(t, link) < 0)
		return -errno;
	snprintf(t, sizeof(t), "../../../../devices/platform/%s", name);
	return symlink(t, back) < 0 ? -errno : 0;
}

static bool any_framebuffer_bound(const char *root)
{
	char p[PATH_MAX];
	struct dirent *de;
	bool bound = false;
	DIR *d;

	cpath(p, root, "sys/devices/platform%s", "");
	d = opendir(p);
	while (d && !bound && (de = readdir(d))) {
		cpath(p, root, "sys/devices/platform/%s/driver", de->d_name);
		bound = strstr(de->d_name, "framebuffer") && exists(p);
	}
	if (d)
		closedir(d);
	return bound;
}

static bool name_has(const char *root, const char *vtdir, const char *vt, const char *needle)
{
	char p[PATH_MAX], buf[128] = "";
	FILE *f;

	cpath(p, root, "%s/%s/name", vtdir, vt);
	f = fopen(p, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, needle) != NULL;
}

static void put(const char *path, const char *val)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

/* fbcon's vtcons leave with the last bound framebuffer and come back bound with the first. */
static void fbcon_follow(const char *root)
{
	const char *from = "sys/devices/virtual/vtconsole", *to = ".sim/fbcon";
	bool fb = any_framebuffer_bound(root);
	char src[PATH_MAX], dst[PATH_MAX], link[PATH_MAX], t[PATH_MAX];
	struct dirent *de;
	DIR *d;

	cpath(dst, root, "%s", to);
	mkdir(dst, 0755);
	cpath(src, root, "%s", fb ? to : from);
	d = opendir(src);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "vtcon", 5) != 0 || !name_has(root, fb ? to : from, de->d_name, "frame buffer"))
			continue;
		cpath(src, root, "%s/%s", fb ? to : from, de->d_name);
		cpath(dst, root, "%s/%s", fb ? from : to, de->d_name);
		cpath(link, root, "sys/class/vtconsole/%s", de->d_name);
		if (rename(src, dst) < 0)
			continue;
		if (!fb) {
			unlink(link);
			continue;
		}
		snprintf(t, sizeof(t), "../../devices/virtual/vtconsole/%s", de->d_name);
		if (symlink(t, link) == 0 || errno == EEXIST) {
			cpath(t, root, "%s/%s/bind", from, de->d_name);
			put(t, "1\n");
		}
	}
	if (d)
		closedir(d);
}

/* The dummy console holds the terminals exactly when no other console driver does. */
static void dummy_follow(const char *root)
{
	const char *dir = "sys/devices/virtual/vtconsole";
	char p[PATH_MAX], buf[8], dummy[256] = "";
	bool other = false;
	struct dirent *de;
	DIR *d;
	FILE *f;

	cpath(p, root, "%s", dir);
	d = opendir(p);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "vtcon", 5) != 0)
			continue;
		if (name_has(root, dir, de->d_name, "dummy")) {
			snprintf(dummy, sizeof(dummy), "%s", de->d_name);
			continue;
		}
		cpath(p, root, "%s/%s/bind", dir, de->d_name);
		f = fopen(p, "re");
		if (f && fgets(buf, sizeof(buf), f) && buf[0] == '1')
			other = true;
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	if (dummy[0]) {
		cpath(p, root, "%s/%s/bind", dir, dummy);
		put(p, other ? "0\n" : "1\n");
	}
}

/* Returns 1 when fd is a console file under root (the store is done, *ret set), else 0. */
int simkernel_console_write(const char *root, int fd, const void *buf, size_t len, ssize_t *ret);
int simkernel_console_write(const char *root, int fd, const void *buf, size_t len, ssize_t *ret)
{
	char self[64], path[PATH_MAX], val[256], a[128], b[16];
	size_t rl = strlen(root);
	ssize_t n;
	int r;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, path, sizeof(path) - 1);
	if (n <= 0 || (size_t)n <= rl || strncmp(path, root, rl) != 0 || path[rl] != '/')
		return 0;
	path[n] = '\0';
	const char *rel = path + rl;
	snprintf(val, sizeof(val), "%.*s", (int)(len < sizeof(val) ? len : sizeof(val) - 1), (const char *)buf);
	val[strcspn(val, "\n")] = '\0';
	if (sscanf(rel, "/sys/devices/virtual/vtconsole/%127[^/]/%15s", a, b) == 2 && strcmp(b, "bind") == 0)
		r = vt_store(root, fd, a, val);
	else if (sscanf(rel, "/sys/bus/platform/drivers/%127[^/]/%15s", a, b) == 2 &&
		 (strcmp(b, "bind") == 0 || strcmp(b, "unbind") == 0))
		r = platform_store(root, a, strcmp(b, "bind") == 0, val);
	else
		return 0;
	if (r == 0) {
		fbcon_follow(root);
		dummy_follow(root);
	}
	if (r < 0) {
		errno = -r;
		*ret = -1;
	} else {
		*ret = (ssize_t)len;
	}
	return 1;
}
