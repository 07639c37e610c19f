/* PCI addresses: parsed from "dddd:bb:ss.f" or "bb:ss.f", printed lower-case "dddd:bb:ss.f" as sysfs
 * names them: the domain has 4 hex digits or more (Intel VMD puts devices in 10000 and up). */
#ifndef HOOKD_PCIADDR_H
#define HOOKD_PCIADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct pciaddr {
	unsigned domain, bus, slot, function;
};

#define PCIADDR_STRLEN 17 /* "ffffffff:00:00.0" + NUL */

/* Accepts "dddd:bb:ss.f" (4 to 8 domain digits) and "bb:ss.f" (domain 0), hex, any case; -EINVAL otherwise. */
int pciaddr_parse(const char *s, struct pciaddr *out);
/* Formats into buf (at least PCIADDR_STRLEN bytes); returns buf. */
char *pciaddr_format(const struct pciaddr *a, char *buf);
bool pciaddr_equal(const struct pciaddr *a, const struct pciaddr *b);
bool pciaddr_same_slot(const struct pciaddr *a, const struct pciaddr *b);

/* A set of PCI addresses in the order they were added, each once: the one list of addresses. */
struct pciaddr_list {
	struct pciaddr *v;
	size_t n;
};

bool pciaddr_list_has(const struct pciaddr_list *l, const struct pciaddr *a);
/* Appends a unless l has it already. */
void pciaddr_list_add(struct pciaddr_list *l, const struct pciaddr *a);
/* An INI list of addresses ("0000:01:00.0 0000:01:00.1", commas allowed: strv_split_list) into l,
 * replacing what it held. -EINVAL with e->msg naming the first item that is not an address. */
int pciaddr_list_parse(const char *value, struct pciaddr_list *l, struct err *e);
void pciaddr_list_free(struct pciaddr_list *l);
#define _cleanup_pciaddr_list_ __attribute__((cleanup(pciaddr_list_free)))

#endif
