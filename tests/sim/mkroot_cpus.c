/* sim-mkroot-cpus: adds the CPU side of a host to a fixture root made by sim-mkroot: 8 CPUs
 * (4 cores x 2 SMT threads, siblings N and N+4 as Intel enumerates them; --cpus N: N/2 cores,
 * siblings N and N+N/2), cpufreq governors,
 * a cgroup v2 tree with the host's slices, IRQs with their affinity (IRQ 25 is managed: the
 * simulator refuses its writes with EIO), the workqueue cpumask.
 *
 *   sim-mkroot-cpus DIR [--cpus N] [--no-cpuset] [--systemd]
 *     --cpus N     N CPUs instead of 8 (IRQ affinities stay within CPUs 0-7)
 *     --no-cpuset  the cpuset controller is not enabled in the root's cgroup.subtree_control
 *     --systemd    <root>/run/systemd/system exists (systemd is PID 1)
 *     --populated  init.scope holds PID 1 (the kernel then refuses to empty its cpuset.cpus again)
 *
 * Test-only code: writes under DIR and nowhere else. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_fs.h"

static int ncpu = 8; /* an even number, at most 64 */

static void make_cpus(void)
{
	fx_put(fx_path("sys/devices/system/cpu/online"), 0644, "0-%d\n", ncpu - 1);
	fx_put(fx_path("sys/devices/system/cpu/possible"), 0644, "0-%d\n", ncpu - 1);
	fx_put(fx_path("sys/devices/system/cpu/present"), 0644, "0-%d\n", ncpu - 1);
	for (int c = 0; c < ncpu; c++) {
		const char *d = "sys/devices/system/cpu";
		int core = c % (ncpu / 2);
#define CPUF(name, ...) fx_put(fx_path("%s/cpu%d/%s", d, c, name), 0644, __VA_ARGS__)
		CPUF("topology/core_id", "%d\n", core);
		CPUF("topology/physical_package_id", "0\n");
		CPUF("topology/die_id", "0\n");
		CPUF("topology/thread_siblings_list", "%d,%d\n", core, core + ncpu / 2);
		CPUF("topology/core_cpus_list", "%d,%d\n", core, core + ncpu / 2);
		CPUF("topology/core_siblings_list", "0-%d\n", ncpu - 1);
		CPUF("topology/package_cpus_list", "0-%d\n", ncpu - 1);
		CPUF("cache/index3/shared_cpu_list", "0-%d\n", ncpu - 1);
		CPUF("cache/index3/level", "3\n");
		CPUF("node0/cpulist", "0-%d\n", ncpu - 1); /* stands for the cpuN/node0 link */
		CPUF("cpufreq/scaling_driver", "acpi-cpufreq\n");
		CPUF("cpufreq/scaling_available_governors",
		     "conservative ondemand userspace powersave performance schedutil\n");
		/* CPU 3 differs, so a restore that writes one value everywhere is caught */
		CPUF("cpufreq/scaling_governor", "%s\n", c == 3 ? "ondemand" : "schedutil");
#undef CPUF
	}
	fx_put(fx_path("sys/devices/system/node/node0/cpulist"), 0644, "0-%d\n", ncpu - 1);
	fx_put(fx_path("sys/devices/system/node/online"), 0644, "0\n");
}

static void make_cgroups(bool cpuset, bool populated)
{
	const char *slices[] = { "system.slice", "user.slice", "init.scope" };
	const char *orig[] = { "", "0-7", "" }; /* user.slice had AllowedCPUs= set by the admin */
	char all[16];

	snprintf(all, sizeof(all), "0-%d", ncpu - 1);
	fx_put(fx_path("sys/fs/cgroup/cgroup.controllers"), 0644, "cpuset cpu io memory hugetlb pids rdma misc\n");
	fx_put(fx_path("sys/fs/cgroup/cgroup.subtree_control"), 0644, "%s\n",
	       cpuset ? "cpuset cpu io memory pids" : "cpu io memory pids");
	fx_put(fx_path("sys/fs/cgroup/cpuset.cpus.effective"), 0644, "0-%d\n", ncpu - 1);
	fx_put(fx_path("sys/fs/cgroup/cgroup.procs"), 0644, "%s", populated ? "" : "1\n");
	for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
		fx_put(fx_path("sys/fs/cgroup/%s/cgroup.controllers", slices[i]), 0644, "%s\n",
		       cpuset ? "cpuset cpu io memory pids" : "cpu io memory pids");
		fx_put(fx_path("sys/fs/cgroup/%s/cgroup.subtree_control", slices[i]), 0644, "\n");
		fx_put(fx_path("sys/fs/cgroup/%s/cgroup.procs", slices[i]), 0644, "%s",
		       populated && strcmp(slices[i], "init.scope") == 0 ? "1\n" : "");
		if (!cpuset)
			continue;
		fx_put(fx_path("sys/fs/cgroup/%s/cpuset.cpus", slices[i]), 0644, "%s\n", orig[i]);
		fx_put(fx_path("sys/fs/cgroup/%s/cpuset.cpus.effective", slices[i]), 0644, "%s\n",
		       orig[i][0] ? orig[i] : all);
	}
}

static void make_irqs(void)
{
	static const struct {
		int irq;
		const char *list, *mask;
		bool managed;
	} irqs[] = {
		{ 0, "0", "01", false },    { 1, "0-7", "ff", false }, { 9, "0-7", "ff", false },
		{ 16, "0-3", "0f", false }, { 24, "5", "20", false },  { 25, "2", "04", true },
	};
	fx_put(fx_path("proc/irq/default_smp_affinity"), 0644, "ff\n");
	for (size_t i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++) {
		fx_put(fx_path("proc/irq/%d/smp_affinity_list", irqs[i].irq), 0644, "%s\n", irqs[i].list);
		fx_put(fx_path("proc/irq/%d/smp_affinity", irqs[i].irq), 0644, "%s\n", irqs[i].mask);
		fx_put(fx_path("proc/irq/%d/effective_affinity_list", irqs[i].irq), 0644, "%c\n", irqs[i].list[0]);
		if (irqs[i].managed)
			fx_put(fx_path(".sim/irq_managed/%d", irqs[i].irq), 0644, "%s", "");
	}
	fx_put(fx_path("sys/devices/virtual/workqueue/cpumask"), 0644, "ff\n");
}

int main(int argc, char **argv)
{
	bool cpuset = true, systemd = false, populated = false;
	const char *root = NULL;

	fx_init("sim-mkroot-cpus", NULL);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc)
			ncpu = atoi(argv[++i]);
		else if (strcmp(argv[i], "--no-cpuset") == 0)
			cpuset = false;
		else if (strcmp(argv[i], "--systemd") == 0)
			systemd = true;
		else if (strcmp(argv[i], "--populated") == 0)
			populated = true;
		else if (argv[i][0] == '/' && !root)
			root = argv[i];
		else
			fx_die("usage: sim-mkroot-cpus /ABS/DIR [--cpus EVEN-N] [--no-cpuset] [--systemd] [--populated]");
	}
	if (!root || ncpu < 2 || ncpu > 64 || ncpu % 2)
		fx_die("usage: sim-mkroot-cpus /ABS/DIR [--cpus EVEN-N] [--no-cpuset] [--systemd] [--populated]");
	fx_init("sim-mkroot-cpus", root);
	make_cpus();
	make_cgroups(cpuset, populated);
	make_irqs();
	if (systemd)
		fx_mkdirs(fx_path("run/systemd/system"));
	return 0;
}
