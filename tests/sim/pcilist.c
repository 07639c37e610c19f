/* sim-pcilist SYSFS_BUS_PCI: lists devices the way hookd's libpci sees them
 * ("dddd:bb:ss.f vvvv:dddd cccc hdr"), to check fixture roots without needing lspci. */
#include <pci/pci.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: sim-pcilist DIR/sys/bus/pci\n", stderr);
		return 2;
	}
	struct pci_access *pacc = pci_alloc();
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_set_param(pacc, "sysfs.path", argv[1]);
	pci_init(pacc);
	pci_scan_bus(pacc);
	for (struct pci_dev *d = pacc->devices; d; d = d->next) {
		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_IOMMU_GROUP);
		int hdr = pci_read_byte(d, PCI_HEADER_TYPE);
		const char *group = pci_get_string_property(d, PCI_FILL_IOMMU_GROUP);
		if (!group)
			group = "-";
		printf("%04x:%02x:%02x.%d %04x:%04x %04x %02x %s\n", d->domain, d->bus, d->dev, d->func, d->vendor_id,
		       d->device_id, d->device_class, hdr, group);
	}
	pci_cleanup(pacc);
	return 0;
}
