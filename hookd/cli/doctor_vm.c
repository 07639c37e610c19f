/* hookd doctor VM: one VM's readiness — its INI, each PCI hostdev (group, drivers, boot VGA, reset),
 * the huge pages it needs, its CPU pinning against the topology, and whether its prepare plans. */
#include <errno.h>
#include <string.h>

#include "cputopo.h"
#include "doctor.h"
#include "engine.h"
#include "iommu.h"
#include "journal.h"
#include "kmod.h"
#include "pci.h"
#include "plan.h"
#include "sysfs.h"
#include "vfio.h"
#include "vmconfig.h"

/* AMD GPUs that do not reset between VM starts without vendor-reset (github.com/gnif/vendor-reset):
 * Polaris 10/11/12, Vega 10/20, Navi 10/12/14. */
static const unsigned amd_no_reset[] = { 0x67df, 0x67ef, 0x67ff, 0x699f, 0x6fdf, 0x687f,
					 0x6863, 0x66af, 0x731f, 0x7360, 0x7340 };

static bool has_section(const struct vm_config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->n_sections; i++)
		if (strcmp(cfg->sections[i].ops->name, name) == 0)
			return true;
	return false;
}

static struct vm_config *check_ini(struct doctor *d, const char *vm)
{
	_cleanup_free_ char *ini = conf_vm_ini_path(d->conf, vm);
	struct vm_config *cfg = NULL;
	struct err e = { "" };
	int r = ini ? vmconfig_load(ini, &cfg, &e) : -EINVAL;

	if (r == -ENOENT)
		doctor_add(d, DOCTOR_WARN, vm, "ini",
			   "no INI file (%s): hookd does nothing for it; `hookd new %s` writes one", ini, vm);
	else if (r < 0)
		doctor_add(d, DOCTOR_FAIL, vm, "ini", "%s; fix it with `hookd edit %s`",
			   ini ? e.msg : "not a usable VM name", vm);
	else
		doctor_add(d, DOCTOR_OK, vm, "ini", "%s passes check", ini);
	return r < 0 ? NULL : cfg;
}

/* What every hostdev's group is judged against, worked out once per VM: the devices [vfio]'s plan
 * moves (asked of [vfio] itself with the INI's settings, so that the group line and the plan line
 * always agree) or why [vfio] refuses, and what the other VMs' journals hold. */
struct group_ctx {
	struct pciaddr_list moved;
	struct err refused; /* .msg[0]: [vfio] refuses */
	struct engine_others others;
};

static void group_ctx_load(struct doctor *d, const char *vm, const struct vm_config *cfg, const struct domain *dom,
			   struct group_ctx *g)
{
	struct action_ctx ctx = { .conf = d->conf, .dom = dom, .vm = vm };
	_cleanup_free_ char *own = NULL;
	struct err e;

	*g = (struct group_ctx){ .refused = { "" } };
	if (vfio_devices(&ctx, cfg, &g->moved, &g->refused) == 0)
		g->refused.msg[0] = '\0';
	(void)journal_find_vm(d->conf->state_dir, vm, dom ? dom->uuid : NULL, &own, &e);
	(void)engine_load_others(d->conf->state_dir, own, &g->others, &e);
}

static void group_ctx_free(struct group_ctx *g)
{
	pciaddr_list_free(&g->moved);
	engine_free_others(&g->others);
}

/* The device's IOMMU group judged by [vfio]'s one rule (iommu_group_judge), with every member's
 * driver: against the devices [vfio] moves and the hostdev a itself (one that [vfio] does not list,
 * libvirt binds alone: managed='yes'). */
static void check_group(struct doctor *d, const char *vm, const struct group_ctx *g, const struct pciaddr *a,
			const char *addr)
{
	const char *root = d->conf->root;
	_cleanup_free_ char *buf = NULL;
	_cleanup_pciaddr_list_ struct pciaddr_list devs = { 0 };
	struct iommu_verdict v;
	const struct iommu_member *m;
	size_t len = 0;
	unsigned group;
	struct err e;
	FILE *out;

	if (hpci_iommu_group(root, a, &group) < 0) {
		doctor_add(d, DOCTOR_FAIL, vm, "group",
			   "%s has no IOMMU group: turn the IOMMU on (see the host iommu line)", addr);
		return;
	}
	if (g->refused.msg[0]) {
		doctor_add(d, DOCTOR_FAIL, vm, "group", "IOMMU group %u of %s not judged: [vfio] refuses: %s", group,
			   addr, g->refused.msg);
		return;
	}
	for (size_t i = 0; i < g->moved.n; i++)
		pciaddr_list_add(&devs, &g->moved.v[i]);
	pciaddr_list_add(&devs, a);
	if (iommu_group_judge(root, group, devs.v, devs.n, g->others.v, g->others.n, &v, &e) < 0) {
		doctor_add(d, DOCTOR_FAIL, vm, "group", "%s", e.msg);
		return;
	}
	out = xopen_memstream(&buf, &len);
	for (size_t i = 0; i < v.n; i++) {
		char ma[PCIADDR_STRLEN];

		fprintf(out, "%s%s %s", i ? ", " : "", pciaddr_format(&v.members[i].addr, ma),
			v.members[i].driver ? v.members[i].driver : "(no driver)");
	}
	fclose(out);
	m = iommu_first_blocker(&v);
	if (!m)
		doctor_add(d, DOCTOR_OK, vm, "group", "%s is in IOMMU group %u, viable: %s", addr, group, buf);
	else if (m->state == IOMMU_MEMBER_OTHER_VM)
		doctor_add(d, DOCTOR_FAIL, vm, "group",
			   "IOMMU group %u of %s is not viable: %s is held by VM '%s' (%s); stop that VM first", group,
			   addr, pciaddr_format(&m->addr, (char[PCIADDR_STRLEN]){ 0 }), m->held_by, buf);
	else
		doctor_add(
			d, DOCTOR_FAIL, vm, "group",
			"IOMMU group %u of %s is not viable: %s stays on %s (%s); pass it to the VM too, bind it to vfio-pci, or use another slot",
			group, addr, pciaddr_format(&m->addr, (char[PCIADDR_STRLEN]){ 0 }), m->driver, buf);
	iommu_verdict_free(&v);
}

/* The GPU the firmware booted on carries the host's console: the single-GPU sections must free it. */
static void check_boot_vga(struct doctor *d, const char *vm, const struct vm_config *cfg, const struct pciaddr *a,
			   const char *addr)
{
	static const char *const needed[] = { "service", "console", "modules" };
	_cleanup_free_ char *drv = NULL;
	char missing[64] = "";

	if (!hpci_boot_vga(d->conf->root, a))
		return;
	(void)hpci_driver(d->conf->root, a, &drv);
	for (size_t i = 0; i < ARRAY_SIZE(needed); i++)
		if (!has_section(cfg, needed[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " [%s]", needed[i]);
	if (!missing[0])
		doctor_add(d, DOCTOR_OK, vm, "boot-vga",
			   "%s is the boot VGA; the INI frees it ([service] [console] [modules])", addr);
	else if (drv && strcmp(drv, "vfio-pci") != 0)
		doctor_add(
			d, DOCTOR_FAIL, vm, "boot-vga",
			"%s is the boot VGA: the host's console and display run on it (driver %s); the INI lacks%s before [vfio] (`hookd new %s --stdout` shows them)",
			addr, drv, missing, vm);
	else
		doctor_add(d, DOCTOR_WARN, vm, "boot-vga",
			   "%s is the boot VGA, already on %s: the host has no console on it", addr,
			   drv ? drv : "no driver");
}

static void check_reset(struct doctor *d, const char *vm, const struct pciaddr *a, const char *addr)
{
	_cleanup_free_ char *rm_path = xasprintf("/sys/bus/pci/devices/%s/reset_method", addr), *rm = NULL;
	unsigned vendor, device, class;
	int flr = hpci_has_flr(d->conf->root, a);

	(void)hpci_vendor_device(d->conf->root, a, &vendor, &device, &class);
	for (size_t i = 0; vendor == 0x1002 && i < ARRAY_SIZE(amd_no_reset); i++)
		if (device == amd_no_reset[i]) {
			doctor_add(
				d, DOCTOR_WARN, vm, "reset",
				"%s [1002:%04x] is an AMD GPU that does not reset between VM starts: install vendor-reset (github.com/gnif/vendor-reset) and write device_specific to %s",
				addr, device, rm_path);
			return;
		}
	if (sysfs_read(d->conf->root, rm_path, &rm) == 0)
		flr = strstr(rm, "flr") ? 1 : 0;
	if (flr > 0)
		doctor_add(d, DOCTOR_OK, vm, "reset", "%s can do a function-level reset (FLR)%s%s", addr,
			   rm ? "; reset_method: " : "", rm ? rm : "");
	else if (flr == 0)
		doctor_add(
			d, DOCTOR_WARN, vm, "reset",
			"%s has no function-level reset (no FLR in its PCIe capability%s%s): the kernel can only reset it with %s; if the VM fails its second start, the device needs a host reboot in between",
			addr, rm ? "; reset_method: " : "", rm ? rm : "", rm && rm[0] ? rm : "a bus reset of its slot");
	else
		doctor_add(d, DOCTOR_WARN, vm, "reset", "%s: cannot read its config space: reset not checked", addr);
}

static void check_hostdevs(struct doctor *d, const char *vm, const struct vm_config *cfg, const struct domain *dom)
{
	struct group_ctx g;

	if (!dom->n_hostdevs) {
		doctor_add(d, DOCTOR_OK, vm, "hostdev", "no PCI hostdev in the domain: nothing to pass through");
		return;
	}
	group_ctx_load(d, vm, cfg, dom, &g);
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		const struct pciaddr *a = &dom->hostdevs[i].address;
		char addr[PCIADDR_STRLEN];

		pciaddr_format(a, addr);
		if (!hpci_present(d->conf->root, a)) {
			doctor_add(
				d, DOCTOR_FAIL, vm, "hostdev",
				"%s: no such PCI device on this host; fix the <hostdev> address (virsh edit %s; `hookd devices` lists them)",
				addr, vm);
			continue;
		}
		check_group(d, vm, &g, a, addr);
		check_boot_vga(d, vm, cfg, a, addr);
		check_reset(d, vm, a, addr);
	}
	group_ctx_free(&g);
}

static void check_hugepages(struct doctor *d, const char *vm, const struct vm_config *cfg, const struct domain *dom)
{
	const char *root = d->conf->root;
	unsigned long long size = 0, need, free_pages = 0;
	_cleanup_free_ char *path = NULL, *s = NULL;

	if (!dom->has_hugepages)
		return;
	if (dom->n_hugepages && dom->hugepages[0].has_size)
		size = dom->hugepages[0].size_kib;
	else if (sysfs_meminfo_field(root, "/proc/meminfo", "Hugepagesize:", &size) < 0 || !size) {
		doctor_add(d, DOCTOR_WARN, vm, "hugepages", "cannot read Hugepagesize in /proc/meminfo: not checked");
		return;
	}
	need = (dom->memory_kib + size - 1) / size;
	path = xasprintf("/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages", size);
	if (sysfs_read(root, path, &s) < 0 || parse_uint(s, &free_pages) < 0) {
		doctor_add(d, DOCTOR_FAIL, vm, "hugepages",
			   "the domain asks for %llu kB pages, which this kernel does not offer (%s)", size, path);
		return;
	}
	if (free_pages >= need)
		doctor_add(d, DOCTOR_OK, vm, "hugepages", "needs %llu pages of %llu kB, the pool has %llu free", need,
			   size, free_pages);
	else if (has_section(cfg, "hugepages"))
		doctor_add(
			d, DOCTOR_OK, vm, "hugepages",
			"needs %llu pages of %llu kB, the pool has %llu free: [hugepages] reserves the rest on prepare",
			need, size, free_pages);
	else
		doctor_add(
			d, DOCTOR_FAIL, vm, "hugepages",
			"needs %llu pages of %llu kB, the pool has %llu free and the INI has no [hugepages]: add [hugepages] (pages = auto) or reserve them at boot",
			need, size, free_pages);
}

/* vCPU and emulator pins: on online CPUs, and whole SMT cores (a core split between the VM and the
 * host shares its caches and execution units with the host). */
static void check_cpus(struct doctor *d, const char *vm, const struct domain *dom)
{
	const char *root = d->conf->root;
	struct cpuset vcpus, all, online, split;
	_cleanup_free_ char *l1 = NULL, *l2 = NULL;

	if (!dom->n_vcpupins && !dom->has_emulatorpin)
		return;
	cpuset_clear(&vcpus), cpuset_clear(&split);
	for (size_t i = 0; i < dom->n_vcpupins; i++)
		for (unsigned c = 0; c < CPUSET_MAX; c++)
			if (cpuset_has(&dom->vcpupins[i].cpus, c))
				cpuset_add(&vcpus, c);
	all = vcpus;
	for (unsigned c = 0; dom->has_emulatorpin && c < CPUSET_MAX; c++)
		if (cpuset_has(&dom->emulatorpin, c))
			cpuset_add(&all, c);
	if (cputopo_online(root, &online) < 0) {
		doctor_add(d, DOCTOR_WARN, vm, "cpus", "cannot read %s: pinning not checked", CPUTOPO_ONLINE);
		return;
	}
	cpuset_andnot(&all, &online);
	if (!cpuset_empty(&all)) {
		l1 = cpuset_to_list(&all), l2 = cpuset_to_list(&online);
		doctor_add(
			d, DOCTOR_FAIL, vm, "cpus",
			"<cputune> pins to CPUs %s, which this host does not have online (%s): fix it with virsh edit %s",
			l1, l2, vm);
		return;
	}
	for (unsigned c = 0; c < CPUSET_MAX; c++) {
		struct cpuset sib;

		if (!cpuset_has(&vcpus, c))
			continue;
		cputopo_siblings(root, c, &sib);
		cpuset_andnot(&sib, &vcpus);
		for (unsigned s = 0; s < CPUSET_MAX; s++)
			if (cpuset_has(&sib, s))
				cpuset_add(&split, s);
	}
	l1 = cpuset_to_list(&vcpus);
	if (cpuset_empty(&split)) {
		doctor_add(d, DOCTOR_OK, vm, "cpus", "vCPUs on CPUs %s: online, whole cores", l1);
		return;
	}
	l2 = cpuset_to_list(&split);
	doctor_add(
		d, DOCTOR_WARN, vm, "cpus",
		"vCPUs on CPUs %s, but their SMT siblings %s are not the VM's: the host shares those cores; pin both threads of each core (virsh edit %s)",
		l1, l2, vm);
}

/* The prepare as `hookd plan` builds it: [vfio]'s group rule and refusals, [hugepages]' limits. */
static void check_plan(struct doctor *d, const char *vm, const struct vm_config *cfg, const struct domain *dom)
{
	struct action_ctx ctx = { .conf = d->conf, .dom = dom, .vm = vm };
	struct plan *plan = NULL;
	struct err e = { "" };

	if (plan_build(&ctx, cfg, PHASE_PREPARE, &plan, &e) < 0)
		doctor_add(d, DOCTOR_FAIL, vm, "plan", "the prepare would fail: %s", e.msg);
	else
		doctor_add(d, DOCTOR_OK, vm, "plan", "the prepare plans %zu step%s (hookd plan %s)", plan->n,
			   plan->n == 1 ? "" : "s", vm);
	plan_free(plan);
}

void doctor_vm(struct doctor *d, const char *vm, const struct domain *dom, const char *dom_err)
{
	struct vm_config *cfg = check_ini(d, vm);

	if (!dom)
		doctor_add(d, DOCTOR_FAIL, vm, "domain", "%s",
			   dom_err && dom_err[0] ? dom_err : "cannot read its domain XML");
	if (dom) {
		check_hostdevs(d, vm, cfg, dom);
		check_hugepages(d, vm, cfg, dom);
		check_cpus(d, vm, dom);
	}
	if (dom && cfg)
		check_plan(d, vm, cfg, dom);
	vmconfig_free(cfg);
}
