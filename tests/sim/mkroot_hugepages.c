/* sim-mkroot-hugepages: adds huge page pools to a fixture root (run after sim-mkroot), in the
 * layout of Linux's hugetlb sysfs and meminfo, plus the simulator state that
 * simkernel_hugepages.c reacts with.
 *
 *   sim-mkroot-hugepages DIR [--nodes N] [--memtotal KIB] [--default KB]
 *                            [--pool KB:NODE:CAPACITY[:FRAGMENTED[:NR[:USED]]]]...
 *
 * --nodes      NUMA nodes (default 2), each with --memtotal KiB (default 8 GiB).
 * --default    Hugepagesize in /proc/meminfo (default 2048).
 * --pool       a page size on a node: how many pages memory allows now (CAPACITY), how many more
 *              once caches are dropped and memory compacted (FRAGMENTED), pages the pool already
 *              has (NR) and of those in use (USED). Sizes without --pool on a node get capacity 0.
 *              Default: 2048:0:4096, 2048:1:4096, 1048576:0:4, 1048576:1:4.
 * Test-only code: it writes under DIR and nowhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_fs.h"

#define MAX_POOLS 32

struct pool {
	unsigned long long kb, cap, frag, nr, used;
	int node;
};

static void usage(void)
{
	fx_die("usage: sim-mkroot-hugepages DIR [--nodes N] [--memtotal KIB] [--default KB] "
	       "[--pool KB:NODE:CAPACITY[:FRAGMENTED[:NR[:USED]]]]...");
}

static struct pool *find(struct pool *p, int n, unsigned long long kb, int node)
{
	for (int i = 0; i < n; i++)
		if (p[i].kb == kb && p[i].node == node)
			return &p[i];
	return NULL;
}

static void write_pool_files(const char *dir, unsigned long long kb, unsigned long long nr, unsigned long long fr,
			     int global)
{
#define F(name, mode, ...) fx_put(fx_path("%s/hugepages-%llukB/" name, dir, kb), mode, __VA_ARGS__)
	F("nr_hugepages", 0644, "%llu\n", nr);
	F("free_hugepages", 0444, "%llu\n", fr);
	F("surplus_hugepages", 0444, "0\n");
	if (global) {
		F("resv_hugepages", 0444, "0\n");
		F("nr_overcommit_hugepages", 0644, "0\n");
		F("nr_hugepages_mempolicy", 0644, "%llu\n", nr);
	}
#undef F
}

int main(int argc, char **argv)
{
	struct pool pools[MAX_POOLS];
	unsigned long long memtotal = 8ULL << 20, def = 2048, sizes[MAX_POOLS];
	int nodes = 2, n = 0, n_sizes = 0;
	const char *root = NULL;

	fx_init("sim-mkroot-hugepages", NULL);

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--nodes") && i + 1 < argc)
			nodes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--memtotal") && i + 1 < argc)
			memtotal = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--default") && i + 1 < argc)
			def = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--pool") && i + 1 < argc && n < MAX_POOLS) {
			struct pool *p = &pools[n++];
			*p = (struct pool){ 0 };
			if (sscanf(argv[++i], "%llu:%d:%llu:%llu:%llu:%llu", &p->kb, &p->node, &p->cap, &p->frag,
				   &p->nr, &p->used) < 3 ||
			    p->used > p->nr || p->nr > p->cap)
				fx_die("bad --pool %s", argv[i]);
		} else if (argv[i][0] != '-' && !root)
			root = argv[i];
		else
			usage();
	}
	if (!root || root[0] != '/' || nodes < 1 || nodes > 64)
		usage();
	fx_init("sim-mkroot-hugepages", root);
	if (n == 0) {
		static const struct pool defaults[] = { { 2048, 4096, 0, 0, 0, 0 },
							{ 2048, 4096, 0, 0, 0, 1 },
							{ 1048576, 4, 0, 0, 0, 0 },
							{ 1048576, 4, 0, 0, 0, 1 } };
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			if (defaults[i].node < nodes)
				pools[n++] = defaults[i];
	}
	for (int i = 0; i < n; i++) {
		int seen = 0;
		if (pools[i].node < 0 || pools[i].node >= nodes)
			fx_die("--pool on node %d: only %d nodes", pools[i].node, nodes);
		for (int k = 0; k < n_sizes; k++)
			seen |= sizes[k] == pools[i].kb;
		if (!seen)
			sizes[n_sizes++] = pools[i].kb;
	}

	fx_put(fx_path("proc/meminfo"), 0444,
	       "MemTotal:       %llu kB\nMemFree:        %llu kB\nHugePages_Total:       0\nHugePages_Free:        0\n"
	       "HugePages_Rsvd:        0\nHugePages_Surp:        0\nHugepagesize:       %llu kB\n",
	       memtotal * (unsigned long long)nodes, memtotal * (unsigned long long)nodes / 2, def);
	fx_put(fx_path("proc/sys/vm/drop_caches"), 0644, "0\n");
	fx_put(fx_path("proc/sys/vm/compact_memory"), 0200, "%s", "");
	fx_put(fx_path("sys/devices/system/node/online"), 0444, nodes == 1 ? "0\n" : "0-%d\n", nodes - 1);
	for (int k = 0; k < n_sizes; k++) {
		unsigned long long nr = 0, fr = 0;
		for (int node = 0; node < nodes; node++) {
			struct pool zero = { sizes[k], 0, 0, 0, 0, node }, *p = find(pools, n, sizes[k], node);
			char dir[64];
			if (!p)
				p = &zero;
			snprintf(dir, sizeof(dir), "sys/devices/system/node/node%d/hugepages", node);
			write_pool_files(dir, p->kb, p->nr, p->nr - p->used, 0);
			nr += p->nr;
			fr += p->nr - p->used;
			fx_put(fx_path(".sim/hugepages/%llu/node%d/capacity", p->kb, node), 0644, "%llu\n", p->cap);
			fx_put(fx_path(".sim/hugepages/%llu/node%d/fragmented", p->kb, node), 0644, "%llu\n", p->frag);
			fx_put(fx_path(".sim/hugepages/%llu/node%d/used", p->kb, node), 0644, "%llu\n", p->used);
		}
		write_pool_files("sys/kernel/mm/hugepages", sizes[k], nr, fr, 1);
	}
	for (int node = 0; node < nodes; node++)
		fx_put(fx_path("sys/devices/system/node/node%d/meminfo", node), 0444,
		       "Node %d MemTotal:       %llu kB\nNode %d MemFree:        %llu kB\n", node, memtotal, node,
		       memtotal / 2);
	return 0;
}
