/* Can an IOMMU group be given to vfio as it is? The one rule [vfio], `hookd devices` and
 * `hookd doctor` judge groups by: call iommu_group_judge, never re-derive it.
 *
 * The rule is the kernel's and libvirt's together:
 * - the kernel (drivers/vfio/vfio.c, vfio_dev_driver_allowed / vfio_dev_viable, and
 *   Documentation/driver-api/vfio.rst "viable groups") lets a user open a group only when every
 *   device in it is driver-less, bound to a vfio driver, bound to pci-stub, or a PCI bridge
 *   (interconnect: header type not normal, here class 0x0604);
 * - libvirt (src/util/virhostdev.c virHostdevPreparePCIDevices, step 1: for a VFIO hostdev it
 *   runs virHostdevIsPCINodeDeviceUsed over virPCIDeviceAddressIOMMUGroupIterate) refuses a
 *   device when any member of its IOMMU group is already in use by another domain: a vfio group
 *   goes to one VM at a time.
 * So a member blocks the group when it is bound to a host driver, or when another VM holds it
 * (its live journal bound it to vfio-pci). A member that is unbound, on vfio-pci or on
 * pci-stub and held by no VM does not block, whatever slot it is in. */
#ifndef HOOKD_IOMMU_H
#define HOOKD_IOMMU_H

#include <stdbool.h>
#include <stddef.h>

#include "pciaddr.h"
#include "util.h"

struct held_step;

enum iommu_member_state {
	IOMMU_MEMBER_OURS,     /* one of the devices asked about: it moves to vfio-pci with the group */
	IOMMU_MEMBER_BRIDGE,   /* a PCI bridge: the kernel lets it share a vfio group */
	IOMMU_MEMBER_FREE,     /* unbound, on vfio-pci or on pci-stub, and held by no other VM */
	IOMMU_MEMBER_HOST,     /* bound to a host driver: blocks */
	IOMMU_MEMBER_OTHER_VM, /* held by another VM (its journal binds it to vfio-pci): blocks */
};

struct iommu_member {
	struct pciaddr addr;
	char *driver;        /* NULL when unbound */
	const char *held_by; /* IOMMU_MEMBER_OTHER_VM: the VM's name (points into others) */
	enum iommu_member_state state;
};

struct iommu_verdict {
	unsigned group;
	struct iommu_member *members; /* every PCI member of the group, sorted by address */
	size_t n;
	size_t n_blockers; /* members in state HOST or OTHER_VM; 0: the group is viable */
};

/* Judges IOMMU group `group` for moving devs[0..n_devs) to vfio-pci while the VMs of others (what
 * their live journals hold, the caller's own excluded; may be NULL) run. Reads sysfs under root, changes nothing.
 * -errno (e->msg set) only when the group cannot be read; fill *out, free with iommu_verdict_free. */
int iommu_group_judge(const char *root, unsigned group, const struct pciaddr *devs, size_t n_devs,
		      const struct held_step *others, size_t n_others, struct iommu_verdict *out, struct err *e);
/* The first blocking member, or NULL when the group is viable. */
const struct iommu_member *iommu_first_blocker(const struct iommu_verdict *v);
bool iommu_member_blocks(const struct iommu_member *m);
void iommu_verdict_free(struct iommu_verdict *v);

#endif
