/* [hugepages]: reserve the huge pages a VM's memory needs before QEMU starts, and give back
 * exactly those on release (kernel ABI: Documentation/admin-guide/mm/hugetlbpage.rst).
 *
 * A pool is one page size, either global (/sys/kernel/mm/hugepages/hugepages-<kB>kB) or one NUMA
 * node's (/sys/devices/system/node/node<N>/hugepages/...). Pools are shared by every running VM:
 * a step's value is this VM's need; pages already free count toward it, except as many as the
 * other VMs' live journals need (their QEMU may not have taken them yet). The journal keeps
 * "<nr_hugepages before> <pages to add>", and the pool's count before any VM touched it is its
 * shared baseline. Apply and revert never add or subtract: they write the count the live journals
 * call for (baseline + the pages every live VM added), so running either again after a crash, or
 * after another VM's run, changes nothing more, and any start/stop order ends with the original. */
#include <errno.h>
#include <string.h>

#include "hugepages.h"
#include "hugepages_arc.h"
#include "plan.h"
#include "shared.h"
#include "sysfs.h"
#include "zfs.h"

extern const struct action_ops action_hugepages;

#define DROP_CACHES "/proc/sys/vm/drop_caches"
#define COMPACT_MEMORY "/proc/sys/vm/compact_memory"
#define MIN_HUGEPAGE_KIB 64ULL /* the smallest huge page of any architecture (arm64, 4K granule) */

enum node_mode { NODE_AUTO, NODE_ANY, NODE_ONE };

struct hp_conf {
	unsigned long long size_kib; /* 0: the XML's page size, else the host's default */
	bool pages_auto;
	unsigned long long pages;
	enum node_mode node_mode;
	unsigned node;
	unsigned long long arc_max; /* zfs_arc_max while the VM runs, in bytes (0: leave the ARC alone) */
};

/* One pool: a page size, globally (node < 0) or on one NUMA node. */
struct pool {
	unsigned long long size_kib;
	int node;
};

static void hp_init(void *data)
{
	struct hp_conf *c = data;

	*c = (struct hp_conf){ .pages_auto = true, .node_mode = NODE_AUTO };
}

/* "2M", "1G", "2048k", "2048kB", "1GiB"; a bare number is KiB, as in libvirt and sysfs names. */
static int parse_page_size(const char *v, unsigned long long *kib)
{
	unsigned long long n;

	if (parse_size(v, 1024, &n) < 0 || n % 1024)
		return -EINVAL;
	n >>= 10;
	if (n < MIN_HUGEPAGE_KIB || (n & (n - 1)))
		return -EINVAL;
	*kib = n;
	return 0;
}

static int hp_set(void *data, const char *key, const char *value, struct err *e)
{
	struct hp_conf *c = data;
	unsigned long long n;

	if (strcmp(key, "size") == 0) {
		if (strcmp(value, "auto") == 0)
			c->size_kib = 0;
		else if (parse_page_size(value, &c->size_kib) < 0)
			return err_set(
				e, -EINVAL,
				"expected a huge page size such as 2M or 1G (a power of two of at least 64k), got '%s'",
				value);
		return 0;
	}
	if (strcmp(key, "pages") == 0) {
		c->pages_auto = strcmp(value, "auto") == 0;
		if (!c->pages_auto && (parse_uint(value, &c->pages) < 0 || c->pages == 0))
			return err_set(e, -EINVAL, "expected 'auto' or a number of pages (1 or more), got '%s'", value);
		return 0;
	}
	if (strcmp(key, "zfs_arc_max") == 0)
		return hugepages_arc_parse(value, &c->arc_max, e);
	if (strcmp(key, "node") != 0)
		return -ENOENT;
	if (strcmp(value, "auto") == 0)
		c->node_mode = NODE_AUTO;
	else if (strcmp(value, "any") == 0)
		c->node_mode = NODE_ANY;
	else if (parse_uint(value, &n) == 0 && n < CPUSET_MAX)
		c->node_mode = NODE_ONE, c->node = (unsigned)n;
	else
		return err_set(e, -EINVAL, "expected 'auto', 'any' or a NUMA node number, got '%s'", value);
	return 0;
}

/* ---- pools ---- */

static char *pool_dir(const struct pool *p)
{
	if (p->node < 0)
		return xasprintf("/sys/kernel/mm/hugepages/hugepages-%llukB", p->size_kib);
	return xasprintf("/sys/devices/system/node/node%d/hugepages/hugepages-%llukB", p->node, p->size_kib);
}

/* The journal's target: "2048kB" (global) or "2048kB@node0". */
static char *pool_key(const struct pool *p)
{
	if (p->node < 0)
		return xasprintf("%llukB", p->size_kib);
	return xasprintf("%llukB@node%d", p->size_kib, p->node);
}

static int pool_from_key(const char *key, struct pool *p)
{
	int used = 0;

	p->node = -1;
	if (sscanf(key, "%llukB%n", &p->size_kib, &used) == 1 && key[used] == '\0')
		return 0;
	if (sscanf(key, "%llukB@node%d%n", &p->size_kib, &p->node, &used) == 2 && key[used] == '\0' && p->node >= 0)
		return 0;
	return -EINVAL;
}

/* "2048kB pool" or "2048kB pool of node 0", for messages. */
static char *pool_name(const struct pool *p)
{
	if (p->node < 0)
		return xasprintf("%llukB pool", p->size_kib);
	return xasprintf("%llukB pool of node %d", p->size_kib, p->node);
}

static int pool_read(const char *root, const struct pool *p, const char *file, unsigned long long *out, struct err *e)
{
	_cleanup_free_ char *dir = pool_dir(p), *path = xasprintf("%s/%s", dir, file), *s = NULL;
	int r = sysfs_read(root, path, &s);

	if (r == 0)
		r = parse_uint(s, out);
	if (r < 0)
		return err_set(e, r, "cannot read %s: %s", path, strerror(-r));
	return 0;
}

/* Writes nr_hugepages and reads back what the kernel really holds now. */
static int pool_write_nr(const char *root, const struct pool *p, unsigned long long nr, unsigned long long *now,
			 struct err *e)
{
	_cleanup_free_ char *dir = pool_dir(p), *path = xasprintf("%s/nr_hugepages", dir);
	int r = sysfs_write_uint(root, path, nr, e);

	return r < 0 ? r : pool_read(root, p, "nr_hugepages", now, e);
}

static int parse_saved(const char *saved, unsigned long long *prev, unsigned long long *add);

static void add_need(const struct held_step *h, void *arg)
{
	unsigned long long v;

	if (parse_uint(h->rec.value, &v) == 0)
		*(unsigned long long *)arg += v;
}

static void add_added(const struct held_step *h, void *arg)
{
	unsigned long long prev, add;

	if (parse_saved(h->rec.saved, &prev, &add) == 0)
		*(unsigned long long *)arg += add;
}

/* The pages the other live VMs added to this pool (or meant to: an interrupted prepare's claim
 * stands until that VM is released). */
static unsigned long long others_added(const struct action_ctx *ctx, const char *key)
{
	unsigned long long sum = 0;

	shared_for_each(ctx, action_hugepages.name, key, add_added, &sum);
	return sum;
}

/* The pool's count before any VM touched it; `prev` (this VM's record) when none was kept. */
static int pool_baseline(const struct action_ctx *ctx, const char *key, unsigned long long prev,
			 unsigned long long *base, struct err *e)
{
	_cleanup_free_ char *s = NULL;
	char cur[32];
	int r;

	snprintf(cur, sizeof(cur), "%llu", prev);
	r = shared_baseline(ctx, action_hugepages.name, key, cur, &s, e);
	if (r < 0)
		return r;
	if (parse_uint(s, base) < 0)
		return err_set(e, -EINVAL, "bad hugepages baseline '%s' for the %s pool", s, key);
	return 0;
}

/* What the other running VMs need from this pool (their journals' values). */
static unsigned long long others_need(const struct action_ctx *ctx, const char *key)
{
	unsigned long long sum = 0;

	shared_for_each(ctx, action_hugepages.name, key, add_need, &sum);
	return sum;
}

struct pool_state {
	unsigned long long nr, free, others, add;
};

/* Reads the pool and works out how many pages to add so that this VM has `need` free pages
 * on top of what the other VMs need. */
static int pool_state(const struct action_ctx *ctx, const struct pool *p, unsigned long long need, struct pool_state *s,
		      struct err *e)
{
	_cleanup_free_ char *key = pool_key(p);
	unsigned long long usable;
	int r = pool_read(ctx->conf->root, p, "nr_hugepages", &s->nr, e);

	if (r == 0)
		r = pool_read(ctx->conf->root, p, "free_hugepages", &s->free, e);
	if (r < 0)
		return r;
	s->others = others_need(ctx, key);
	usable = s->free > s->others ? s->free - s->others : 0;
	s->add = need > usable ? need - usable : 0;
	return 0;
}

/* ---- planning ---- */

static void fmt_bytes(unsigned long long kib, char *buf, size_t len)
{
	if (kib >= (1ULL << 20) && kib % (1ULL << 20) == 0)
		snprintf(buf, len, "%llu GiB", kib >> 20);
	else if (kib >= 1024 && kib % 1024 == 0)
		snprintf(buf, len, "%llu MiB", kib >> 10);
	else
		snprintf(buf, len, "%llu KiB", kib);
}

/* The page size: the INI's, else the one the XML's <page> entries name, else the host default. */
static int resolve_size(const struct action_ctx *ctx, const struct hp_conf *c, unsigned long long *size, struct err *e)
{
	const struct domain *d = ctx->dom;
	unsigned long long xml = 0, def = 0;
	int r = sysfs_meminfo_field(ctx->conf->root, "/proc/meminfo", "Hugepagesize:", &def);

	if (r < 0 && (!c->size_kib || c->pages_auto))
		return err_set(e, r, "cannot read the default huge page size (Hugepagesize in /proc/meminfo): %s",
			       strerror(-r));
	for (size_t i = 0; d && d->has_hugepages && i < d->n_hugepages; i++) {
		unsigned long long s = d->hugepages[i].has_size ? d->hugepages[i].size_kib : def;

		if (xml && s != xml && c->pages_auto)
			return err_set(
				e, -EINVAL,
				"the domain's <hugepages> use several page sizes (%llukB and %llukB) for different guest NUMA nodes; hookd cannot split <memory> between them: set pages = a number",
				xml, s);
		xml = s;
	}
	*size = c->size_kib ? c->size_kib : xml ? xml : def;
	if (c->pages_auto && xml && *size != xml)
		return err_set(
			e, -EINVAL,
			"size = %llukB, but the domain XML backs its memory with %llukB pages; pages = auto would reserve pages QEMU never uses",
			*size, xml);
	return 0;
}

static int resolve_need(const struct action_ctx *ctx, const struct hp_conf *c, unsigned long long size,
			unsigned long long *need, struct err *e)
{
	const struct domain *d = ctx->dom;

	if (!c->pages_auto) {
		*need = c->pages;
		return 0;
	}
	if (!d || !d->has_hugepages)
		return err_set(
			e, -EINVAL,
			"pages = auto, but the domain XML has no <memoryBacking><hugepages/>: QEMU would not use huge pages (add it, or set pages = a number)");
	if (!d->has_memory)
		return err_set(e, -EINVAL, "pages = auto, but the domain XML has no <memory>");
	*need = (d->memory_kib + size - 1) / size;
	return 0;
}

/* The nodes to reserve on: -1 alone for the global pool. */
static int resolve_nodes(const struct action_ctx *ctx, const struct hp_conf *c, int **nodes, size_t *n)
{
	const struct domain *d = ctx->dom;

	*n = 0;
	*nodes = xcalloc(CPUSET_MAX, sizeof(**nodes));
	if (c->node_mode == NODE_ONE)
		(*nodes)[(*n)++] = (int)c->node;
	else if (c->node_mode == NODE_AUTO && d && d->has_numatune && !cpuset_empty(&d->numatune_nodes))
		for (unsigned i = 0; i < CPUSET_MAX; i++)
			if (cpuset_has(&d->numatune_nodes, i))
				(*nodes)[(*n)++] = (int)i;
	if (*n == 0)
		(*nodes)[(*n)++] = -1;
	return 0;
}

/* Refuses what the host can never provide, before anything changes. */
static int check_pool(const struct action_ctx *ctx, const struct pool *p, unsigned long long need, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *dir = pool_dir(p), *node_dir = xasprintf("/sys/devices/system/node/node%d", p->node);
	_cleanup_free_ char *meminfo = p->node < 0 ? xstrdup("/proc/meminfo") : xasprintf("%s/meminfo", node_dir);
	unsigned long long total;
	char total_s[32], where[32] = "this host";

	if (p->node >= 0)
		snprintf(where, sizeof(where), "node %d", p->node);
	if (p->node >= 0 && !sysfs_exists(root, node_dir))
		return err_set(e, -ENODEV, "NUMA node %d does not exist on this host (see /sys/devices/system/node)",
			       p->node);
	if (!sysfs_exists(root, dir))
		return err_set(
			e, -ENODEV,
			"this host has no %llukB huge pages (%s is missing; 1G pages may need hugepagesz=1G on the kernel command line)",
			p->size_kib, dir);
	if (sysfs_meminfo_field(root, meminfo, "MemTotal:", &total) < 0)
		return 0; /* no total to check against: the kernel will say */
	if (need > total / p->size_kib) {
		fmt_bytes(total, total_s, sizeof(total_s));
		return err_set(e, -E2BIG,
			       "%llu pages of %llukB are more than the %s of memory %s has in all: impossible", need,
			       p->size_kib, total_s, where);
	}
	return 0;
}

static int plan_pool(const struct action_ctx *ctx, const struct pool *p, unsigned long long need, struct plan *pl,
		     struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *key = pool_key(p), *dir = pool_dir(p), *name = pool_name(p);
	struct pool_state s;
	char need_s[32], mem[32], nr[32];
	struct step *st;
	int r = check_pool(ctx, p, need, e);

	if (r == 0)
		r = pool_state(ctx, p, need, &s, e);
	if (r < 0)
		return r;
	snprintf(need_s, sizeof(need_s), "%llu", need);
	fmt_bytes(need * p->size_kib, mem, sizeof(mem));
	snprintf(nr, sizeof(nr), "%llu", s.nr + s.add);
	_cleanup_free_ char *zfs_kernel = NULL;
	bool no_compact = zfs_compaction_unsafe(root, &zfs_kernel);
	_cleanup_free_ char *why =
		no_compact ? xasprintf(" (not compacting: kernel %s with ZFS loaded crashed on it, openzfs#15140)",
				       zfs_kernel)
			   : xstrdup("");

	st = plan_add(
		pl, &action_hugepages, "reserve", key, need_s,
		s.add ? xasprintf(
				"%s: %s pages (%s) for this VM; %llu free, %llu needed by other VMs: drop caches, %sallocate %llu (nr_hugepages %llu -> %s)%s",
				name, need_s, mem, s.free, s.others, no_compact ? "" : "compact, ", s.add, s.nr, nr,
				why)
		      : xasprintf(
				"%s: %s pages (%s) for this VM; %llu free, %llu needed by other VMs: enough, nothing to allocate",
				name, need_s, mem, s.free, s.others));
	st->shared = true;
	if (s.add) {
		_cleanup_free_ char *drop = sysfs_path(root, DROP_CACHES), *compact = sysfs_path(root, COMPACT_MEMORY);
		_cleanup_free_ char *nr_path = sysfs_path(root, "%s/nr_hugepages", dir);

		step_add_write(st, drop, "3");
		if (!no_compact)
			step_add_write(st, compact, "1");
		step_add_write(st, nr_path, nr);
	}
	return 0;
}

static int hp_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *pl, struct err *e)
{
	const struct hp_conf *c = data;
	unsigned long long size = 0, need = 0;
	_cleanup_free_ int *nodes = NULL;
	size_t n = 0;
	int r;

	if (phase != PHASE_PREPARE)
		return 0;
	r = resolve_size(ctx, c, &size, e);
	if (r == 0)
		r = resolve_need(ctx, c, size, &need, e);
	if (r == 0)
		r = resolve_nodes(ctx, c, &nodes, &n);
	if (r == 0 && c->arc_max) /* first: a smaller ARC leaves room for the pages */
		r = hugepages_arc_plan(ctx, c->arc_max, pl, e);
	/* Several numatune nodes: the pages are split evenly, the remainder on the first nodes. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct pool p = { size, nodes[i] };
		unsigned long long part = need / n + (i < need % n);

		if (part)
			r = plan_pool(ctx, &p, part, pl, e);
	}
	return r;
}

int hugepages_demand(const struct action_ctx *ctx, const void *data, unsigned long long *kib,
		     unsigned long long *arc_max, struct err *e)
{
	const struct hp_conf *c = data;
	unsigned long long size = 0, need = 0;
	int r;

	*arc_max = c->arc_max;
	if (c->pages_auto && !ctx->dom)
		return err_set(e, -ENODATA, "pages = auto needs its domain XML");
	r = resolve_size(ctx, c, &size, e);
	if (r == 0)
		r = resolve_need(ctx, c, size, &need, e);
	if (r == 0)
		*kib = need * size;
	return r;
}

/* ---- acting ---- */

/* saved = "<nr_hugepages before> <pages to add>". */
static int parse_saved(const char *saved, unsigned long long *prev, unsigned long long *add)
{
	int used = 0;

	if (sscanf(saved, "%llu %llu%n", prev, add, &used) != 2 || saved[used] != '\0')
		return -EINVAL;
	return 0;
}

static int hp_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	struct pool p;
	struct pool_state s;
	unsigned long long need, base;
	int r;

	if (strcmp(st->op, HUGEPAGES_ARC_OP) == 0)
		return hugepages_arc_observe(ctx, st, saved, e);
	if (pool_from_key(st->target, &p) < 0 || parse_uint(st->value, &need) < 0)
		return err_set(e, -EINVAL, "bad hugepages step '%s' = '%s'", st->target, st->value);
	r = pool_state(ctx, &p, need, &s, e);
	if (r == 0) /* the first VM to use the pool keeps what it found, for the last to go back to */
		r = pool_baseline(ctx, st->target, s.nr, &base, e);
	if (r < 0)
		return r;
	*saved = xasprintf("%llu %llu", s.nr, s.add);
	return 0;
}

/* Best effort: free page cache and defragment so that contiguous pages can be found. Both writes
 * are synchronous and can take seconds on a big host: bounded, and the allocation that follows
 * tells whether they helped. A kernel without compaction has no compact_memory. */
static void make_room(const char *root, unsigned timeout_ms)
{
	if (sysfs_exists(root, DROP_CACHES))
		(void)sysfs_write_bounded(root, DROP_CACHES, "3", timeout_ms);
	if (sysfs_exists(root, COMPACT_MEMORY) && !zfs_compaction_unsafe(root, NULL))
		(void)sysfs_write_bounded(root, COMPACT_MEMORY, "1", timeout_ms);
}

/* Gives back a partial allocation: the pool returns to exactly `before`. */
static int roll_back_partial(const char *root, const struct pool *p, unsigned long long before, unsigned long long want,
			     unsigned long long got_nr, struct err *e)
{
	_cleanup_free_ char *name = pool_name(p);
	unsigned long long free_now = 0, now = 0;
	char back[sizeof(e->msg) / 2];
	struct err re;
	int r;

	(void)pool_read(root, p, "free_hugepages", &free_now, &re);
	r = pool_write_nr(root, p, before, &now, &re);
	if (r == 0 && now != before)
		r = err_set(&re, -EIO, "nr_hugepages still reads %llu", now);
	if (r == 0)
		snprintf(back, sizeof(back), "rolled back to nr_hugepages %llu", before);
	else
		snprintf(back, sizeof(back), "rollback to %llu FAILED: %.400s", before, re.msg);
	return err_set(
		e, -ENOMEM,
		"%s: asked %llu, got %llu, free %llu (nr_hugepages %llu -> %llu wanted, the kernel reached %llu: not enough contiguous memory even after dropping caches and compacting); %s",
		name, want - before, got_nr > before ? got_nr - before : 0, free_now, before, want, got_nr, back);
}

static int hp_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	const char *root = ctx->conf->root;
	unsigned long long prev, add, base, cur, want, got;
	struct pool p;
	int r;

	if (strcmp(st->op, HUGEPAGES_ARC_OP) == 0)
		return hugepages_arc_apply(ctx, st, saved, e);
	if (pool_from_key(st->target, &p) < 0 || parse_saved(saved, &prev, &add) < 0)
		return err_set(e, -EINVAL, "bad hugepages journal record '%s' (%s)", st->target, saved);
	r = pool_baseline(ctx, st->target, prev, &base, e);
	if (r == 0)
		r = pool_read(root, &p, "nr_hugepages", &cur, e);
	if (r < 0)
		return r;
	/* What every live VM's pages need, this one's included: already there after a prepare that
	 * died after its write, or when the pool was grown for an interrupted VM's claim. */
	want = base + add + others_added(ctx, st->target);
	if (cur >= want)
		return 0;
	/* One pass, then the exact rollback: asking again while a partial pool holds most of memory
	 * ran a 1 GiB guest out of memory and the OOM killer took hookd itself (vm_hugepages_2m). */
	make_room(root, ctx->conf->timeout_ms);
	r = pool_write_nr(root, &p, want, &got, e);
	if (r < 0)
		return r;
	if (got < want)
		return roll_back_partial(root, &p, cur, want, got, e);
	return 0;
}

/* Back to the baseline plus what the other live VMs added: never below what they hold, and the
 * same count however often it runs. */
static int hp_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	const char *root = ctx->conf->root;
	unsigned long long prev, add, base, cur, target, now;
	_cleanup_free_ char *dir = NULL, *name = NULL;
	struct pool p;
	int r;

	if (strcmp(rec->op, HUGEPAGES_ARC_OP) == 0)
		return hugepages_arc_revert(ctx, rec->saved, e);
	if (pool_from_key(rec->target, &p) < 0 || parse_saved(rec->saved, &prev, &add) < 0)
		return err_set(e, -EINVAL, "bad hugepages journal record '%s' (%s)", rec->target, rec->saved);
	if (!sysfs_exists(root, (dir = pool_dir(&p))))
		return 0; /* the pool is gone (1G pages after a reboot without them): nothing to give back */
	r = pool_baseline(ctx, rec->target, prev, &base, e);
	if (r == 0)
		r = pool_read(root, &p, "nr_hugepages", &cur, e);
	if (r < 0)
		return r;
	target = base + others_added(ctx, rec->target);
	if (cur <= target)
		return 0;
	r = pool_write_nr(root, &p, target, &now, e);
	if (r < 0)
		return r;
	if (now != target) {
		name = pool_name(&p);
		return err_set(e, -EBUSY,
			       "%s: nr_hugepages %llu -> %llu, but the kernel still holds %llu (pages in use?)", name,
			       cur, target, now);
	}
	return 0;
}

const struct action_ops action_hugepages = {
	.name = "hugepages",
	.data_size = sizeof(struct hp_conf),
	.init = hp_init,
	.set = hp_set,
	.plan = hp_plan,
	.observe = hp_observe,
	.apply = hp_apply,
	.revert = hp_revert,
};
