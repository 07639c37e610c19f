#include "cli_virt.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

int virt_domain_xml(const char *vm, bool inactive, char **xml, struct err *e)
{
	virConnectPtr conn;
	virDomainPtr dom;
	char *s;

	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpenReadOnly("qemu:///system");
	if (!conn)
		return err_set(e, -ECONNREFUSED, "cannot reach libvirtd (qemu:///system): %s; pass --xml FILE instead",
			       virGetLastErrorMessage());
	dom = virDomainLookupByName(conn, vm);
	if (!dom) {
		err_set(e, -ENOENT, "no domain '%s' in qemu:///system: %s", vm, virGetLastErrorMessage());
		virConnectClose(conn);
		return -ENOENT;
	}
	s = virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
	if (!s)
		err_set(e, -EIO, "cannot get the XML of '%s': %s", vm, virGetLastErrorMessage());
	virDomainFree(dom);
	virConnectClose(conn);
	if (!s)
		return -EIO;
	*xml = s;
	return 0;
}
