/* sim-mkroot-hostdeps: gives the host of a fixture root made by sim-mkroot (gpu preset) disks and a
 * network it depends on, for [vfio]'s "never take what the host needs":
 *
 *   sim-mkroot-hostdeps DIR [--idle] [--unit PID:UNIT]
 *
 * 0000:04:00.0 (SATA, ahci) has disk sda: sda1 mounted at /, sda2 active swap. 0000:03:00.0 (USB,
 * xhci) has disk sdb whose sdb1 is held by dm-0 (/dev/mapper/vg-home), mounted at /home.
 * 0000:02:00.0 (e1000e) is interface eno1, with the default route and a global IPv6 address.
 * --idle: the same devices, but nothing mounted, no swap, no routes or addresses.
 * --unit PID:UNIT: /proc/PID/cgroup puts that process in system.slice/UNIT (cgroup v2).
 *
 * Test-only code: writes under DIR and nowhere else. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_fs.h"

/* A block device at sys/DEVPATH/block/NAME (and /sys/class/block/NAME), dev numbers maj:min. */
static void block(const char *devpath, const char *name, const char *parent, int maj, int min)
{
	char dir[512], up[sizeof(dir) + 8] = "../..";

	if (parent)
		snprintf(dir, sizeof(dir), "%s/block/%s/%s", devpath, parent, name);
	else
		snprintf(dir, sizeof(dir), "%s/block/%s", devpath, name);
	fx_mkdirs(fx_path("sys/%s/holders", dir));
	fx_put(fx_path("sys/%s/dev", dir), 0444, "%d:%d\n", maj, min);
	snprintf(up + strlen(up), sizeof(up) - strlen(up), "/%s", dir);
	fx_mkdirs(fx_path("sys/class/block"));
	fx_link(up, fx_path("sys/class/block/%s", name));
	fx_put(fx_path("dev/%s", name), 0660, "%s", "");
}

static void make_disks(void)
{
	const char *sata = "devices/pci0000:00/0000:04:00.0/ata1/host0/target0:0:0/0:0:0:0";
	const char *usb = "devices/pci0000:00/0000:03:00.0/usb2/2-1/2-1:1.0/host1/target1:0:0/1:0:0:0";

	block(sata, "sda", NULL, 8, 0);
	block(sata, "sda1", "sda", 8, 1);
	block(sata, "sda2", "sda", 8, 2);
	block(usb, "sdb", NULL, 8, 16);
	block(usb, "sdb1", "sdb", 8, 17);
	block("devices/virtual", "dm-0", NULL, 254, 0);
	/* from sys/USB/block/sdb/sdb1/holders: up to sys/devices, then to the dm device */
	char t[512] = "";
	for (const char *p = usb; *p; p++)
		if (*p == '/')
			strcat(t, "../");
	strcat(t, "../../../../virtual/block/dm-0");
	fx_link(t, fx_path("sys/%s/block/sdb/sdb1/holders/dm-0", usb));
	fx_mkdirs(fx_path("dev/mapper"));
	fx_link("../dm-0", fx_path("dev/mapper/vg-home"));
}

static void make_proc(bool idle)
{
	fx_put(fx_path("proc/self/mountinfo"), 0444,
	       "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
	       "23 1 0:22 / /sys rw,nosuid - sysfs sysfs rw\n%s",
	       idle ? ""
		    : "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
		      "25 24 254:0 / /home rw,relatime shared:2 - ext4 /dev/mapper/vg-home rw\n");
	fx_put(fx_path("proc/swaps"), 0444, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n%s",
	       idle ? "" : "/dev/sda2                               partition\t2097148\t\t0\t\t-2\n");
	fx_put(fx_path("proc/net/route"), 0444,
	       "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n%s",
	       idle ? ""
		    : "eno1\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
		      "eno1\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n");
	fx_put(fx_path("proc/net/ipv6_route"), 0444, "%s",
	       idle ? ""
		    : "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eno1\n");
	fx_put(fx_path("proc/net/if_inet6"), 0444, "00000000000000000000000000000001 01 80 10 80       lo\n%s",
	       idle ? "" : "20010db8000000000000000000000010 02 40 00 00     eno1\n");
}

int main(int argc, char **argv)
{
	bool idle = false;

	fx_init("sim-mkroot-hostdeps", NULL);
	if (argc < 2 || argv[1][0] != '/')
		fx_die("usage: sim-mkroot-hostdeps /ABS/DIR [--idle] [--unit PID:UNIT]");
	fx_init("sim-mkroot-hostdeps", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--idle")) {
			idle = true;
		} else if (!strcmp(argv[i], "--unit") && i + 1 < argc) {
			const char *v = argv[++i], *colon = strchr(v, ':');

			if (!colon)
				fx_die("--unit PID:UNIT, not %s", v);
			fx_put(fx_path("proc/%.*s/cgroup", (int)(colon - v), v), 0444, "0::/system.slice/%s\n",
			       colon + 1);
		} else {
			fx_die("unknown option %s", argv[i]);
		}
	}
	make_disks();
	fx_mkdirs(fx_path("sys/devices/pci0000:00/0000:02:00.0/net/eno1"));
	fx_put(fx_path("sys/devices/pci0000:00/0000:02:00.0/net/eno1/operstate"), 0444, "up\n");
	make_proc(idle);
	return 0;
}
