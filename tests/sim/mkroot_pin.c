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
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sim-mkroot-pin: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void mkdirs(const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				die("mkdir %s: %s", p, strerror(errno));
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", p, strerror(errno));
}

static void put(const char *value, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *value, const char *fmt, ...)
{
	char rel[2048], p[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	char *slash = strrchr(rel, '/');
	*slash = '\0';
	mkdirs(rel);
	*slash = '/';
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f) != 0)
		die("write %s: %s", p, strerror(errno));
}

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
	char buf[1024], v[64];

	snprintf(buf, sizeof(buf), "0-%u", n - 1);
	put(buf, "sys/devices/system/cpu/online");
	put(buf, "sys/devices/system/cpu/possible");
	put(buf, "sys/devices/system/cpu/present");
	for (unsigned cpu = 0; cpu < n; cpu++) {
		unsigned core = cpu % cores, node = (cpu % per_thread) / cores;

		strided(buf, sizeof(buf), cpu % per_thread, per_thread, threads);
		put(buf, "sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", cpu);
		put(buf, "sys/devices/system/cpu/cpu%u/topology/core_cpus_list", cpu);
		snprintf(v, sizeof(v), "%u", core);
		put(v, "sys/devices/system/cpu/cpu%u/topology/core_id", cpu);
		snprintf(v, sizeof(v), "%u", node);
		put(v, "sys/devices/system/cpu/cpu%u/topology/package_id", cpu);
		put("0", "sys/devices/system/cpu/cpu%u/topology/die_id", cpu);
		if (l3) {
			/* the node's cores, every thread: node*cores .. +cores-1, and their siblings */
			size_t used = 0;
			for (unsigned t = 0; t < threads; t++)
				used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%u-%u", t ? "," : "",
							 t * per_thread + node * cores, t * per_thread + node * cores + cores - 1);
			put(buf, "sys/devices/system/cpu/cpu%u/cache/index3/shared_cpu_list", cpu);
			put("3", "sys/devices/system/cpu/cpu%u/cache/index3/level", cpu);
		}
	}
	if (!numa)
		return;
	for (unsigned node = 0; node < nodes; node++) {
		size_t used = 0;
		for (unsigned t = 0; t < threads; t++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%u-%u", t ? "," : "",
						 t * per_thread + node * cores, t * per_thread + node * cores + cores - 1);
		put(buf, "sys/devices/system/node/node%u/cpulist", node);
	}
	snprintf(buf, sizeof(buf), "0-%u", nodes - 1);
	put(buf, "sys/devices/system/node/online");
}

static void thread(unsigned pid, unsigned tid, const char *comm, const char *all, const char *mask)
{
	char status[1024];

	put(comm, "proc/%u/task/%u/comm", pid, tid);
	snprintf(status, sizeof(status),
		 "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%u\nPid:\t%u\nCpus_allowed:\t%s\nCpus_allowed_list:\t%s", comm,
		 pid, tid, mask, all);
	put(status, "proc/%u/task/%u/status", pid, tid);
	if (tid == pid) {
		put(comm, "proc/%u/comm", pid);
		put(status, "proc/%u/status", pid);
	}
}

static void qemu(const char *vm, unsigned pid, unsigned vcpus, bool tcg, bool pidfile)
{
	char all[256] = "", path[4096], mask[256], name[32];
	FILE *f;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/possible", root);
	if (!(f = fopen(path, "r")) || !fgets(all, sizeof(all), f))
		die("no %s: make the topology first", path);
	fclose(f);
	all[strcspn(all, "\n")] = '\0';
	if (sscanf(all, "0-%u", &n) != 1 || n >= 32)
		die("possible CPUs '%s': expected 0-N with N < 32", all);
	snprintf(mask, sizeof(mask), "%0*x", (int)((n + 4) / 4), (unsigned)((1ull << (n + 1)) - 1));
	if (pidfile) {
		snprintf(name, sizeof(name), "%u", pid);
		put(name, "run/libvirt/qemu/%s.pid", vm);
	}
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
	if (argc < 3)
		die("usage: sim-mkroot-pin DIR topology [NODES CORES THREADS] [--no-l3] [--no-nodes]\n"
		    "       sim-mkroot-pin DIR qemu VM PID VCPUS [--tcg] [--no-pidfile]");
	root = argv[1];
	if (strcmp(argv[2], "topology") == 0) {
		unsigned nodes = 2, cores = 4, threads = 2;
		if (argc >= 6 && argv[3][0] != '-') {
			nodes = (unsigned)atoi(argv[3]);
			cores = (unsigned)atoi(argv[4]);
			threads = (unsigned)atoi(argv[5]);
		}
		if (!nodes || !cores || !threads || nodes * cores * threads > 32)
			die("bad topology %ux%ux%u (at most 32 CPUs)", nodes, cores, threads);
		topology(nodes, cores, threads, !flag(argc, argv, "--no-l3"), !flag(argc, argv, "--no-nodes"));
	} else if (strcmp(argv[2], "qemu") == 0 && argc >= 6) {
		qemu(argv[3], (unsigned)atoi(argv[4]), (unsigned)atoi(argv[5]), flag(argc, argv, "--tcg"), !flag(argc, argv, "--no-pidfile"));
	} else {
		die("unknown command '%s'", argv[2]);
	}
	return 0;
}
