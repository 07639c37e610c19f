/* The CLI's only use of libvirt: fetching a domain's XML (never done inside the hook). */
#ifndef HOOKD_CLI_VIRT_H
#define HOOKD_CLI_VIRT_H

#include <stdbool.h>

#include "util.h"

/* The XML of domain vm from qemu:///system: the inactive definition when inactive, else the live one. */
int virt_domain_xml(const char *vm, bool inactive, char **xml, struct err *e);

#endif
