/* The simulated kernel's huge page pools (part of libsimkernel.so; fixture: mkroot_hugepages.c).
 * Reacts to writes the way mm/hugetlb.c does, in miniature:
 *
 *   sys/devices/system/node/node<N>/hugepages/hugepages-<kB>kB/nr_hugepages
 *       the node's persistent pool grows up to what memory allows (.sim capacity) and shrinks
 *       to the pages in use at most; free_hugepages follows; the global files are the sums.
 *   sys/kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages
 *       grows node by node (always the emptiest node that has room: the kernel interleaves),
 *       shrinks by freeing from the node with the most free pages.
 *   proc/sys/vm/drop_caches (1..3), then proc/sys/vm/compact_memory
 *       memory that was too fragmented (.sim fragmented) becomes allocatable (added to capacity).
 *   sys/module/zfs/parameters/zfs_arc_max (fixture: mkroot_zfs.c)
 *       as OpenZFS's arc_tuning_update(): any number is stored; the ARC's maximum (c_max in
 *       proc/spl/kstat/zfs/arcstats) follows only a value of at least 64 MiB, below MemTotal and
 *       above c_min; 0 and other values leave it where it is. Not a number: EINVAL.
 *
 * Simulator state (relative to the root), one directory per size and node:
 *   .sim/hugepages/<kB>/node<N>/capacity    how many pages the node's pool can reach
 *   .sim/hugepages/<kB>/node<N>/fragmented  pages more once caches are dropped and memory compacted
 *   .sim/hugepages/<kB>/node<N>/used        pages QEMU-like users hold (never freed by a write)
 *   .sim/hugepages/dropped                  drop_caches was written since the last compaction
 *   .sim/hugepages/compactions              how many times compact_memory was written
 *   .sim/faults/hugepages_partial           N: one nr_hugepages write adds at most N pages
 * Writes count toward .sim/write_count and .sim/faults/crash_at like the PCI files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NODES 64

static const char *sim_root;

static void hp_path(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hp_path(char *out, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", sim_root, rel) >= PATH_MAX)
		out[0] = '\0';
}

static unsigned long long read_ull(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strtoull(buf, NULL, 10);
}

static void write_ull(const char *path, unsigned long long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int len = snprintf(buf, sizeof(buf), "%llu\n", v);

	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)len) != len)
		fprintf(stderr, "simkernel: short write to %s\n", path);
	close(fd);
}

struct node_pool {
	int node;
	unsigned long long nr, used, cap;
};

/* The nodes that have a pool of this size, in node order. */
static int load_nodes(unsigned long long kb, struct node_pool *np)
{
	char dir[PATH_MAX], p[PATH_MAX];
	int n = 0;

	hp_path(dir, ".sim/hugepages/%llu", kb);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAX_NODES) {
		int node;
		if (sscanf(e->d_name, "node%d", &node) != 1)
			continue;
		int i = n++;
		while (i > 0 && np[i - 1].node > node) {
			np[i] = np[i - 1];
			i--;
		}
		np[i].node = node;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		hp_path(p, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages", np[i].node, kb);
		np[i].nr = read_ull(p);
		hp_path(p, ".sim/hugepages/%llu/node%d/used", kb, np[i].node);
		np[i].used = read_ull(p);
		hp_path(p, ".sim/hugepages/%llu/node%d/capacity", kb, np[i].node);
		np[i].cap = read_ull(p);
	}
	return n;
}

/* Writes every node's nr/free and the global sums. */
static void store_nodes(unsigned long long kb, const struct node_pool *np, int n)
{
	char p[PATH_MAX];
	unsigned long long nr = 0, fr = 0;

	for (int i = 0; i < n; i++) {
		hp_path(p, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages", np[i].node, kb);
		write_ull(p, np[i].nr);
		hp_path(p, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/free_hugepages", np[i].node, kb);
		write_ull(p, np[i].nr - np[i].used);
		nr += np[i].nr;
		fr += np[i].nr - np[i].used;
	}
	hp_path(p, "sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", kb);
	write_ull(p, nr);
	hp_path(p, "sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages", kb);
	write_ull(p, fr);
}

/* How many pages one write may add (the partial-allocation fault). */
static unsigned long long alloc_budget(void)
{
	char p[PATH_MAX];

	hp_path(p, ".sim/faults/hugepages_partial");
	return access(p, F_OK) == 0 ? read_ull(p) : ULLONG_MAX;
}

/* node < 0: the global pool. */
static int set_nr(unsigned long long kb, int node, unsigned long long want)
{
	struct node_pool np[MAX_NODES];
	int n = load_nodes(kb, np), pick;
	unsigned long long total = 0, budget = alloc_budget();

	if (n == 0)
		return -ENOENT;
	for (int i = 0; i < n; i++)
		total += np[i].node == node || node < 0 ? np[i].nr : 0;
	while (total < want && budget > 0) {
		pick = -1;
		for (int i = 0; i < n; i++)
			if ((node < 0 || np[i].node == node) && np[i].nr < np[i].cap &&
			    (pick < 0 || np[i].nr < np[pick].nr))
				pick = i;
		if (pick < 0)
			break; /* no memory left: the kernel stops quietly, the write still succeeds */
		np[pick].nr++, total++, budget--;
	}
	while (total > want) {
		pick = -1;
		for (int i = 0; i < n; i++)
			if ((node < 0 || np[i].node == node) && np[i].nr > np[i].used &&
			    (pick < 0 || np[i].nr - np[i].used >= np[pick].nr - np[pick].used))
				pick = i;
		if (pick < 0)
			break; /* only pages in use are left */
		np[pick].nr--, total--;
	}
	store_nodes(kb, np, n);
	return 0;
}

/* Dropped caches and compaction together turn fragmented memory into room for huge pages. */
static void compact(void)
{
	char p[PATH_MAX], dir[PATH_MAX];

	hp_path(p, ".sim/hugepages/compactions");
	write_ull(p, read_ull(p) + 1);
	hp_path(p, ".sim/hugepages/dropped");
	if (unlink(p) < 0)
		return;
	hp_path(dir, ".sim/hugepages");
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned long long kb;
		struct node_pool np[MAX_NODES];
		if (sscanf(e->d_name, "%llu", &kb) != 1)
			continue;
		int n = load_nodes(kb, np);
		for (int i = 0; i < n; i++) {
			hp_path(p, ".sim/hugepages/%llu/node%d/fragmented", kb, np[i].node);
			unsigned long long frag = read_ull(p);
			write_ull(p, 0);
			hp_path(p, ".sim/hugepages/%llu/node%d/capacity", kb, np[i].node);
			write_ull(p, np[i].cap + frag);
		}
	}
	closedir(d);
}

/* The file's text, up to size - 1 bytes ("" when it cannot be read). */
static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? 0 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[len > 0 ? len : 0] = '\0';
}

/* The value of the kstat line "name type value" in text, or 0. */
static unsigned long long kstat_get(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned type;
		unsigned long long v;

		if (!strncmp(p, name, n) && p[n] == ' ' && sscanf(p + n, " %u %llu", &type, &v) == 2)
			return v;
	}
	return 0;
}

/* zfs_arc_max = v: stored as written; c_max follows when arc_tuning_update() would take it. */
static int arc_max_store(unsigned long long v)
{
	char p[PATH_MAX], text[8192] = "", out[8192], *line, *save = NULL;
	size_t o = 0;
	unsigned long long kib = 0;
	int fd;

	hp_path(p, "sys/module/zfs/parameters/zfs_arc_max");
	write_ull(p, v);
	hp_path(p, "proc/meminfo");
	read_text(p, text, sizeof(text));
	if (strstr(text, "MemTotal:"))
		sscanf(strstr(text, "MemTotal:"), "MemTotal: %llu", &kib);
	hp_path(p, "proc/spl/kstat/zfs/arcstats");
	read_text(p, text, sizeof(text));
	if (!v || v < (64ULL << 20) || v >= kib * 1024 || v <= kstat_get(text, "c_min"))
		return 0;
	for (line = strtok_r(text, "\n", &save); line && o < sizeof(out) - 64; line = strtok_r(NULL, "\n", &save))
		o += (size_t)(strncmp(line, "c_max ", 6)
				      ? snprintf(out + o, sizeof(out) - o, "%s\n", line)
				      : snprintf(out + o, sizeof(out) - o, "%-32s4    %llu\n", "c_max", v));
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, out, o) != (ssize_t)o)
		fprintf(stderr, "simkernel: cannot rewrite %s\n", p);
	if (fd >= 0)
		close(fd);
	return 0;
}

enum hp_file { HP_NONE, HP_DROP, HP_COMPACT, HP_GLOBAL_NR, HP_NODE_NR, HP_ARC_MAX };

static enum hp_file classify(const char *rel, unsigned long long *kb, int *node)
{
	int used = 0;

	if (strcmp(rel, "/proc/sys/vm/drop_caches") == 0)
		return HP_DROP;
	if (strcmp(rel, "/proc/sys/vm/compact_memory") == 0)
		return HP_COMPACT;
	if (strcmp(rel, "/sys/module/zfs/parameters/zfs_arc_max") == 0)
		return HP_ARC_MAX;
	*node = -1;
	if (sscanf(rel, "/sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages%n", kb, &used) == 1 && !rel[used])
		return HP_GLOBAL_NR;
	if (sscanf(rel, "/sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages%n", node, kb, &used) ==
		    2 &&
	    !rel[used] && *node >= 0)
		return HP_NODE_NR;
	return HP_NONE;
}

static int store(enum hp_file f, unsigned long long kb, int node, const char *val)
{
	char p[PATH_MAX], *end;
	unsigned long long want;

	if (f == HP_DROP) {
		long v = strtol(val, &end, 10);
		if (end == val || v < 1 || v > 3)
			return -EINVAL;
		hp_path(p, ".sim/hugepages/dropped");
		write_ull(p, (unsigned long long)v);
		return 0;
	}
	if (f == HP_COMPACT) {
		compact();
		return 0;
	}
	errno = 0;
	want = strtoull(val, &end, 10);
	if (end == val || errno || (*end && *end != '\n') || val[0] == '-')
		return -EINVAL;
	if (f == HP_ARC_MAX)
		return arc_max_store(want);
	return set_nr(kb, node, want);
}

/* Serialised like the PCI stores (.sim/lock); counts toward crash_at. */
static int locked_store(enum hp_file f, unsigned long long kb, int node, const char *val)
{
	char p[PATH_MAX];

	hp_path(p, ".sim/lock");
	int lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd >= 0)
		flock(lock_fd, LOCK_EX);
	hp_path(p, ".sim/write_count");
	unsigned long long count = read_ull(p) + 1;
	write_ull(p, count);
	hp_path(p, ".sim/faults/crash_at");
	unsigned long long crash_at = read_ull(p);
	int r = store(f, kb, node, val);
	if (lock_fd >= 0)
		close(lock_fd);
	if (crash_at > 0 && count == crash_at)
		kill(0, SIGKILL);
	return r;
}

/* Called by the shim's write() (with its own file operations passing straight through): 1 when fd
 * is one of the files above (then *ret and errno are the write's result), 0 to let the write by. */
int simkernel_hugepages_write(const char *root, int fd, const void *buf, size_t n, ssize_t *ret);
int simkernel_hugepages_write(const char *root, int fd, const void *buf, size_t n, ssize_t *ret)
{
	char link[64], path[PATH_MAX], val[64];
	size_t root_len = strlen(root);

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd); /* a read-only look at our own fd */
	ssize_t len = readlink(link, path, sizeof(path) - 1);
	if (len <= 0)
		return 0;
	path[len] = '\0';
	unsigned long long kb = 0;
	int node = -1;
	enum hp_file f;
	if (strncmp(path, root, root_len) != 0 || path[root_len] != '/' ||
	    (f = classify(path + root_len, &kb, &node)) == HP_NONE)
		return 0;
	sim_root = root;
	int r = -EINVAL;
	if (n < sizeof(val)) {
		memcpy(val, buf, n);
		val[n] = '\0';
		r = locked_store(f, kb, node, val);
	}
	*ret = r < 0 ? -1 : (ssize_t)n;
	errno = r < 0 ? -r : errno;
	return 1;
}
