/* PCI addresses: parsed from "dddd:bb:ss.f" or "bb:ss.f", printed lower-case "dddd:bb:ss.f" as sysfs
 * names them: the domain has 4 hex digits or more (Intel VMD puts devices in 10000 and up). */
#ifndef HOOKD_PCIADDR_H
#define HOOKD_PCIADDR_H

#include <stdbool.h>

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

#endif
