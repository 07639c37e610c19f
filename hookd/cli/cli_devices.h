/* hookd devices: PCI devices by IOMMU group, with what can be passed through as it is. */
#ifndef HOOKD_CLI_DEVICES_H
#define HOOKD_CLI_DEVICES_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"

/* Lists every PCI device under conf->root grouped by IOMMU group, as text or JSON (read-only).
 * Returns 0, or -errno after one message on stderr (no PCI bus under the root). */
int devices_print(const struct hookd_conf *conf, bool json, FILE *out);

#endif
