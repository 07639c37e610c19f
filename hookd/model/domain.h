/* The parts of a libvirt domain XML that hookd acts on. */
#ifndef HOOKD_DOMAIN_H
#define HOOKD_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cpuset.h"
#include "pciaddr.h"
#include "util.h"

struct domain_hostdev {
	struct pciaddr address;
	bool managed; /* managed='yes' (libvirt's default when the attribute is absent is no) */
};

/* Listed sorted by vCPU, as libvirt writes them. */
struct domain_vcpupin {
	unsigned vcpu;
	struct cpuset cpus;
};

struct domain_hugepage {
	bool has_size; /* false for a bare <hugepages/> */
	unsigned long long size_kib;
	struct cpuset nodes; /* empty when no nodeset= */
};

struct domain {
	char *name;
	char *uuid; /* NULL when absent */
	bool has_vcpus;
	unsigned vcpus;
	bool has_memory;
	unsigned long long memory_kib;
	struct domain_hostdev *hostdevs;
	size_t n_hostdevs;
	struct domain_vcpupin *vcpupins;
	size_t n_vcpupins;
	bool has_emulatorpin;
	struct cpuset emulatorpin;
	bool has_hugepages;                /* <memoryBacking><hugepages> present */
	struct domain_hugepage *hugepages; /* one per <page>, or one without size for a bare <hugepages/> */
	size_t n_hugepages;
	bool has_numatune;
	struct cpuset numatune_nodes; /* <numatune><memory nodeset=>, unless placement='auto' */
	char **warnings;              /* what libvirt too ignores with a warning ("line N: ...") */
	size_t n_warnings;
};

/* Parses a domain XML document (no network, no entity expansion). On error returns -EINVAL
 * with e->msg saying what and where ("line 12: ..."). *out is owned by the caller. */
int domain_parse(const char *xml, size_t len, struct domain **out, struct err *e);
void domain_free(struct domain *d);
/* Prints the exact `inspect --json` object of DESIGN.md §4, followed by a newline. */
void domain_print_json(const struct domain *d, FILE *out);
/* Human-readable summary for `hookd inspect`. */
void domain_print_text(const struct domain *d, FILE *out);

#endif
