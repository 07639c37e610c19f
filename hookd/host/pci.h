/* PCI devices through libpci (sysfs method, under the root prefix) and their sysfs attributes. */
#ifndef HOOKD_PCI_H
#define HOOKD_PCI_H

#include <stdbool.h>
#include <stddef.h>

#include "pciaddr.h"
#include "util.h"

/* Every PCI device present under root, sorted; libpci does the enumeration. */
int hpci_scan(const char *root, struct pciaddr **out, size_t *n, struct err *e);
/* "NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]", from pci.ids; ids alone when unknown. */
char *hpci_name(const char *root, const struct pciaddr *a);
bool hpci_present(const char *root, const struct pciaddr *a);
/* The devices [vfio] moves (vfio_devices, for its plan and doctor alike): each of devs and, with
 * companions, the other functions of its slot, added to out once each. -ENODEV with e->msg for the
 * first device that is not on the host. */
int hpci_with_companions(const char *root, const struct pciaddr *devs, size_t n, bool companions,
			 struct pciaddr_list *out, struct err *e);
/* The bound driver's name, or NULL (unbound); -errno only on unexpected errors. */
int hpci_driver(const char *root, const struct pciaddr *a, char **out);
/* The IOMMU group number; -ENOENT when the device has none (IOMMU off). */
int hpci_iommu_group(const char *root, const struct pciaddr *a, unsigned *out);
/* Every device of an IOMMU group, sorted. */
int hpci_group_members(const char *root, unsigned group, struct pciaddr **out, size_t *n, struct err *e);
/* PCI bridges (class 0x0604) are not endpoints: the IOMMU-group viability rule skips them. */
bool hpci_is_bridge(const char *root, const struct pciaddr *a);
/* driver_override as the kernel shows it; "" for "(null)". */
int hpci_driver_override(const char *root, const struct pciaddr *a, char **out);

/* 1 when the device can do a Function Level Reset (its PCIe capability says so), 0 when not; -errno
 * when its config space cannot be read. */
int hpci_has_flr(const char *root, const struct pciaddr *a);
/* Vendor and device ids and the class (base and subclass, e.g. 0x0300); -ENOENT when unreadable. */
int hpci_vendor_device(const char *root, const struct pciaddr *a, unsigned *vendor, unsigned *device, unsigned *class);
/* The firmware booted on this VGA device (boot_vga is 1): the host's console runs on it. */
bool hpci_boot_vga(const char *root, const struct pciaddr *a);

#endif
