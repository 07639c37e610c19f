/* sim-mkroot-cpus: adds the CPU side of a host to a fixture root made by sim-mkroot: 8 CPUs
 * (4 cores x 2 SMT threads, siblings N and N+4 as Intel enumerates them), cpufreq governors,
 * a cgroup v2 tree with the host's slices, IRQs with their affinity (IRQ 25 is managed: the
 * simulator refuses its writes with EIO), the workqueue cpumask.
 *
 *   sim-mkroot-cpus DIR [--no-cpuset] [--systemd]
 *     --no-cpuset  the cpuset controller is not enabled in the root's cgroup.subtree_control
 *     --systemd    <root>/run/systemd/system exists (systemd is PID 1)
 *     --populated  init.scope holds PID 1 (the kernel then refuses to empty its cpuset.cpus again)
 *
 * Test-only code: writes under DIR and nowhere else. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NCPU 8

static const char *root;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sim-mkroot-cpus: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void mkdirs(const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				die("mkdir %s: %s", p, strerror(errno));
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", p, strerror(errno));
}

/* put(REL, content-format, ...): a file with its parent directories. */
static void put(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *rel, const char *fmt, ...)
{
	char p[4096], dir[4096];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(dir);
	}
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (!f)
		die("%s: %s", p, strerror(errno));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) != 0)
		die("%s: %s", p, strerror(errno));
}

static void make_cpus(void)
{
	put("sys/devices/system/cpu/online", "0-%d\n", NCPU - 1);
	put("sys/devices/system/cpu/possible", "0-%d\n", NCPU - 1);
	put("sys/devices/system/cpu/present", "0-%d\n", NCPU - 1);
	for (int c = 0; c < NCPU; c++) {
		const char *d = "sys/devices/system/cpu";
		char rel[256];
		int core = c % (NCPU / 2);
#define CPUF(name, ...) (snprintf(rel, sizeof(rel), "%s/cpu%d/%s", d, c, name), put(rel, __VA_ARGS__))
		CPUF("topology/core_id", "%d\n", core);
		CPUF("topology/physical_package_id", "0\n");
		CPUF("topology/die_id", "0\n");
		CPUF("topology/thread_siblings_list", "%d,%d\n", core, core + NCPU / 2);
		CPUF("topology/core_cpus_list", "%d,%d\n", core, core + NCPU / 2);
		CPUF("topology/core_siblings_list", "0-%d\n", NCPU - 1);
		CPUF("topology/package_cpus_list", "0-%d\n", NCPU - 1);
		CPUF("cache/index3/shared_cpu_list", "0-%d\n", NCPU - 1);
		CPUF("cache/index3/level", "3\n");
		CPUF("node0/cpulist", "0-%d\n", NCPU - 1); /* stands for the cpuN/node0 link */
		CPUF("cpufreq/scaling_driver", "acpi-cpufreq\n");
		CPUF("cpufreq/scaling_available_governors", "conservative ondemand userspace powersave performance schedutil\n");
		/* CPU 3 differs, so a restore that writes one value everywhere is caught */
		CPUF("cpufreq/scaling_governor", "%s\n", c == 3 ? "ondemand" : "schedutil");
#undef CPUF
	}
	put("sys/devices/system/node/node0/cpulist", "0-%d\n", NCPU - 1);
	put("sys/devices/system/node/online", "0\n");
}

static void make_cgroups(bool cpuset, bool populated)
{
	const char *slices[] = {"system.slice", "user.slice", "init.scope"};
	const char *orig[] = {"", "0-7", ""}; /* user.slice had AllowedCPUs= set by the admin */
	put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
	put("sys/fs/cgroup/cgroup.subtree_control", "%s\n", cpuset ? "cpuset cpu io memory pids" : "cpu io memory pids");
	put("sys/fs/cgroup/cpuset.cpus.effective", "0-%d\n", NCPU - 1);
	put("sys/fs/cgroup/cgroup.procs", "%s", populated ? "" : "1\n");
	for (size_t i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cgroup.controllers", slices[i]);
		put(rel, "%s\n", cpuset ? "cpuset cpu io memory pids" : "cpu io memory pids");
		snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cgroup.subtree_control", slices[i]);
		put(rel, "\n");
		snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cgroup.procs", slices[i]);
		put(rel, "%s", populated && strcmp(slices[i], "init.scope") == 0 ? "1\n" : "");
		if (!cpuset)
			continue;
		snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cpuset.cpus", slices[i]);
		put(rel, "%s\n", orig[i]);
		snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cpuset.cpus.effective", slices[i]);
		put(rel, "%s\n", orig[i][0] ? orig[i] : "0-7");
	}
}

static void make_irqs(void)
{
	static const struct { int irq; const char *list, *mask; bool managed; } irqs[] = {
		{0, "0", "01", false}, {1, "0-7", "ff", false}, {9, "0-7", "ff", false},
		{16, "0-3", "0f", false}, {24, "5", "20", false}, {25, "2", "04", true},
	};
	put("proc/irq/default_smp_affinity", "ff\n");
	for (size_t i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "proc/irq/%d/smp_affinity_list", irqs[i].irq);
		put(rel, "%s\n", irqs[i].list);
		snprintf(rel, sizeof(rel), "proc/irq/%d/smp_affinity", irqs[i].irq);
		put(rel, "%s\n", irqs[i].mask);
		snprintf(rel, sizeof(rel), "proc/irq/%d/effective_affinity_list", irqs[i].irq);
		put(rel, "%c\n", irqs[i].list[0]);
		if (irqs[i].managed) {
			snprintf(rel, sizeof(rel), ".sim/irq_managed/%d", irqs[i].irq);
			put(rel, "%s", "");
		}
	}
	put("sys/devices/virtual/workqueue/cpumask", "ff\n");
}

int main(int argc, char **argv)
{
	bool cpuset = true, systemd = false, populated = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-cpuset") == 0)
			cpuset = false;
		else if (strcmp(argv[i], "--systemd") == 0)
			systemd = true;
		else if (strcmp(argv[i], "--populated") == 0)
			populated = true;
		else if (argv[i][0] == '/' && !root)
			root = argv[i];
		else
			die("usage: sim-mkroot-cpus /ABS/DIR [--no-cpuset] [--systemd] [--populated]");
	}
	if (!root)
		die("usage: sim-mkroot-cpus /ABS/DIR [--no-cpuset] [--systemd] [--populated]");
	make_cpus();
	make_cgroups(cpuset, populated);
	make_irqs();
	if (systemd)
		mkdirs("run/systemd/system");
	return 0;
}
