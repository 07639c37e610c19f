/* sim-mkroot-doctor: adds what `hookd doctor` reads about a host to a fixture root made by sim-mkroot
 * (gpu or dual preset), healthy unless told otherwise:
 *
 *   sim-mkroot-doctor DIR --hook-path PATH [--cpu intel|amd] [--cmdline TEXT] [--no-ir] [--fragmented]
 *                         [--hook ours|foreign|none] [--daemon-before-hook] [--no-flr]
 *                         [--kernel RELEASE]
 *
 * /proc/cpuinfo (vendor), /proc/cmdline, /proc/interrupts (IR-PCI-MSI chips unless --no-ir),
 * /proc/buddyinfo (2 GiB free in 4 MiB blocks, or --fragmented: 64 MiB of them), the libvirt hook
 * /etc/libvirt/hooks/qemu -> PATH (an executable stub there) or a foreign script, libvirtd
 * (pid 777: /run/libvirtd.pid, /proc/777/stat, /proc/stat btime) started 100 s after the hook was
 * made (--daemon-before-hook: 300 s before), and the config space of the GPUs 0000:01:00.0 and
 * 0000:05:00.0 (when the preset has it) with a PCI Express capability whose Device Capabilities
 * announce FLR (--no-flr: not for 0000:01:00.0). --kernel sets /proc/sys/kernel/osrelease (default
 * 6.1.0-27-amd64); ZFS is sim-mkroot-zfs's.
 *
 * Test-only code: writes under DIR and nowhere else. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_fs.h"

#define BTIME 1700000000LL
#define HOOK_MTIME (BTIME + 1000)
#define HZ 100

struct opts {
	const char *hook_path, *cpu, *cmdline, *hook;
	bool no_ir, fragmented, daemon_before, no_flr;
	const char *kernel;
};

static void make_proc(const struct opts *o)
{
	bool intel = strcmp(o->cpu, "intel") == 0;

	fx_put(fx_path("proc/cpuinfo"), 0444, "processor\t: 0\nvendor_id\t: %s\nmodel name\t: %s\n",
	       intel ? "GenuineIntel" : "AuthenticAMD", intel ? "Intel(R) Core(TM) i7" : "AMD Ryzen 7");
	fx_put(fx_path("proc/cmdline"), 0444, "%s\n", o->cmdline);
	fx_put(fx_path("proc/interrupts"), 0444,
	       "           CPU0       CPU1\n"
	       "  0:         40          0   %s-IO-APIC    2-edge      timer\n"
	       " 24:       1234          0   %s-PCI-MSI 524288-edge      nvidia\n",
	       o->no_ir ? "" : "IR", o->no_ir ? "" : "IR");
	/* orders 0..10 of 4 KiB pages; the last column counts 4 MiB blocks */
	fx_put(fx_path("proc/buddyinfo"), 0444,
	       "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      2\n"
	       "Node 0, zone    DMA32   1024    512    256    128     64     32     16      8      4      2      %d\n"
	       "Node 0, zone   Normal   4096   2048   1024    512    256    128     64     32     16      8      %d\n",
	       o->fragmented ? 6 : 100, o->fragmented ? 8 : 410);
	fx_put(fx_path("proc/stat"), 0444, "cpu  1 2 3 4\nbtime %lld\nprocesses 900\n", BTIME);
}

static void make_daemon(const struct opts *o)
{
	long long started = o->daemon_before ? HOOK_MTIME - 300 : HOOK_MTIME + 100;

	fx_put(fx_path("run/libvirtd.pid"), 0644, "777\n");
	fx_put(fx_path("proc/777/comm"), 0444, "libvirtd\n");
	fx_put(fx_path("proc/777/stat"), 0444,
	       "777 (libvirtd) S 1 777 777 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 17 0 %lld 1000 100\n",
	       (started - BTIME) * HZ);
}

static void make_hook(const struct opts *o)
{
	char target[4096];
	struct timespec t[2] = { { HOOK_MTIME, 0 }, { HOOK_MTIME, 0 } };

	if (strcmp(o->hook, "none") == 0)
		return;
	fx_mkdirs(fx_path("etc/libvirt/hooks"));
	if (strcmp(o->hook, "foreign") == 0) {
		fx_put(fx_path("etc/libvirt/hooks/qemu"), 0755, "#!/bin/bash\n# the common qemu.d dispatcher\n");
	} else {
		snprintf(target, sizeof(target), "%s", o->hook_path);
		fx_put(fx_path("%s", target + 1), 0755, "#!/bin/sh\n# stands for hookd's hook\n");
		fx_link(target, fx_path("etc/libvirt/hooks/qemu"));
	}
	if (utimensat(AT_FDCWD, fx_path("etc/libvirt/hooks/qemu"), t, AT_SYMLINK_NOFOLLOW) < 0)
		fx_die("utimensat %s", fx_path("etc/libvirt/hooks/qemu"));
}

/* 256 bytes: the preset's 64-byte header, the capability-list bit, and a PCI Express capability at 0x40. */
static void make_config(const char *addr, bool flr)
{
	const char *path;
	uint8_t cfg[256] = { 0 };
	uint32_t devcap = 0x10008fc0 & (flr ? ~0u : ~(1u << 28));
	FILE *f;

	if (access(fx_path("sys/bus/pci/devices/%s", addr), F_OK) < 0)
		return;                                        /* not in this preset (dual has no 0000:05:00.0) */
	path = fx_path("sys/bus/pci/devices/%s/config", addr); /* fx_path's buffer is reused */
	f = fopen(path, "rb");
	if (!f || fread(cfg, 1, 64, f) != 64)
		fx_die("cannot read %s (run sim-mkroot first)", path);
	fclose(f);
	cfg[0x06] |= 0x10;
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x10, cfg[0x41] = 0x00, cfg[0x42] = 0x02, cfg[0x43] = 0x00; /* PCIe v2, endpoint */
	for (int i = 0; i < 4; i++)
		cfg[0x44 + i] = (uint8_t)(devcap >> (8 * i));
	fx_write(path, 0644, cfg, sizeof(cfg));
}

int main(int argc, char **argv)
{
	struct opts o = { .cpu = "intel",
			  .cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet intel_iommu=on",
			  .hook = "ours" };

	fx_init("sim-mkroot-doctor", NULL);
	if (argc < 2)
		fx_die("usage: sim-mkroot-doctor DIR --hook-path PATH [options]");
	fx_init("sim-mkroot-doctor", argv[1]);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--hook-path") && v)
			o.hook_path = v, i++;
		else if (!strcmp(a, "--cpu") && v)
			o.cpu = v, i++;
		else if (!strcmp(a, "--cmdline") && v)
			o.cmdline = v, i++;
		else if (!strcmp(a, "--hook") && v)
			o.hook = v, i++;
		else if (!strcmp(a, "--no-ir"))
			o.no_ir = true;
		else if (!strcmp(a, "--fragmented"))
			o.fragmented = true;
		else if (!strcmp(a, "--daemon-before-hook"))
			o.daemon_before = true;
		else if (!strcmp(a, "--kernel") && v)
			o.kernel = v, i++;
		else if (!strcmp(a, "--no-flr"))
			o.no_flr = true;
		else
			fx_die("unknown option %s", a);
	}
	if (!o.hook_path || o.hook_path[0] != '/')
		fx_die("--hook-path PATH (absolute) is required");
	make_proc(&o);
	make_daemon(&o);
	fx_put(fx_path("proc/sys/kernel/osrelease"), 0444, "%s\n", o.kernel ? o.kernel : "6.1.0-27-amd64");
	make_hook(&o);
	make_config("0000:01:00.0", !o.no_flr);
	make_config("0000:05:00.0", true);
	return 0;
}
