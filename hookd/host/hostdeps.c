#include "hostdeps.h"

#include <stdio.h>
#include <string.h>

#include "pci.h"
#include "procfd.h"
#include "sysfs.h"

/* Adds s (a copy) unless it is there already. */
static void names_add(struct strv *l, const char *s)
{
	if (!strv_has(l, s))
		strv_add(l, xstrdup(s));
}

/* The block devices below the PCI function (disks and partitions: their /sys/class/block link runs
 * through the function's directory), then everything stacked on them (holders: dm, md), transitively. */
static void block_devices(const char *root, const char *addr, struct strv *out)
{
	_cleanup_free_ char *needle = xasprintf("/%s/", addr);
	char **blk = NULL;
	size_t n = 0;

	if (sysfs_list(root, "/sys/class/block", &blk, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("/sys/class/block/%s", blk[i]), *target = NULL;

		if (sysfs_readlink(root, p, &target) == 0 && strstr(target, needle))
			names_add(out, blk[i]);
	}
	sysfs_list_free(blk, n);
	for (size_t i = 0; i < out->n; i++) {
		_cleanup_free_ char *p = xasprintf("/sys/class/block/%s/holders", out->v[i]);
		char **h = NULL;
		size_t k = 0;

		if (sysfs_list(root, p, &h, &k) < 0)
			continue;
		for (size_t j = 0; j < k; j++)
			names_add(out, h[j]);
		sysfs_list_free(h, k);
	}
}

/* The block device name a /proc/swaps or mountinfo source means: "/dev/sda2" -> "sda2",
 * "/dev/mapper/vg-swap" -> "dm-1" through its link. */
static char *dev_name(const char *root, const char *path)
{
	_cleanup_free_ char *target = NULL;
	const char *base;

	if (strncmp(path, "/dev/", 5) != 0)
		return NULL;
	if (sysfs_readlink(root, path, &target) == 0)
		path = target;
	base = strrchr(path, '/');
	return xstrdup(base ? base + 1 : path);
}

/* "mounted at MOUNTPOINT (from NAME)" for each mount whose device or source is one of blk. */
static void mounts_on(const char *root, const struct strv *blk, FILE *out, unsigned *count)
{
	_cleanup_free_ char *s = NULL;
	struct strv devs = { 0 };

	if (!blk->n || sysfs_read(root, "/proc/self/mountinfo", &s) < 0)
		return;
	for (size_t i = 0; i < blk->n; i++) {
		_cleanup_free_ char *p = xasprintf("/sys/class/block/%s/dev", blk->v[i]), *dev = NULL;

		strv_add(&devs, sysfs_read(root, p, &dev) == 0 ? xstrdup(dev) : xstrdup("-"));
	}
	for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char majmin[32], mnt[512], src[512] = "";
		const char *dash = strstr(line, " - ");
		_cleanup_free_ char *name = NULL;
		size_t hit = blk->n;

		if (sscanf(line, "%*s %*s %31s %*s %511s", majmin, mnt) != 2)
			continue;
		if (dash)
			(void)sscanf(dash + 3, "%*s %511s", src);
		name = dev_name(root, src);
		for (size_t i = 0; i < blk->n && hit == blk->n; i++)
			if (strcmp(devs.v[i], majmin) == 0 || (name && strcmp(name, blk->v[i]) == 0))
				hit = i;
		if (hit < blk->n)
			fprintf(out, "%s%s is mounted from %s", (*count)++ ? "; " : "", mnt, blk->v[hit]);
	}
	strv_free(&devs);
}

static void swaps_on(const char *root, const struct strv *blk, FILE *out, unsigned *count)
{
	_cleanup_free_ char *s = NULL;

	if (!blk->n || sysfs_read(root, "/proc/swaps", &s) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char file[512];
		_cleanup_free_ char *name = NULL;

		if (sscanf(line, "%511s", file) != 1 || !(name = dev_name(root, file)) || !strv_has(blk, name))
			continue;
		fprintf(out, "%sswap is active on %s", (*count)++ ? "; " : "", name);
	}
}

/* Does the interface carry the default route, or any address in use? */
static void net_uses(const char *root, const char *ifname, FILE *out, unsigned *count)
{
	_cleanup_free_ char *r4 = NULL, *r6 = NULL, *a6 = NULL;
	bool deflt = false, inuse = false;

	if (sysfs_read(root, "/proc/net/route", &r4) == 0)
		for (char *save = NULL, *l = strtok_r(r4, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char ifc[64], dst[16];

			if (sscanf(l, "%63s %15s", ifc, dst) == 2 && strcmp(ifc, ifname) == 0) {
				inuse = true;
				deflt |= strcmp(dst, "00000000") == 0;
			}
		}
	if (sysfs_read(root, "/proc/net/ipv6_route", &r6) == 0)
		for (char *save = NULL, *l = strtok_r(r6, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char dst[40], len[4], ifc[64];

			if (sscanf(l, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %63s", dst, len, ifc) == 3 &&
			    strcmp(ifc, ifname) == 0 && strcmp(len, "00") == 0 && strspn(dst, "0") == 32)
				deflt = true;
		}
	if (sysfs_read(root, "/proc/net/if_inet6", &a6) == 0)
		for (char *save = NULL, *l = strtok_r(a6, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char scope[8], ifc[64];

			if (sscanf(l, "%*s %*s %*s %7s %*s %63s", scope, ifc) == 2 && strcmp(ifc, ifname) == 0 &&
			    strcmp(scope, "00") == 0)
				inuse = true;
		}
	if (deflt)
		fprintf(out, "%snetwork interface %s carries the default route", (*count)++ ? "; " : "", ifname);
	else if (inuse)
		fprintf(out, "%snetwork interface %s has addresses in use", (*count)++ ? "; " : "", ifname);
}

/* Is DRM node name (card0, renderD128) a node of the PCI function addr? */
static bool drm_of(const char *root, const char *name, const char *addr)
{
	_cleanup_free_ char *p = xasprintf("/sys/class/drm/%s/device", name);
	_cleanup_free_ char *dev = xasprintf("/sys/bus/pci/devices/%s", addr);

	return sysfs_same_file(root, p, dev);
}

struct gpu_nodes {
	const char *root;
	const char *addr;
	bool nvidia; /* the function is on an nvidia driver: /dev/nvidia* are its nodes */
};

/* /dev/dri/X of this function (its /sys/class/drm/X/device), or /dev/nvidia* on the nvidia driver. */
static bool gpu_node_of(const char *root, const char *node, void *arg)
{
	const struct gpu_nodes *g = arg;

	if (strncmp(node, "/dev/nvidia", 11) == 0)
		return g->nvidia;
	if (strncmp(node, "/dev/dri/", 9) != 0 || strchr(node + 9, '/'))
		return false;
	return drm_of(root, node + 9, g->addr);
}

/* Only a function with DRM nodes (or on nvidia) is worth a walk over every process's open files. */
static bool has_gpu_nodes(const char *root, const char *addr, const char *drv)
{
	char **cards = NULL;
	size_t n = 0;
	bool found = drv && strstr(drv, "nvidia");

	if (found || sysfs_list(root, "/sys/class/drm", &cards, &n) < 0)
		return found;
	for (size_t i = 0; i < n && !found; i++)
		found = drm_of(root, cards[i], addr);
	sysfs_list_free(cards, n);
	return found;
}

void hostdeps_find(const char *root, const struct pciaddr *a, char **why)
{
	char addr[PCIADDR_STRLEN], *buf = NULL;
	_cleanup_free_ char *net = NULL, *drv = NULL, *procs = NULL;
	struct strv blk = { 0 };
	char **ifs = NULL;
	size_t len = 0, n_ifs = 0;
	unsigned count = 0;
	FILE *out = xopen_memstream(&buf, &len);

	pciaddr_format(a, addr);
	block_devices(root, addr, &blk);
	mounts_on(root, &blk, out, &count);
	swaps_on(root, &blk, out, &count);
	strv_free(&blk);
	net = xasprintf("/sys/bus/pci/devices/%s/net", addr);
	if (sysfs_list(root, net, &ifs, &n_ifs) == 0) {
		for (size_t i = 0; i < n_ifs; i++)
			net_uses(root, ifs[i], out, &count);
		sysfs_list_free(ifs, n_ifs);
	}
	(void)hpci_driver(root, a, &drv);
	if (has_gpu_nodes(root, addr, drv))
		procfd_holders(root, gpu_node_of, &(struct gpu_nodes){ root, addr, drv && strstr(drv, "nvidia") },
			       &procs);
	if (procs)
		fprintf(out, "%s%s", count++ ? "; " : "", procs);
	fclose(out);
	if (!count) {
		free(buf);
		buf = NULL;
	}
	*why = buf;
}
