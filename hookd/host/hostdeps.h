/* What the host itself needs a PCI function for: [vfio] must never take it from under the host.
 * Read under the root only (sysfs, /proc); changes nothing. */
#ifndef HOOKD_HOSTDEPS_H
#define HOOKD_HOSTDEPS_H

#include "pciaddr.h"

/* Why the host depends on the function at a, or NULL (*why) when it does not:
 * - a block device behind it (its disks, partitions, and what holds them: dm, md) backs a mounted
 *   filesystem (/proc/self/mountinfo) or active swap (/proc/swaps);
 * - a network interface of it carries the default route (/proc/net/route, /proc/net/ipv6_route) or
 *   has addresses in use (an IPv4 route through it, a global IPv6 address in /proc/net/if_inet6);
 * - host processes hold its DRM nodes (/dev/dri/card*, renderD* of this device) or, on the nvidia
 *   driver, /dev/nvidia* open: each named with pid, command and systemd unit.
 * The reasons are joined with "; ". */
void hostdeps_find(const char *root, const struct pciaddr *a, char **why);

#endif
