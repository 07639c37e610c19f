/* hookd doctor: the checks and the report they fill (shared by the host and the per-VM checks). */
#ifndef HOOKD_DOCTOR_H
#define HOOKD_DOCTOR_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "domain.h"

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };

struct doctor_line {
	enum doctor_level level;
	char *scope; /* "host" or the VM's name */
	char *check; /* a short name: iommu, hook, reset, ... */
	char *msg;   /* what was found and, for warn and FAIL, the next step */
};

struct doctor {
	const struct hookd_conf *conf;
	struct doctor_line *v;
	size_t n;
};

void doctor_add(struct doctor *d, enum doctor_level level, const char *scope, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void doctor_free(struct doctor *d);
/* The host's readiness: IOMMU, interrupt remapping, vfio modules, cgroup v2 cpuset, hugepages and
 * memory fragmentation, the libvirt hook and whether the daemon noticed it. */
void doctor_host(struct doctor *d);
/* One VM: its INI, its PCI hostdevs (group, drivers, boot VGA, reset), hugepages, CPU pinning and
 * whether its prepare would plan. dom is NULL when its XML could not be read (dom_err says why). */
void doctor_vm(struct doctor *d, const char *vm, const struct domain *dom, const char *dom_err);
/* What the VMs doctor looks at ask of the host's memory: their huge pages and ZFS ARC caps. */
struct doctor_memory {
	struct strv vms;            /* those whose huge pages are counted */
	struct strv uncounted;      /* "VM (why not)" */
	unsigned long long kib;     /* their huge pages, together */
	unsigned long long arc_cap; /* the smallest zfs_arc_max of their [hugepages] (0: none) */
};
/* Adds the [hugepages] of vm's INI, with its domain (NULL: the INI alone). */
void doctor_memory_count(struct doctor_memory *m, const struct hookd_conf *conf, const char *vm,
			 const struct domain *dom);
/* doctor_memory_count for every INI in hooks_dir, without domains. */
void doctor_memory_hooks_dir(struct doctor_memory *m, const struct hookd_conf *conf);
void doctor_memory_free(struct doctor_memory *m);
/* With ZFS loaded: does the ARC's maximum, with the VMs' huge pages and the host's share, fit in RAM? */
void doctor_zfs_memory(struct doctor *d, const struct doctor_memory *m);
void doctor_print_text(const struct doctor *d, FILE *out);
void doctor_print_json(const struct doctor *d, FILE *out);
/* How many lines have level. */
size_t doctor_count(const struct doctor *d, enum doctor_level level);

#endif
