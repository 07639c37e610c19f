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
void doctor_print_text(const struct doctor *d, FILE *out);
void doctor_print_json(const struct doctor *d, FILE *out);
/* How many lines have level. */
size_t doctor_count(const struct doctor *d, enum doctor_level level);

#endif
