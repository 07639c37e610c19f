/* ZFS facts that change how hookd treats memory (read under the root). */
#ifndef HOOKD_ZFS_H
#define HOOKD_ZFS_H

#include <stdbool.h>

/* ZFS is loaded (/sys/module/zfs). */
bool zfs_loaded(const char *root);
/* drop_caches with compact_memory crashed kernels 6.3.1 to 6.7.4 with ZFS loaded (openzfs#15140):
 * true on such a kernel (/proc/sys/kernel/osrelease) with ZFS loaded; *release (allocated, may be
 * NULL) names the kernel. */
bool zfs_compaction_unsafe(const char *root, char **release);

#endif
