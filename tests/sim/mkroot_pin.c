/* sim-mkroot-pin: fixture parts for [pin], added to a root made by sim-mkroot.
 *
 *   sim-mkroot-pin DIR topology [NODES CORES THREADS] [--no-l3] [--no-nodes]
 *       CPU topology under sys/devices/system/{cpu,node} (default 2 nodes x 4 cores x 2 threads =
 *       16 CPUs), numbered like an Intel host: CPU = thread*(NODES*CORES) + node*CORES + core, so
 *       the siblings of CPU 0 are 0,8. One package and one L3 per node.
 *   sim-mkroot-pin DIR qemu VM PID VCPUS [--tcg] [--no-pidfile]
 *       A running QEMU: run/libvirt/qemu/VM.pid and proc/PID/task/TID/{comm,status} for the main
 *       thread (TID = PID), "IO mon_iothread", VCPUS threads "CPU n/KVM" (TIDs PID+2..) and a
 *       "worker" thread, each allowed on every possible CPU.
 *
 * Test-only code: it writes under DIR and nowhere else. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_fs.h"

/* "a,b" list of the CPUs base, base+stride, ... (count of them). */
static void strided(char *out, size_t size, unsigned base, unsigned stride, unsigned count)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < count; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%u", i ? "," : "", base + i * stride);
}

static void topology(unsigned nodes, unsigned cores, unsigned threads, bool l3, bool numa)
{
	unsigned per_thread = nodes * cores, n = per_thread * threads;
	char buf[1024];

	snprintf(buf, sizeof(buf), "0-%u", n - 1);
	fx_put(fx_path("sys/devices/system/cpu/online"), 0644, "%s\n", buf);
	fx_put(fx_path("sys/devices/system/cpu/possible"), 0644, "%s\n", buf);
	fx_put(fx_path("sys/devices/system/cpu/present"), 0644, "%s\n", buf);
	for (unsigned cpu = 0; cpu < n; cpu++) {
		unsigned core = cpu % cores, node = (cpu % per_thread) / cores;

		strided(buf, sizeof(buf), cpu % per_thread, per_thread, threads);
		fx_put(fx_path("sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", cpu), 0644, "%s\n", buf);
		fx_put(fx_path("sys/devices/system/cpu/cpu%u/topology/core_cpus_list", cpu), 0644, "%s\n", buf);
		fx_put(fx_path("sys/devices/system/cpu/cpu%u/topology/core_id", cpu), 0644, "%u\n", core);
		fx_put(fx_path("sys/devices/system/cpu/cpu%u/topology/package_id", cpu), 0644, "%u\n", node);
		fx_put(fx_path("sys/devices/system/cpu/cpu%u/topology/die_id", cpu), 0644, "0\n");
		if (l3) {
			/* the node's cores, every thread: node*cores .. +cores-1, and their siblings */
			size_t used = 0;
			for (unsigned t = 0; t < threads; t++)
				used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%u-%u", t ? "," : "",
							 t * per_thread + node * cores,
							 t * per_thread + node * cores + cores - 1);
			fx_put(fx_path("sys/devices/system/cpu/cpu%u/cache/index3/shared_cpu_list", cpu), 0644, "%s\n",
			       buf);
			fx_put(fx_path("sys/devices/system/cpu/cpu%u/cache/index3/level", cpu), 0644, "3\n");
		}
	}
	if (!numa)
		return;
	for (unsigned node = 0; node < nodes; node++) {
		size_t used = 0;
		for (unsigned t = 0; t < threads; t++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%u-%u", t ? "," : "",
						 t * per_thread + node * cores,
						 t * per_thread + node * cores + cores - 1);
		fx_put(fx_path("sys/devices/system/node/node%u/cpulist", node), 0644, "%s\n", buf);
	}
	snprintf(buf, sizeof(buf), "0-%u", nodes - 1);
	fx_put(fx_path("sys/devices/system/node/online"), 0644, "%s\n", buf);
}

static void thread(unsigned pid, unsigned tid, const char *comm, const char *all, const char *mask)
{
	char status[1024];

	fx_put(fx_path("proc/%u/task/%u/comm", pid, tid), 0644, "%s\n", comm);
	snprintf(status, sizeof(status),
		 "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%u\nPid:\t%u\nCpus_allowed:\t%s\nCpus_allowed_list:\t%s",
		 comm, pid, tid, mask, all);
	fx_put(fx_path("proc/%u/task/%u/status", pid, tid), 0644, "%s\n", status);
	if (tid == pid) {
		fx_put(fx_path("proc/%u/comm", pid), 0644, "%s\n", comm);
		fx_put(fx_path("proc/%u/status", pid), 0644, "%s\n", status);
	}
}

static void qemu(const char *vm, unsigned pid, unsigned vcpus, bool tcg, bool pidfile)
{
	char all[256] = "", mask[256], name[32];
	const char *path = fx_path("sys/devices/system/cpu/possible");
	FILE *f;
	unsigned n = 0;

	if (!(f = fopen(path, "r")) || !fgets(all, sizeof(all), f))
		fx_die("no %s: make the topology first", path);
	fclose(f);
	all[strcspn(all, "\n")] = '\0';
	if (sscanf(all, "0-%u", &n) != 1 || n >= 32)
		fx_die("possible CPUs '%s': expected 0-N with N < 32", all);
	snprintf(mask, sizeof(mask), "%0*x", (int)((n + 4) / 4), (unsigned)((1ull << (n + 1)) - 1));
	if (pidfile)
		fx_put(fx_path("run/libvirt/qemu/%s.pid", vm), 0644, "%u\n", pid);
	thread(pid, pid, "qemu-system-x86", all, mask);
	thread(pid, pid + 1, "IO mon_iothread", all, mask);
	for (unsigned i = 0; i < vcpus; i++) {
		snprintf(name, sizeof(name), "CPU %u/%s", i, tcg ? "TCG" : "KVM");
		thread(pid, pid + 2 + i, name, all, mask);
	}
	thread(pid, pid + 2 + vcpus, "worker", all, mask);
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	fx_init("sim-mkroot-pin", argc > 1 ? argv[1] : NULL);
	if (argc < 3)
		fx_die("usage: sim-mkroot-pin DIR topology [NODES CORES THREADS] [--no-l3] [--no-nodes]\n"
		       "       sim-mkroot-pin DIR qemu VM PID VCPUS [--tcg] [--no-pidfile]");
	if (strcmp(argv[2], "topology") == 0) {
		unsigned nodes = 2, cores = 4, threads = 2;
		if (argc >= 6 && argv[3][0] != '-') {
			nodes = (unsigned)atoi(argv[3]);
			cores = (unsigned)atoi(argv[4]);
			threads = (unsigned)atoi(argv[5]);
		}
		if (!nodes || !cores || !threads || nodes * cores * threads > 32)
			fx_die("bad topology %ux%ux%u (at most 32 CPUs)", nodes, cores, threads);
		topology(nodes, cores, threads, !flag(argc, argv, "--no-l3"), !flag(argc, argv, "--no-nodes"));
	} else if (strcmp(argv[2], "qemu") == 0 && argc >= 6) {
		qemu(argv[3], (unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]), flag(argc, argv, "--tcg"),
		     !flag(argc, argv, "--no-pidfile"));
	} else {
		fx_die("unknown command '%s'", argv[2]);
	}
	return 0;
}
