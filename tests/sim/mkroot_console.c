/* sim-mkroot-console: adds the console side of a single-GPU host to a fixture root.
 *
 *   sim-mkroot-console ROOT
 *
 * Virtual terminal consoles as /sys/class/vtconsole shows them on an EFI host: vtcon0 the
 * "(S) dummy device" (not bound), vtcon1 and vtcon2 bound; and the platform device
 * efi-framebuffer.0 bound to driver efi-framebuffer (driver simple-framebuffer registered, no
 * device). Test-only code: writes under ROOT only. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture_fs.h"

static char root[PATH_MAX];

static void vtcon(int n, const char *name, int bound)
{
	char t[128];

	fx_mkdirs(fx_path("sys/devices/virtual/vtconsole/vtcon%d", n));
	fx_put(fx_path("sys/devices/virtual/vtconsole/vtcon%d/bind", n), 0644, "%d\n", bound ? 1 : 0);
	fx_put(fx_path("sys/devices/virtual/vtconsole/vtcon%d/name", n), 0444, "%s", name);
	snprintf(t, sizeof(t), "../../devices/virtual/vtconsole/vtcon%d", n);
	fx_link(t, fx_path("sys/class/vtconsole/vtcon%d", n));
}

static void platform_driver(const char *drv)
{
	fx_mkdirs(fx_path("sys/bus/platform/drivers/%s", drv));
	fx_put(fx_path("sys/bus/platform/drivers/%s/bind", drv), 0200, "%s", "");
	fx_put(fx_path("sys/bus/platform/drivers/%s/unbind", drv), 0200, "%s", "");
	fx_put(fx_path("sys/bus/platform/drivers/%s/uevent", drv), 0200, "%s", "");
}

int main(int argc, char **argv)
{
	const char *fb = "efi-framebuffer.0";

	fx_init("sim-mkroot-console", root); /* realpath fills root in */
	if (argc != 2 || argv[1][0] != '/' || !realpath(argv[1], root))
		fx_die("usage: sim-mkroot-console /ABS/ROOT");
	fx_mkdirs(fx_path("sys/class/vtconsole"));
	vtcon(0, "(S) dummy device\n", 0);
	vtcon(1, "(M) frame buffer device\n", 1);
	vtcon(2, "(M) second test console\n", 1);
	fx_mkdirs(fx_path("sys/bus/platform/devices"));
	platform_driver("efi-framebuffer");
	platform_driver("simple-framebuffer");
	fx_mkdirs(fx_path("sys/devices/platform/%s", fb));
	fx_put(fx_path("sys/devices/platform/%s/modalias", fb), 0444, "platform:efi-framebuffer\n");
	fx_put(fx_path("sys/devices/platform/%s/driver_override", fb), 0644, "(null)\n");
	fx_link("../../../bus/platform/drivers/efi-framebuffer", fx_path("sys/devices/platform/%s/driver", fb));
	fx_link("../../../devices/platform/efi-framebuffer.0", fx_path("sys/bus/platform/devices/%s", fb));
	fx_link("../../../../devices/platform/efi-framebuffer.0",
		fx_path("sys/bus/platform/drivers/efi-framebuffer/%s", fb));
	return 0;
}
