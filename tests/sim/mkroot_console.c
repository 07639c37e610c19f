/* sim-mkroot-console: adds the console side of a single-GPU host to a fixture root.
 *
 *   sim-mkroot-console ROOT
 *
 * Virtual terminal consoles as /sys/class/vtconsole shows them on an EFI host: vtcon0 the
 * "(S) dummy device" (not bound), vtcon1 and vtcon2 bound; and the platform device
 * efi-framebuffer.0 bound to driver efi-framebuffer (driver simple-framebuffer registered, no
 * device). Test-only code: writes under ROOT only. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sim-mkroot-console: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static const char *P(const char *fmt, ...)
{
	static char buf[PATH_MAX];
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", root, rel) >= sizeof(buf))
		die("path too long: %s", rel);
	return buf;
}

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				die("mkdir %s: %s", tmp, strerror(errno));
			*p = '/';
		}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", tmp, strerror(errno));
}

static void put(const char *path, mode_t mode, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0)
		die("%s: %s", path, strerror(errno));
	fchmod(fileno(f), mode);
	fclose(f);
}

static void link_to(const char *target, const char *path)
{
	if (symlink(target, path) < 0)
		die("symlink %s: %s", path, strerror(errno));
}

static void vtcon(int n, const char *name, int bound)
{
	char t[128];

	mkdirs(P("sys/devices/virtual/vtconsole/vtcon%d", n));
	put(P("sys/devices/virtual/vtconsole/vtcon%d/bind", n), 0644, bound ? "1\n" : "0\n");
	put(P("sys/devices/virtual/vtconsole/vtcon%d/name", n), 0444, name);
	snprintf(t, sizeof(t), "../../devices/virtual/vtconsole/vtcon%d", n);
	link_to(t, P("sys/class/vtconsole/vtcon%d", n));
}

static void platform_driver(const char *drv)
{
	mkdirs(P("sys/bus/platform/drivers/%s", drv));
	put(P("sys/bus/platform/drivers/%s/bind", drv), 0200, "");
	put(P("sys/bus/platform/drivers/%s/unbind", drv), 0200, "");
	put(P("sys/bus/platform/drivers/%s/uevent", drv), 0200, "");
}

int main(int argc, char **argv)
{
	const char *fb = "efi-framebuffer.0";

	if (argc != 2 || argv[1][0] != '/' || !realpath(argv[1], root))
		die("usage: sim-mkroot-console /ABS/ROOT");
	mkdirs(P("sys/class/vtconsole"));
	vtcon(0, "(S) dummy device\n", 0);
	vtcon(1, "(M) frame buffer device\n", 1);
	vtcon(2, "(M) second test console\n", 1);
	mkdirs(P("sys/bus/platform/devices"));
	platform_driver("efi-framebuffer");
	platform_driver("simple-framebuffer");
	mkdirs(P("sys/devices/platform/%s", fb));
	put(P("sys/devices/platform/%s/modalias", fb), 0444, "platform:efi-framebuffer\n");
	put(P("sys/devices/platform/%s/driver_override", fb), 0644, "(null)\n");
	link_to("../../../bus/platform/drivers/efi-framebuffer", P("sys/devices/platform/%s/driver", fb));
	link_to("../../../devices/platform/efi-framebuffer.0", P("sys/bus/platform/devices/%s", fb));
	link_to("../../../../devices/platform/efi-framebuffer.0", P("sys/bus/platform/drivers/efi-framebuffer/%s", fb));
	return 0;
}
