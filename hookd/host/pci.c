#include "pci.h"

#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "sysfs.h"

static jmp_buf hpci_jmp;
static char hpci_errmsg[256];

/* libpci's error callback must not return: unwind to the caller of hpci_scan. */
static void __attribute__((noreturn, format(printf, 1, 2))) hpci_fail(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(hpci_errmsg, sizeof(hpci_errmsg), msg, ap);
	va_end(ap);
	longjmp(hpci_jmp, 1);
}

static void __attribute__((format(printf, 1, 2))) hpci_quiet(char *msg, ...)
{
	(void)msg;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct pciaddr *x = a, *y = b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return (int)x->function - (int)y->function;
}

/* A libpci handle that reads <root>/sys/bus/pci only (never the live bus when root is not /). */
static struct pci_access *hpci_new(const char *sys)
{
	struct pci_access *pacc = pci_alloc();

	pacc->error = hpci_fail;
	pacc->warning = hpci_quiet;
	pacc->debugging = 0;
	pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_set_param(pacc, "sysfs.path", (char *)sys); /* libpci reads <sysfs.path>/devices */
	return pacc;
}

static struct pci_access *hpci_open(const char *root, struct err *e)
{
	_cleanup_free_ char *sys = sysfs_path(root, "/sys/bus/pci");
	struct pci_access *volatile pacc;

	if (!sysfs_exists(root, "/sys/bus/pci")) {
		err_set(e, -ENOENT, "no PCI bus at %s", sys);
		return NULL;
	}
	pacc = hpci_new(sys);
	if (setjmp(hpci_jmp)) {
		err_set(e, -EIO, "libpci: %s", hpci_errmsg);
		return NULL; /* pacc is leaked on purpose: libpci's state is unknown after an error */
	}
	pci_init(pacc);
	pci_scan_bus(pacc);
	return pacc;
}

int hpci_scan(const char *root, struct pciaddr **out, size_t *n, struct err *e)
{
	struct pci_access *pacc = hpci_open(root, e);
	struct pciaddr *v = NULL;
	size_t cnt = 0;

	if (!pacc)
		return -EIO;
	for (struct pci_dev *d = pacc->devices; d; d = d->next) {
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = (struct pciaddr){ (unsigned)d->domain, d->bus, d->dev, d->func };
	}
	pci_cleanup(pacc);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_addr);
	*out = v;
	*n = cnt;
	return 0;
}

/* "/sys/bus/pci/devices/0000:01:00.0/<attr>" */
static char *dev_path(const struct pciaddr *a, const char *attr)
{
	char buf[PCIADDR_STRLEN];

	return xasprintf("/sys/bus/pci/devices/%s%s%s", pciaddr_format(a, buf), attr[0] ? "/" : "", attr);
}

static unsigned long read_hex(const char *root, const struct pciaddr *a, const char *attr)
{
	_cleanup_free_ char *p = dev_path(a, attr);
	_cleanup_free_ char *s = NULL;

	return sysfs_read(root, p, &s) == 0 ? strtoul(s, NULL, 16) : 0;
}

/* One libpci handle for name lookups, kept for the process: pci.ids is parsed once (~7 ms). */
static struct pci_access *names_pacc;
static char *names_root;

char *hpci_name(const char *root, const struct pciaddr *a)
{
	unsigned vendor = (unsigned)read_hex(root, a, "vendor"), device = (unsigned)read_hex(root, a, "device");
	char name[256] = "";

	if (!names_pacc || strcmp(names_root, root) != 0) {
		_cleanup_free_ char *sys = sysfs_path(root, "/sys/bus/pci");

		free(names_root);
		names_root = xstrdup(root);
		names_pacc = hpci_new(sys); /* a previous handle is dropped, not cleaned: roots rarely change */
		if (setjmp(hpci_jmp) == 0)
			pci_init(names_pacc);
		else
			names_pacc = NULL;
	}
	if (names_pacc && setjmp(hpci_jmp) == 0)
		pci_lookup_name(names_pacc, name, sizeof(name), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, vendor, device);
	else
		name[0] = '\0';
	if (!name[0])
		return xasprintf("[%04x:%04x]", vendor, device);
	return xasprintf("%s [%04x:%04x]", name, vendor, device);
}

bool hpci_present(const char *root, const struct pciaddr *a)
{
	_cleanup_free_ char *p = dev_path(a, "");

	return sysfs_exists(root, p);
}

int hpci_with_companions(const char *root, const struct pciaddr *devs, size_t n, bool companions,
			 struct pciaddr_list *out, struct err *e)
{
	_cleanup_free_ struct pciaddr *all = NULL;
	size_t n_all = 0;
	int r;

	if (companions && (r = hpci_scan(root, &all, &n_all, e)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char buf[PCIADDR_STRLEN];

		if (!hpci_present(root, &devs[i]))
			return err_set(e, -ENODEV,
				       "%s: no such PCI device on this host (list them with `hookd devices`)",
				       pciaddr_format(&devs[i], buf));
		pciaddr_list_add(out, &devs[i]);
		for (size_t k = 0; k < n_all; k++)
			if (pciaddr_same_slot(&all[k], &devs[i]))
				pciaddr_list_add(out, &all[k]);
	}
	return 0;
}

int hpci_driver(const char *root, const struct pciaddr *a, char **out)
{
	_cleanup_free_ char *p = dev_path(a, "driver");
	int r = sysfs_link_name(root, p, out);

	if (r == -ENOENT) {
		*out = NULL;
		return 0;
	}
	return r;
}

int hpci_iommu_group(const char *root, const struct pciaddr *a, unsigned *out)
{
	_cleanup_free_ char *p = dev_path(a, "iommu_group");
	_cleanup_free_ char *name = NULL;
	unsigned long long v;
	int r = sysfs_link_name(root, p, &name);

	if (r < 0)
		return r;
	if (parse_uint(name, &v) < 0)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int hpci_group_members(const char *root, unsigned group, struct pciaddr **out, size_t *n, struct err *e)
{
	_cleanup_free_ char *p = xasprintf("/sys/kernel/iommu_groups/%u/devices", group);
	struct pciaddr *v = NULL;
	char **names;
	size_t cnt = 0, k;
	int r = sysfs_list(root, p, &names, &k);

	if (r < 0)
		return err_set(e, r, "cannot list IOMMU group %u (%s): %s", group, p, strerror(-r));
	for (size_t i = 0; i < k; i++) {
		struct pciaddr a;

		if (pciaddr_parse(names[i], &a) < 0)
			continue; /* non-PCI members (platform devices) cannot be passed through anyway */
		v = xrealloc(v, (cnt + 1) * sizeof(*v));
		v[cnt++] = a;
	}
	sysfs_list_free(names, k);
	*out = v;
	*n = cnt;
	return 0;
}

bool hpci_is_bridge(const char *root, const struct pciaddr *a)
{
	return (read_hex(root, a, "class") >> 8) == 0x0604;
}

int hpci_driver_override(const char *root, const struct pciaddr *a, char **out)
{
	_cleanup_free_ char *p = dev_path(a, "driver_override");
	int r = sysfs_read(root, p, out);

	if (r < 0)
		return r;
	if (strcmp(*out, "(null)") == 0)
		(*out)[0] = '\0';
	return 0;
}

/* Walks the capability list of config space (PCI 3.0 §6.7) for the PCI Express capability (id 0x10)
 * and reads Device Capabilities bit 28, Function Level Reset. */
int hpci_has_flr(const char *root, const struct pciaddr *a)
{
	_cleanup_free_ char *p = dev_path(a, "config"), *cfg = NULL;
	const unsigned char *c;
	size_t len = 0;
	unsigned pos;
	int r = sysfs_read_bin(root, p, 4096, &cfg, &len);

	if (r < 0)
		return r;
	c = (const unsigned char *)cfg;
	if (len < 64 || !(c[0x06] & 0x10))
		return 0; /* no capability list */
	pos = c[0x34] & 0xfc;
	for (int hops = 0; pos >= 0x40 && pos + 8 <= len && hops < 48; hops++) {
		if (c[pos] == 0x10) {
			uint32_t devcap = (uint32_t)c[pos + 4] | (uint32_t)c[pos + 5] << 8 |
					  (uint32_t)c[pos + 6] << 16 | (uint32_t)c[pos + 7] << 24;

			return (devcap >> 28) & 1;
		}
		pos = c[pos + 1] & 0xfc;
	}
	return 0;
}

int hpci_vendor_device(const char *root, const struct pciaddr *a, unsigned *vendor, unsigned *device, unsigned *class)
{
	*vendor = (unsigned)read_hex(root, a, "vendor");
	*device = (unsigned)read_hex(root, a, "device");
	*class = (unsigned)(read_hex(root, a, "class") >> 8);
	return *vendor ? 0 : -ENOENT;
}

bool hpci_boot_vga(const char *root, const struct pciaddr *a)
{
	return read_hex(root, a, "boot_vga") == 1;
}
