#include "zfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"

bool zfs_loaded(const char *root)
{
	return sysfs_exists(root, "/sys/module/zfs");
}

bool zfs_compaction_unsafe(const char *root, char **release)
{
	char *rel = NULL;
	unsigned v[3] = { 0, 0, 0 };
	bool bad = false;

	if (zfs_loaded(root) && sysfs_read(root, "/proc/sys/kernel/osrelease", &rel) == 0 &&
	    sscanf(rel, "%u.%u.%u", &v[0], &v[1], &v[2]) >= 2) {
		unsigned k = v[0] * 10000 + v[1] * 100 + v[2];

		bad = k >= 60301 && k <= 60704;
	}
	if (release && bad)
		*release = rel;
	else
		free(rel);
	return bad;
}

bool zfs_arc_present(const char *root)
{
	return sysfs_exists(root, ZFS_ARC_MAX_PARAM);
}

unsigned long long zfs_arc_default_max(const char *version, unsigned long long ram)
{
	unsigned major = 0, minor = 0;
	unsigned long long most = ram > (1ULL << 30) ? ram - (1ULL << 30) : 0;

	if (version && sscanf(version, "%u.%u", &major, &minor) == 2 && (major < 2 || (major == 2 && minor < 3)))
		return ram / 2;
	return most > ram / 8 * 5 ? most : ram / 8 * 5;
}

/* One "name type data" line of a kstat file such as arcstats. */
static int kstat_field(const char *text, const char *name, unsigned long long *out)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		unsigned type;

		if (strncmp(p, name, n) == 0 && p[n] == ' ' && sscanf(p + n, " %u %llu", &type, out) == 2)
			return 0;
	}
	return -ENOENT;
}

static unsigned long long param_or(const char *root, const char *abs, unsigned long long dflt)
{
	_cleanup_free_ char *s = NULL;
	unsigned long long v;

	if (sysfs_read(root, abs, &s) < 0 || parse_uint(strstrip(s), &v) < 0)
		return dflt;
	return v;
}

/* Without arcstats (a module that exposes none): the limits as arc_init() sets them. */
static void arc_limits_by_rule(const char *root, struct zfs_arc *a)
{
	unsigned long long min = param_or(root, "/sys/module/zfs/parameters/zfs_arc_min", 0);
	unsigned long long dflt_min = a->ram / 32 > (32ULL << 20) ? a->ram / 32 : 32ULL << 20;

	a->c_min = min ? min : dflt_min;
	a->c_max = zfs_arc_default_max(a->version, a->ram);
	if (a->param && zfs_arc_check(a, a->param, NULL) == 0)
		a->c_max = a->param;
}

int zfs_arc_read(const char *root, struct zfs_arc *a, struct err *e)
{
	_cleanup_free_ char *param = NULL, *stats = NULL, *version = NULL;
	unsigned long long kib = 0;
	int r = sysfs_read(root, ZFS_ARC_MAX_PARAM, &param);

	*a = (struct zfs_arc){ 0 };
	if (r == 0 && parse_uint(strstrip(param), &a->param) < 0)
		r = -EINVAL;
	if (r < 0)
		return err_set(e, r, "cannot read %s: %s", ZFS_ARC_MAX_PARAM, strerror(-r));
	r = sysfs_meminfo_field(root, "/proc/meminfo", "MemTotal:", &kib);
	if (r < 0)
		return err_set(e, r, "cannot read MemTotal in /proc/meminfo: %s", strerror(-r));
	a->ram = kib << 10;
	if (sysfs_read(root, "/sys/module/zfs/version", &version) == 0)
		snprintf(a->version, sizeof(a->version), "%s", strstrip(version));
	if (sysfs_read(root, ZFS_ARCSTATS, &stats) == 0 && kstat_field(stats, "c_max", &a->c_max) == 0 &&
	    kstat_field(stats, "c_min", &a->c_min) == 0)
		return 0;
	arc_limits_by_rule(root, a);
	return 0;
}

int zfs_arc_check(const struct zfs_arc *a, unsigned long long v, struct err *e)
{
	if (v < ZFS_ARC_MAX_FLOOR)
		return err_set(e, -EINVAL, "zfs_arc_max %llu is below OpenZFS's floor of 64 MiB: it would ignore it",
			       v);
	if (v >= a->ram)
		return err_set(e, -EINVAL,
			       "zfs_arc_max %llu MiB is not below the %llu MiB of RAM: OpenZFS would ignore it",
			       v >> 20, a->ram >> 20);
	if (v <= a->c_min)
		return err_set(
			e, -EINVAL,
			"zfs_arc_max %llu MiB is not above the ARC's minimum of %llu MiB (zfs_arc_min, arcstats c_min): OpenZFS would ignore it; lower zfs_arc_min or raise zfs_arc_max",
			v >> 20, a->c_min >> 20);
	return 0;
}

int zfs_arc_write(const char *root, unsigned long long v, struct err *e)
{
	return sysfs_write_uint(root, ZFS_ARC_MAX_PARAM, v, e);
}

unsigned long long zfs_arc_cap_min(unsigned long long a, unsigned long long b)
{
	return !a || (b && b < a) ? b : a;
}
