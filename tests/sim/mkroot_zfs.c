/* sim-mkroot-zfs: loads a simulated ZFS module into a fixture root that has /proc/meminfo (run after
 * sim-mkroot-hugepages), in the layout of OpenZFS on Linux; simkernel_hugepages.c reacts to writes
 * of zfs_arc_max as arc_tuning_update() does.
 *
 *   sim-mkroot-zfs DIR [--arc-max BYTES] [--arc-min BYTES] [--version VERSION]
 *
 * /sys/module/zfs/parameters/zfs_arc_max (--arc-max, default 0) and zfs_arc_min (0),
 * /sys/module/zfs/version (default 2.2.2-1), and /proc/spl/kstat/zfs/arcstats with c_min
 * (--arc-min, default the larger of RAM/32 and 32 MiB), c_max (zfs_arc_max when OpenZFS would take
 * it, else the module's default: half of RAM before 2.3, the larger of RAM - 1 GiB and 5/8 of RAM
 * from 2.3) and size (half of c_max). RAM is MemTotal.
 * Test-only code: it writes under DIR and nowhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_fs.h"

static unsigned long long memtotal_bytes(void)
{
	const char *path = fx_path("proc/meminfo");
	unsigned long long kib = 0;
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		fx_die("cannot read %s (run sim-mkroot-hugepages first)", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	fclose(f);
	if (!kib)
		fx_die("no MemTotal in %s", path);
	return kib << 10;
}

int main(int argc, char **argv)
{
	unsigned long long arc_max = 0, c_min = 0, c_max, ram;
	const char *version = "2.2.2-1";
	unsigned major = 2, minor = 2;

	fx_init("sim-mkroot-zfs", NULL);
	if (argc < 2 || argv[1][0] != '/')
		fx_die("usage: sim-mkroot-zfs DIR [--arc-max BYTES] [--arc-min BYTES] [--version VERSION]");
	fx_init("sim-mkroot-zfs", argv[1]);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[++i] : NULL;

		if (!v)
			fx_die("%s needs a value", a);
		if (!strcmp(a, "--arc-max"))
			arc_max = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--arc-min"))
			c_min = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--version"))
			version = v;
		else
			fx_die("unknown option %s", a);
	}
	ram = memtotal_bytes();
	if (!c_min)
		c_min = ram / 32 > (32ULL << 20) ? ram / 32 : 32ULL << 20;
	sscanf(version, "%u.%u", &major, &minor);
	if (major < 2 || (major == 2 && minor < 3))
		c_max = ram / 2;
	else
		c_max = ram > (1ULL << 30) && ram - (1ULL << 30) > ram / 8 * 5 ? ram - (1ULL << 30) : ram / 8 * 5;
	if (arc_max >= (64ULL << 20) && arc_max < ram && arc_max > c_min)
		c_max = arc_max;
	fx_put(fx_path("sys/module/zfs/parameters/zfs_arc_max"), 0644, "%llu\n", arc_max);
	fx_put(fx_path("sys/module/zfs/parameters/zfs_arc_min"), 0644, "0\n");
	fx_put(fx_path("sys/module/zfs/version"), 0444, "%s\n", version);
	fx_put(fx_path("sys/module/zfs/initstate"), 0444, "live\n");
	fx_put(fx_path("proc/spl/kstat/zfs/arcstats"), 0644,
	       "13 1 0x01 147 39984 4231234567 98765432109\n"
	       "name                            type data\n"
	       "hits                            4    1000\n"
	       "c_min                           4    %llu\n"
	       "c_max                           4    %llu\n"
	       "size                            4    %llu\n",
	       c_min, c_max, c_max / 2);
	return 0;
}
