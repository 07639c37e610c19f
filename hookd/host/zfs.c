#include "zfs.h"

#include <stdio.h>

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
