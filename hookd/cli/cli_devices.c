/* hookd devices: every PCI device by IOMMU group, GPUs and their companions marked, and for each
 * group whether [vfio] can take it as it is: iommu_group_judge (iommu.h) for the group's GPU (or
 * first endpoint) with its slot's functions, as `[vfio] devices = GPU, companions = yes` would ask,
 * while the VMs of the live journals run. Read-only. */
#include "cli_devices.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "iommu.h"
#include "pci.h"
#include "sysfs.h"

#define NO_GROUP UINT_MAX
#define NONE SIZE_MAX
#define MAX_WARNINGS 16

struct dev {
	struct pciaddr a;
	char addr[PCIADDR_STRLEN];
	unsigned vendor, device, class; /* class: base class and subclass, e.g. 0x0300 */
	char *label;                    /* hpci_name(): "Vendor Device [vvvv:dddd]" */
	char *name;                     /* the same without the ids; NULL when pci.ids does not know it */
	char *driver;                   /* NULL when unbound */
	unsigned group;                 /* NO_GROUP when the device has none (IOMMU off) */
	bool boot_vga, gpu, bridge;
	bool blocks;         /* keeps the group from vfio (iommu_group_judge) */
	char *held_by;       /* the other VM holding it, or NULL */
	size_t companion_of; /* the GPU whose slot this function shares, or NONE */
};

/* One IOMMU group, the devices v[lo..hi), judged by iommu_group_judge. */
struct verdict {
	size_t lo, hi;
	size_t primary;    /* the group's GPU, else its first endpoint that is no bridge; NONE when none */
	size_t n_blockers; /* members that keep the group from vfio (host driver, another VM) */
	size_t chipset;    /* a host or ISA (LPC) bridge among the endpoints: the host needs it; or NONE */
	bool passable, all_vfio;
};

struct devlist {
	struct dev *v;
	size_t n, n_gpus;
	bool iommu;
	struct verdict *vd;
	size_t n_vd;
	char *warn[MAX_WARNINGS];
	size_t n_warn;
};

static const struct {
	unsigned class;
	const char *name;
} class_names[] = {
	{ 0x0100, "SCSI storage controller" },
	{ 0x0101, "IDE interface" },
	{ 0x0104, "RAID bus controller" },
	{ 0x0106, "SATA controller" },
	{ 0x0107, "Serial Attached SCSI controller" },
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0200, "Ethernet controller" },
	{ 0x0280, "Network controller" },
	{ 0x0300, "VGA compatible controller" },
	{ 0x0302, "3D controller" },
	{ 0x0380, "Display controller" },
	{ 0x0401, "Multimedia audio controller" },
	{ 0x0403, "Audio device" },
	{ 0x0500, "RAM memory" },
	{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0c03, "USB controller" },
	{ 0x0c05, "SMBus" },
	{ 0x0c80, "Serial bus controller" },
};

static const char *const base_class_names[] = {
	"Unclassified device",
	"Mass storage controller",
	"Network controller",
	"Display controller",
	"Multimedia controller",
	"Memory controller",
	"Bridge",
	"Communication controller",
	"Generic system peripheral",
	"Input device controller",
	"Docking station",
	"Processor",
	"Serial bus controller",
	"Wireless controller",
	"Intelligent controller",
	"Satellite communications controller",
	"Encryption controller",
	"Signal processing controller",
	"Processing accelerators",
};

/* lspci's words for the common classes; the base class otherwise (no pci.ids needed). */
static const char *class_name(unsigned class)
{
	for (size_t i = 0; i < ARRAY_SIZE(class_names); i++)
		if (class_names[i].class == class)
			return class_names[i].name;
	return class >> 8 < ARRAY_SIZE(base_class_names) ? base_class_names[class >> 8] : "Unassigned class";
}

/* "NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]" -> the part before the ids, or NULL. */
static char *strip_ids(const struct dev *d)
{
	_cleanup_free_ char *ids = xasprintf(" [%04x:%04x]", d->vendor, d->device);
	size_t l = strlen(d->label), k = strlen(ids);

	if (l <= k || strcmp(d->label + l - k, ids) != 0)
		return NULL;
	return xasprintf("%.*s", (int)(l - k), d->label);
}

static int dev_load(const char *root, const struct pciaddr *a, struct dev *d, struct err *e)
{
	int r;

	*d = (struct dev){ .a = *a, .companion_of = NONE };
	pciaddr_format(a, d->addr);
	(void)hpci_vendor_device(root, a, &d->vendor, &d->device, &d->class); /* 0s when unreadable */
	d->boot_vga = hpci_boot_vga(root, a);
	d->gpu = d->class >> 8 == 0x03;
	d->bridge = hpci_is_bridge(root, a);
	d->label = hpci_name(root, a);
	d->name = strip_ids(d);
	r = hpci_driver(root, a, &d->driver);
	if (r < 0)
		return err_set(e, r, "%s: cannot read its driver link: %s", d->addr, strerror(-r));
	r = hpci_iommu_group(root, a, &d->group);
	if (r == -ENOENT)
		d->group = NO_GROUP;
	else if (r < 0)
		return err_set(e, r, "%s: cannot read its iommu_group link: %s", d->addr, strerror(-r));
	return 0;
}

/* By group (devices without one last), then by address. */
static int cmp_dev(const void *x, const void *y)
{
	const struct dev *a = x, *b = y;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return strcmp(a->addr, b->addr);
}

static bool is_vfio(const struct dev *d)
{
	return d->driver && strcmp(d->driver, "vfio-pci") == 0;
}

/* Marks the members iommu_group_judge finds blocking, asking for the primary's slot. */
static int judge_group(struct devlist *l, const char *root, const struct engine_others *o, struct verdict *vd,
		       struct err *e)
{
	_cleanup_free_ struct pciaddr *slot = xcalloc(vd->hi - vd->lo, sizeof(*slot));
	struct iommu_verdict iv;
	size_t n = 0;
	int r;

	for (size_t i = vd->lo; i < vd->hi; i++)
		if (!l->v[i].bridge && pciaddr_same_slot(&l->v[i].a, &l->v[vd->primary].a))
			slot[n++] = l->v[i].a;
	r = iommu_group_judge(root, l->v[vd->lo].group, slot, n, o->v, o->n, &iv, e);
	if (r < 0)
		return r;
	for (size_t k = 0; k < iv.n; k++)
		for (size_t i = vd->lo; i < vd->hi; i++) {
			if (!pciaddr_equal(&l->v[i].a, &iv.members[k].addr))
				continue;
			l->v[i].blocks = iommu_member_blocks(&iv.members[k]);
			l->v[i].held_by = iv.members[k].held_by ? xstrdup(iv.members[k].held_by) : NULL;
		}
	vd->n_blockers = iv.n_blockers;
	vd->passable = iv.n_blockers == 0;
	iommu_verdict_free(&iv);
	return 0;
}

static int judge(struct devlist *l, const char *root, const struct engine_others *o, size_t lo, size_t hi,
		 struct verdict *vd, struct err *e)
{
	*vd = (struct verdict){ .lo = lo, .hi = hi, .primary = NONE, .chipset = NONE, .all_vfio = true };
	for (size_t i = lo; i < hi && vd->primary == NONE; i++)
		if (!l->v[i].bridge && l->v[i].gpu)
			vd->primary = i;
	for (size_t i = lo; i < hi && vd->primary == NONE; i++)
		if (!l->v[i].bridge && l->v[i].class >> 8 != 0x06)
			vd->primary = i;
	if (vd->primary == NONE || l->v[lo].group == NO_GROUP) {
		vd->all_vfio = false;
		return 0;
	}
	for (size_t i = lo; i < hi; i++) {
		if (l->v[i].bridge)
			continue;
		if (!is_vfio(&l->v[i]))
			vd->all_vfio = false;
		if ((l->v[i].class == 0x0600 || l->v[i].class == 0x0601) && vd->chipset == NONE)
			vd->chipset = i;
	}
	return judge_group(l, root, o, vd, e);
}

static void mark_companions(struct devlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].gpu)
			continue;
		l->n_gpus++;
		for (size_t j = 0; j < l->n; j++)
			if (!l->v[j].gpu && l->v[j].companion_of == NONE && pciaddr_same_slot(&l->v[i].a, &l->v[j].a))
				l->v[j].companion_of = i;
	}
}

static void __attribute__((format(printf, 2, 3))) warn(struct devlist *l, const char *fmt, ...)
{
	va_list ap;

	if (l->n_warn == MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&l->warn[l->n_warn], fmt, ap) < 0)
		abort();
	va_end(ap);
	l->n_warn++;
}

static void collect_warnings(struct devlist *l, const char *root)
{
	if (!l->iommu)
		warn(l, "no IOMMU (%s/sys/kernel/iommu_groups is empty): no device can be passed through",
		     strcmp(root, "/") == 0 ? "" : root);
	if (!l->n_gpus)
		warn(l, "no GPU (PCI class 0x03xx) found");
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].gpu || !l->v[i].boot_vga)
			continue;
		warn(l,
		     "%s is the boot VGA: the host's console and display manager run on it; passing it "
		     "through needs [console], [modules] and [service] besides [vfio]%s",
		     l->v[i].addr,
		     l->n_gpus == 1 ? " (it is the host's only GPU: no host display while the VM runs)" : "");
	}
}

static int devlist_load(const char *root, const struct engine_others *o, struct devlist *l, struct err *e)
{
	struct pciaddr *addrs = NULL;
	char **names;
	size_t n_names;
	int r = hpci_scan(root, &addrs, &l->n, e);

	if (r < 0)
		return r;
	l->v = xcalloc(l->n ? l->n : 1, sizeof(*l->v));
	for (size_t i = 0; i < l->n && r == 0; i++)
		r = dev_load(root, &addrs[i], &l->v[i], e);
	free(addrs);
	if (r < 0)
		return r;
	if (sysfs_list(root, "/sys/kernel/iommu_groups", &names, &n_names) == 0) {
		l->iommu = n_names > 0;
		sysfs_list_free(names, n_names);
	}
	qsort(l->v, l->n, sizeof(*l->v), cmp_dev);
	mark_companions(l);
	l->vd = xcalloc(l->n ? l->n : 1, sizeof(*l->vd));
	for (size_t lo = 0, hi; lo < l->n && r == 0; lo = hi) {
		for (hi = lo + 1; hi < l->n && l->v[hi].group == l->v[lo].group;)
			hi++;
		r = judge(l, root, o, lo, hi, &l->vd[l->n_vd++], e);
	}
	collect_warnings(l, root);
	return r;
}

static void devlist_free(struct devlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].label);
		free(l->v[i].name);
		free(l->v[i].driver);
		free(l->v[i].held_by);
	}
	for (size_t i = 0; i < l->n_warn; i++)
		free(l->warn[i]);
	free(l->v);
	free(l->vd);
}

/* ---- text ---- */

static void text_dev(FILE *out, const struct devlist *l, size_t i)
{
	const struct dev *d = &l->v[i];

	fprintf(out, "  %c %s %s [%04x]: %s, driver %s",
		d->gpu                    ? '*'
		: d->companion_of != NONE ? '+'
					  : ' ',
		d->addr, class_name(d->class), d->class, d->label, d->driver ? d->driver : "none");
	if (d->gpu)
		fputs(d->boot_vga ? "  <- GPU, boot VGA" : "  <- GPU", out);
	else if (d->companion_of != NONE)
		fprintf(out, "  <- companion of %s", l->v[d->companion_of].addr);
	fputc('\n', out);
}

static void text_endpoints(FILE *out, const struct devlist *l, const struct verdict *vd, bool blockers_only)
{
	for (size_t i = vd->lo; i < vd->hi; i++) {
		const struct dev *d = &l->v[i];

		if (d->bridge || (blockers_only && !d->blocks))
			continue;
		fprintf(out, "       %s %s, %s%s", d->addr, class_name(d->class), d->driver ? "bound to " : "",
			d->driver ? d->driver : "no driver");
		if (d->held_by)
			fprintf(out, ", held by VM %s", d->held_by);
		fputc('\n', out);
	}
}

static void text_verdict(FILE *out, const struct devlist *l, const struct verdict *vd)
{
	const struct dev *p;
	size_t n_end = 0;

	if (l->v[vd->lo].group == NO_GROUP)
		return;
	if (vd->primary == NONE) {
		fputs("  => bridges only: nothing to pass through\n", out);
		return;
	}
	p = &l->v[vd->primary];
	for (size_t i = vd->lo; i < vd->hi; i++)
		n_end += !l->v[i].bridge;
	if (!vd->passable) {
		fprintf(out,
			"  => NOT passable as it is: %s shares the group with %zu device%s that the host\n"
			"     or another VM uses (vfio takes a group whole, for one VM):\n",
			p->addr, vd->n_blockers, vd->n_blockers == 1 ? "" : "s");
		text_endpoints(out, l, vd, true);
		fputs("     Another PCIe slot (one wired to the CPU) or a firmware update may split the group;\n"
		      "     the ACS override patch splits it by giving up the isolation it stands for.\n",
		      out);
		return;
	}
	if (n_end > 1) {
		fputs("  => passable as it is; these move together:\n", out);
		text_endpoints(out, l, vd, false);
	} else
		fputs("  => passable as it is\n", out);
	fprintf(out, "     [vfio] devices = %s%s%s\n", p->addr, n_end > 1 ? ", companions = yes" : "",
		vd->all_vfio ? "  (already on vfio-pci)" : "");
	if (vd->chipset != NONE)
		fprintf(out, "     caution: the group holds the chipset's %s (%s): the host itself needs it\n",
			class_name(l->v[vd->chipset].class), l->v[vd->chipset].addr);
}

static const struct verdict *verdict_of(const struct devlist *l, size_t i)
{
	for (size_t k = 0; k < l->n_vd; k++)
		if (i >= l->vd[k].lo && i < l->vd[k].hi)
			return &l->vd[k];
	return NULL;
}

static void text_summary(FILE *out, const struct devlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct dev *d = &l->v[i];
		const struct verdict *vd = verdict_of(l, i);

		if (!d->gpu)
			continue;
		if (d->group == NO_GROUP)
			fprintf(out, "GPU %s: no IOMMU group", d->addr);
		else
			fprintf(out, "GPU %s: group %u, %s", d->addr, d->group,
				vd && vd->passable ? "passable as it is" : "NOT passable as it is");
		fprintf(out, ", driver %s%s\n", d->driver ? d->driver : "none", d->boot_vga ? ", boot VGA" : "");
	}
	for (size_t i = 0; i < l->n_warn; i++)
		fprintf(out, "warning: %s\n", l->warn[i]);
}

static void text_print(FILE *out, const struct devlist *l, const char *root)
{
	bool rooted = strcmp(root, "/") != 0;

	if (!l->iommu)
		fprintf(out,
			"No IOMMU: %s/sys/kernel/iommu_groups is empty, so no device can be passed through.\n"
			"  Enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware setup; on Intel also boot with\n"
			"  intel_iommu=on (e.g. add it, with iommu=pt, to GRUB_CMDLINE_LINUX_DEFAULT in\n"
			"  /etc/default/grub, then update-grub) and reboot. Check: dmesg | grep -i -e DMAR -e IOMMU\n\n",
			rooted ? root : "");
	fprintf(out, "PCI devices%s%s by IOMMU group (* GPU, + companion: another function of a GPU's slot)\n",
		rooted ? " under " : "", rooted ? root : "");
	if (!l->n)
		fputs("  (none)\n", out);
	for (size_t k = 0; k < l->n_vd; k++) {
		const struct verdict *vd = &l->vd[k];

		if (l->v[vd->lo].group != NO_GROUP)
			fprintf(out, "\nIOMMU group %u:\n", l->v[vd->lo].group);
		else
			fputs(l->iommu ? "\nIn no IOMMU group (cannot be passed through):\n" : "\n", out);
		for (size_t i = vd->lo; i < vd->hi; i++)
			text_dev(out, l, i);
		text_verdict(out, l, vd);
	}
	fputc('\n', out);
	text_summary(out, l);
}

/* ---- JSON ---- */

static void json_or_null(FILE *out, const char *s)
{
	if (s)
		json_string(out, s);
	else
		fputs("null", out);
}

static void json_dev(FILE *out, const struct devlist *l, size_t i)
{
	const struct dev *d = &l->v[i];

	fprintf(out, "{\"address\": \"%s\", \"vendor_id\": \"%04x\", \"device_id\": \"%04x\", \"class\": \"%04x\"",
		d->addr, d->vendor, d->device, d->class);
	json_member(out, "class_name", class_name(d->class));
	fputs(", \"name\": ", out);
	json_or_null(out, d->name);
	fputs(", \"driver\": ", out);
	json_or_null(out, d->driver);
	fprintf(out,
		", \"boot_vga\": %s, \"gpu\": %s, \"bridge\": %s, \"companion_of\": ", d->boot_vga ? "true" : "false",
		d->gpu ? "true" : "false", d->bridge ? "true" : "false");
	json_or_null(out, d->companion_of != NONE ? l->v[d->companion_of].addr : NULL);
	fputc('}', out);
}

/* The group's endpoints (move_together) or the ones outside the primary's slot (blockers). */
static void json_addr_list(FILE *out, const struct devlist *l, const struct verdict *vd, bool blockers)
{
	int k = 0;

	fputc('[', out);
	for (size_t i = vd->lo; i < vd->hi && vd->primary != NONE && l->v[vd->lo].group != NO_GROUP; i++) {
		if (l->v[i].bridge || (blockers && !l->v[i].blocks))
			continue;
		fprintf(out, "%s\"%s\"", k++ ? ", " : "", l->v[i].addr);
	}
	fputc(']', out);
}

static void json_group(FILE *out, const struct devlist *l, const struct verdict *vd)
{
	const struct dev *first = &l->v[vd->lo];

	if (first->group == NO_GROUP)
		fputs("  {\"group\": null", out);
	else
		fprintf(out, "  {\"group\": %u", first->group);
	fprintf(out, ", \"passable\": %s, \"all_vfio\": %s, \"chipset\": %s, \"move_together\": ",
		vd->passable ? "true" : "false", vd->all_vfio ? "true" : "false",
		vd->chipset != NONE ? "true" : "false");
	json_addr_list(out, l, vd, false);
	fputs(", \"blockers\": ", out);
	json_addr_list(out, l, vd, true);
	fputs(", \"vfio_devices\": ", out);
	json_or_null(out, vd->passable ? l->v[vd->primary].addr : NULL);
	fputs(", \"devices\": [", out);
	for (size_t i = vd->lo; i < vd->hi; i++) {
		fputs(i > vd->lo ? ",\n    " : "\n    ", out);
		json_dev(out, l, i);
	}
	fputs("]}", out);
}

static void json_print(FILE *out, const struct devlist *l)
{
	fprintf(out, "{\"iommu\": %s,\n \"groups\": [\n", l->iommu ? "true" : "false");
	for (size_t k = 0; k < l->n_vd; k++) {
		json_group(out, l, &l->vd[k]);
		fputs(k + 1 < l->n_vd ? ",\n" : "\n", out);
	}
	fputs(" ],\n \"warnings\": [", out);
	for (size_t i = 0; i < l->n_warn; i++) {
		fputs(i ? ",\n   " : "\n   ", out);
		json_string(out, l->warn[i]);
	}
	fputs("]}\n", out);
}

int devices_print(const struct hookd_conf *conf, bool json, FILE *out)
{
	struct engine_others o = { 0 };
	struct devlist l = { 0 };
	struct err e = { "" };
	int r = engine_load_others(conf->state_dir, NULL, &o, &e);

	if (r == 0)
		r = devlist_load(conf->root, &o, &l, &e);

	if (r < 0)
		fprintf(stderr, "hookd: devices: %s\n", e.msg);
	else if (json)
		json_print(out, &l);
	else
		text_print(out, &l, conf->root);
	devlist_free(&l);
	engine_free_others(&o);
	return r;
}
