/* [hugepages] zfs_arc_max = SIZE: while the VM runs, the ZFS ARC may use at most SIZE, so that the
 * memory its huge pages need is not held by a cache that drop_caches cannot free (openzfs#10048).
 *
 * The parameter is shared by every running VM, like a pool: it is the smallest cap of the live
 * journals, never above what the host had before the first VM (the baseline, kept as
 * "<zfs_arc_max> <arcstats c_max>" in <state_dir>/shared). The last VM to go writes the baseline back.
 * OpenZFS ignores a written 0 at run time (arc_tuning_update() takes only non-zero values), so a
 * baseline of 0 is restored in two writes: the maximum the ARC had (c_max), then 0 again. Apply and
 * revert compute the value to reach and compare it with the module's, never adding or subtracting. */
#include "hugepages_arc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared.h"
#include "sysfs.h"
#include "zfs.h"

extern const struct action_ops action_hugepages;

int hugepages_arc_parse(const char *value, unsigned long long *bytes, struct err *e)
{
	if (parse_size(value, 1, bytes) < 0)
		return err_set(e, -EINVAL, "expected a size in bytes, or with K, M, G (8G, 8192M), got '%s'", value);
	if (*bytes < ZFS_ARC_MAX_FLOOR)
		return err_set(e, -EINVAL, "'%s' is below 64M, the smallest zfs_arc_max OpenZFS takes", value);
	return 0;
}

static void fmt_mib(unsigned long long bytes, char *buf, size_t len)
{
	if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0)
		snprintf(buf, len, "%llu GiB", bytes >> 30);
	else
		snprintf(buf, len, "%llu MiB", bytes >> 20);
}

/* The smallest cap of the other live VMs that lowered the ARC (0: none). */
static void min_cap(const struct held_step *h, void *arg)
{
	unsigned long long *m = arg, v;

	if (strcmp(h->rec.saved, "-") != 0 && parse_uint(h->rec.value, &v) == 0)
		*m = zfs_arc_cap_min(*m, v);
}

static unsigned long long others_cap(const struct action_ctx *ctx)
{
	unsigned long long m = 0;

	shared_for_each(ctx, action_hugepages.name, HUGEPAGES_ARC_TARGET, min_cap, &m);
	return m;
}

int hugepages_arc_plan(const struct action_ctx *ctx, unsigned long long cap, struct plan *pl, struct err *e)
{
	const char *root = ctx->conf->root;
	unsigned long long others = others_cap(ctx), want = zfs_arc_cap_min(others, cap);
	char cap_s[32], value[32], mem[32], oth[48] = "none";
	_cleanup_free_ char *path = NULL;
	struct zfs_arc a;
	struct step *st;
	char *desc;
	int r;

	snprintf(value, sizeof(value), "%llu", cap);
	fmt_mib(cap, cap_s, sizeof(cap_s));
	if (!zfs_arc_present(root)) {
		desc = xasprintf("ZFS ARC at most %s while this VM runs: ZFS is not loaded (no %s): nothing to do",
				 cap_s, ZFS_ARC_MAX_PARAM);
	} else {
		r = zfs_arc_read(root, &a, e);
		if (r == 0)
			r = zfs_arc_check(&a, cap, e);
		if (r < 0)
			return r;
		if (others)
			fmt_mib(others, oth, sizeof(oth));
		fmt_mib(a.c_max, mem, sizeof(mem));
		if (want >= a.c_max)
			desc = xasprintf(
				"ZFS ARC at most %s while this VM runs (other VMs: %s): its maximum is %s already (zfs_arc_max %llu): nothing to do",
				cap_s, oth, mem, a.param);
		else {
			desc = xasprintf(
				"ZFS ARC at most %s while this VM runs (other VMs: %s; now %s): zfs_arc_max %llu -> %llu (the ARC shrinks to it in the background)",
				cap_s, oth, mem, a.param, want);
			path = sysfs_path(root, "%s", ZFS_ARC_MAX_PARAM);
		}
	}
	st = plan_add(pl, &action_hugepages, HUGEPAGES_ARC_OP, HUGEPAGES_ARC_TARGET, value, desc);
	st->shared = true;
	if (path) {
		char want_s[32];

		snprintf(want_s, sizeof(want_s), "%llu", want);
		step_add_write(st, path, want_s);
	}
	return 0;
}

/* saved and baselines: "<zfs_arc_max> <c_max>", or "-" when ZFS was not loaded. */
static int parse_saved(const char *saved, struct zfs_arc *a)
{
	int used = 0;

	if (sscanf(saved, "%llu %llu%n", &a->param, &a->c_max, &used) != 2 || saved[used] != '\0')
		return -EINVAL;
	return 0;
}

/* The module's state before any VM lowered the ARC; `found` (this VM's record) when none was kept. */
static int arc_baseline(const struct action_ctx *ctx, const char *found, struct zfs_arc *base, struct err *e)
{
	_cleanup_free_ char *s = NULL;
	int r = shared_baseline(ctx, action_hugepages.name, HUGEPAGES_ARC_TARGET, found, &s, e);

	if (r < 0)
		return r;
	if (parse_saved(s, base) < 0)
		return err_set(e, -EINVAL, "bad zfs_arc_max baseline '%s'", s);
	return 0;
}

int hugepages_arc_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	struct zfs_arc a, base;
	int r;

	(void)st;
	if (!zfs_arc_present(ctx->conf->root)) {
		*saved = xstrdup("-");
		return 0;
	}
	r = zfs_arc_read(ctx->conf->root, &a, e);
	if (r < 0)
		return r;
	*saved = xasprintf("%llu %llu", a.param, a.c_max);
	r = arc_baseline(ctx, *saved, &base, e); /* the first VM keeps what it found, for the last */
	if (r < 0) {
		free(*saved);
		*saved = NULL;
	}
	return r;
}

/* Writes v and checks that OpenZFS took it: it says nothing when it ignores a value. */
static int arc_set(const char *root, unsigned long long v, unsigned long long expect_c_max, struct err *e)
{
	struct zfs_arc now;
	int r = zfs_arc_write(root, v, e);

	if (r == 0)
		r = zfs_arc_read(root, &now, e);
	if (r == 0 && now.c_max != expect_c_max)
		return err_set(e, -EIO, "wrote zfs_arc_max %llu, but the ARC's maximum is %llu, not %llu", v, now.c_max,
			       expect_c_max);
	return r;
}

/* Lowers only: the smallest cap of every live VM, this one's included, when it is below the ARC's
 * maximum now (a host already lower keeps its own). */
int hugepages_arc_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	const char *root = ctx->conf->root;
	unsigned long long cap, want;
	struct zfs_arc a;
	int r;

	if (strcmp(saved, "-") == 0)
		return 0;
	if (parse_uint(st->value, &cap) < 0)
		return err_set(e, -EINVAL, "bad zfs_arc_max step value '%s'", st->value);
	want = zfs_arc_cap_min(others_cap(ctx), cap); /* its cap, or a smaller one another VM holds */
	r = zfs_arc_read(root, &a, e);
	if (r == 0)
		r = zfs_arc_check(&a, want, e);
	if (r < 0 || want >= a.c_max)
		return r;
	return arc_set(root, want, want, e);
}

/* Back to what the other live VMs need, or to the baseline when none does: its maximum first (a 0
 * leaves OpenZFS's maximum where it is), then its parameter. */
int hugepages_arc_revert(const struct action_ctx *ctx, const char *saved, struct err *e)
{
	const char *root = ctx->conf->root;
	unsigned long long others = others_cap(ctx);
	struct zfs_arc base, now, target;
	int r;

	if (strcmp(saved, "-") == 0 || !zfs_arc_present(root))
		return 0; /* nothing was lowered, or the module is gone and took the value with it */
	r = arc_baseline(ctx, saved, &base, e);
	if (r == 0)
		r = zfs_arc_read(root, &now, e);
	if (r < 0)
		return r;
	target = others && others < base.c_max ? (struct zfs_arc){ .param = others, .c_max = others } : base;
	if (now.c_max != target.c_max) {
		r = arc_set(root, target.c_max, target.c_max, e);
		if (r == 0)
			r = zfs_arc_read(root, &now, e);
	}
	if (r == 0 && now.param != target.param)
		r = arc_set(root, target.param, target.c_max, e);
	return r;
}
