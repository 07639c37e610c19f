/* Kernel modules through libkmod. */
#ifndef HOOKD_KMOD_H
#define HOOKD_KMOD_H

#include "util.h"

/* Makes sure the PCI driver `driver` (e.g. "vfio-pci") is registered, loading module `module` through
 * libkmod when it is not (built-in drivers need nothing). Refuses to load into the running kernel
 * when root is not "/": a simulated root must never change this machine's modules. */
int kmod_ensure_pci_driver(const char *root, const char *driver, const char *module, unsigned timeout_ms,
			   struct err *e);

#endif
