/* The host's CPU topology as sysfs shows it: online CPUs, SMT siblings, L3 caches, NUMA nodes,
 * packages (Documentation/ABI/stable/sysfs-devices-system-cpu, sysfs-devices-node). */
#ifndef HOOKD_CPUTOPO_H
#define HOOKD_CPUTOPO_H

#include <stdbool.h>

#include "cpuset.h"

#define CPUTOPO_ONLINE "/sys/devices/system/cpu/online"

/* The online CPUs (CPUTOPO_ONLINE, for a caller's message when it cannot be read). */
int cputopo_online(const char *root, struct cpuset *out);
/* The CPUs of cpu's L3 cache, else of its NUMA node, else of its package: the "domain" to fill;
 * *what (allocated) names it for the user, e.g. "L3 of node1". */
void cputopo_domain(const char *root, unsigned cpu, struct cpuset *out, char **what);
/* cpu's SMT siblings, cpu included; just cpu when the kernel does not say. */
void cputopo_siblings(const char *root, unsigned cpu, struct cpuset *out);
/* Whether cpu is on one of the NUMA nodes in nodes (a <numatune> nodeset). */
bool cputopo_cpu_on_nodes(const char *root, unsigned cpu, const struct cpuset *nodes);

#endif
