#include "cputopo.h"

#include <errno.h>
#include <string.h>

#include "sysfs.h"
#include "util.h"

#define CPU_DIR "/sys/devices/system/cpu"
#define NODE_DIR "/sys/devices/system/node"

int cputopo_online(const char *root, struct cpuset *out)
{
	return cpuset_read(root, CPUTOPO_ONLINE, out);
}

/* The NUMA node of cpu: its CPUs and name ("node1"); -ENOENT without node information. */
static int cpu_node(const char *root, unsigned cpu, struct cpuset *cpus, char **name)
{
	char **nodes;
	size_t n;
	int r = -ENOENT;

	if (sysfs_list(root, NODE_DIR, &nodes, &n) < 0)
		return r;
	for (size_t i = 0; i < n && r < 0; i++) {
		_cleanup_free_ char *p = xasprintf(NODE_DIR "/%s/cpulist", nodes[i]);

		if (strncmp(nodes[i], "node", 4) == 0 && cpuset_read(root, p, cpus) == 0 && cpuset_has(cpus, cpu)) {
			*name = xstrdup(nodes[i]);
			r = 0;
		}
	}
	sysfs_list_free(nodes, n);
	return r;
}

/* The online CPUs with cpu's package_id and die_id. */
static void cpu_package(const char *root, unsigned cpu, struct cpuset *out, char **name)
{
	_cleanup_free_ char *pkg = NULL, *die = NULL;
	struct cpuset online;

	cpuset_clear(out);
	cpuset_add(out, cpu);
	if (cputopo_online(root, &online) < 0)
		cpuset_clear(&online);
	for (unsigned c = cpuset_first(&online); c < CPUSET_MAX; c++) {
		_cleanup_free_ char *pp = NULL, *p = NULL, *dp = NULL, *d = NULL;

		if (!cpuset_has(&online, c))
			continue; /* before any allocation: CPUSET_MAX is 16384 */
		pp = xasprintf(CPU_DIR "/cpu%u/topology/package_id", c);
		dp = xasprintf(CPU_DIR "/cpu%u/topology/die_id", c);
		if (sysfs_read(root, pp, &p) < 0)
			continue;
		if (sysfs_read(root, dp, &d) < 0)
			d = xstrdup("0");
		if (c == cpu) {
			pkg = xstrdup(p);
			die = xstrdup(d);
		}
		if (pkg && !strcmp(p, pkg) && !strcmp(d, die))
			cpuset_add(out, c);
	}
	*name = xasprintf("package %s die %s", pkg ? pkg : "?", die ? die : "?");
}

void cputopo_domain(const char *root, unsigned cpu, struct cpuset *out, char **what)
{
	_cleanup_free_ char *l3 = xasprintf(CPU_DIR "/cpu%u/cache/index3/shared_cpu_list", cpu), *node = NULL;
	struct cpuset nodecpus;
	bool has_node = cpu_node(root, cpu, &nodecpus, &node) == 0;

	if (cpuset_read(root, l3, out) == 0 && cpuset_has(out, cpu)) {
		if (has_node)
			cpuset_and(out, &nodecpus);
		*what = xasprintf("L3%s%s", has_node ? " of " : "", has_node ? node : "");
	} else if (has_node) {
		*out = nodecpus;
		*what = xstrdup(node);
	} else {
		cpu_package(root, cpu, out, what);
	}
}

void cputopo_siblings(const char *root, unsigned cpu, struct cpuset *out)
{
	_cleanup_free_ char *p = xasprintf(CPU_DIR "/cpu%u/topology/thread_siblings_list", cpu);

	if (cpuset_read(root, p, out) < 0 || !cpuset_has(out, cpu)) {
		cpuset_clear(out);
		cpuset_add(out, cpu);
	}
}

bool cputopo_cpu_on_nodes(const char *root, unsigned cpu, const struct cpuset *nodes)
{
	for (unsigned nd = 0; nd < CPUSET_MAX; nd++) {
		_cleanup_free_ char *p = NULL;
		struct cpuset s;

		if (!cpuset_has(nodes, nd))
			continue;
		p = xasprintf(NODE_DIR "/node%u/cpulist", nd);
		if (cpuset_read(root, p, &s) == 0 && cpuset_has(&s, cpu))
			return true;
	}
	return false;
}
