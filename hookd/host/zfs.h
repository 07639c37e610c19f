/* ZFS facts that change how hookd treats memory (read under the root), and the ARC's maximum. */
#ifndef HOOKD_ZFS_H
#define HOOKD_ZFS_H

#include <stdbool.h>

#include "util.h"

#define ZFS_ARC_MAX_PARAM "/sys/module/zfs/parameters/zfs_arc_max"
#define ZFS_ARCSTATS "/proc/spl/kstat/zfs/arcstats"
/* OpenZFS ignores a zfs_arc_max below MIN_ARC_MAX (DMU_MAX_ACCESS, 64 MiB): arc_tuning_update(). */
#define ZFS_ARC_MAX_FLOOR (64ULL << 20)

/* ZFS is loaded (/sys/module/zfs). */
bool zfs_loaded(const char *root);
/* drop_caches with compact_memory crashed kernels 6.3.1 to 6.7.4 with ZFS loaded (openzfs#15140):
 * true on such a kernel (/proc/sys/kernel/osrelease) with ZFS loaded; *release (allocated, may be
 * NULL) names the kernel. */
bool zfs_compaction_unsafe(const char *root, char **release);

/* The ARC's limits as the module holds them now. */
struct zfs_arc {
	unsigned long long param; /* zfs_arc_max as last written (0: never set, the module's default) */
	unsigned long long c_max; /* the maximum the ARC keeps to now (arcstats c_max, else worked out) */
	unsigned long long c_min; /* its minimum: OpenZFS takes only a zfs_arc_max above it */
	unsigned long long ram;   /* what OpenZFS counts as all memory (MemTotal) */
	char version[32];         /* /sys/module/zfs/version, "" when unknown */
};

/* ZFS is loaded with a zfs_arc_max parameter to write. */
bool zfs_arc_present(const char *root);
int zfs_arc_read(const char *root, struct zfs_arc *a, struct err *e);
/* The ARC maximum OpenZFS on Linux takes when zfs_arc_max is 0: half of the RAM up to 2.2, the
 * larger of RAM - 1 GiB and 5/8 of it from 2.3 on (openzfs#15437; an unknown version: the latter). */
unsigned long long zfs_arc_default_max(const char *version, unsigned long long ram);
/* -EINVAL, saying why, when OpenZFS would ignore zfs_arc_max = v (arc_tuning_update takes only
 * 64 MiB <= v < RAM and v > c_min, and says nothing but a kernel warning otherwise). */
int zfs_arc_check(const struct zfs_arc *a, unsigned long long v, struct err *e);
/* The smaller of two caps on the ARC, 0 being no cap: what several VMs' zfs_arc_max make together. */
unsigned long long zfs_arc_cap_min(unsigned long long a, unsigned long long b);
/* Writes zfs_arc_max = v. */
int zfs_arc_write(const char *root, unsigned long long v, struct err *e);

#endif
