/* hookd doctor on ZFS hosts: the ARC's maximum against the huge pages the VMs ask for. The ARC is
 * not page cache (drop_caches does not free it, openzfs#10048), so the two together, plus what the
 * host itself needs, must fit in the RAM. */
#include <errno.h>
#include <string.h>

#include "doctor.h"
#include "hugepages.h"
#include "sysfs.h"
#include "vmconfig.h"
#include "zfs.h"

/* What the host keeps for itself beside the VMs' pages and the ARC: kernel, libvirtd, QEMU. */
#define HOST_MARGIN (1ULL << 30)

void doctor_memory_count(struct doctor_memory *m, const struct hookd_conf *conf, const char *vm,
			 const struct domain *dom)
{
	_cleanup_free_ char *ini = conf_vm_ini_path(conf, vm);
	struct action_ctx ctx = { .conf = conf, .dom = dom, .vm = vm };
	struct vm_config *cfg = NULL;
	unsigned long long kib = 0, cap = 0;
	struct err e = { "" };

	if (!ini || vmconfig_load(ini, &cfg, &e) < 0)
		return; /* doctor's ini line says why */
	for (size_t i = 0; i < cfg->n_sections; i++) {
		if (strcmp(cfg->sections[i].ops->name, "hugepages") != 0)
			continue;
		int r = hugepages_demand(&ctx, cfg->sections[i].data, &kib, &cap, &e);

		if (r == -ENODATA)
			strv_add(&m->uncounted,
				 xasprintf("%s (pages = auto needs its domain XML: hookd doctor %s)", vm, vm));
		else if (r < 0)
			strv_add(&m->uncounted, xasprintf("%s (%s)", vm, e.msg));
		else
			m->kib += kib, strv_add(&m->vms, xstrdup(vm));
		m->arc_cap = zfs_arc_cap_min(m->arc_cap, cap);
	}
	vmconfig_free(cfg);
}

void doctor_memory_hooks_dir(struct doctor_memory *m, const struct hookd_conf *conf)
{
	_cleanup_strv_ struct strv vms = { 0 };

	(void)vmconfig_list_vms(conf->hooks_dir, &vms); /* no hooks_dir: no VM to count */
	for (size_t i = 0; i < vms.n; i++)
		doctor_memory_count(m, conf, vms.v[i], NULL);
}

void doctor_memory_free(struct doctor_memory *m)
{
	strv_free(&m->vms);
	strv_free(&m->uncounted);
}

static char *join(const struct strv *s, const char *sep)
{
	_cleanup_free_ char *out = xstrdup("");

	for (size_t i = 0; i < s->n; i++) {
		char *next = xasprintf("%s%s%s", out, i ? sep : "", s->v[i]);

		free(out);
		out = next;
	}
	return xstrdup(out);
}

/* Where the ARC's figure comes from, for the message. */
static char *arc_source(const struct zfs_arc *a, unsigned long long cap)
{
	const char *rule;

	if (cap && cap < a->c_max)
		return xasprintf("zfs_arc_max = %lluM in their [hugepages]", cap >> 20);
	if (a->param)
		return xasprintf("zfs_arc_max %llu", a->param);
	rule = zfs_arc_default_max(a->version, a->ram) == a->ram / 2 ? "half of the RAM"
								     : "the larger of RAM - 1 GiB and 5/8 of it";
	return xasprintf("zfs_arc_max 0: the default of OpenZFS %s, %s",
			 a->version[0] ? a->version : "(version unknown)", rule);
}

/* The next step when they do not fit: the largest ARC that leaves the pages and the host room. */
static char *next_step(const struct zfs_arc *a, unsigned long long pages)
{
	unsigned long long fit = a->ram > pages + HOST_MARGIN ? (a->ram - pages - HOST_MARGIN) >> 20 << 20 : 0;

	if (zfs_arc_check(a, fit, NULL) < 0)
		return xasprintf(
			"the ARC cannot be kept that small (OpenZFS takes no zfs_arc_max below 64 MiB or at its minimum of %llu MiB): give the VMs less memory",
			a->c_min >> 20);
	return xasprintf(
		"set zfs_arc_max = %lluM in their [hugepages], or options zfs zfs_arc_max=%llu in /etc/modprobe.d/zfs.conf",
		fit >> 20, fit);
}

void doctor_zfs_memory(struct doctor *d, const struct doctor_memory *m)
{
	struct zfs_arc a;
	struct err e;
	unsigned long long arc, pages = m->kib << 10, total;
	_cleanup_free_ char *vms = NULL, *why = NULL, *left = NULL, *source = NULL, *step = NULL;

	if (!zfs_arc_present(d->conf->root) || (!m->vms.n && !m->uncounted.n))
		return;
	if (zfs_arc_read(d->conf->root, &a, &e) < 0) {
		doctor_add(d, DOCTOR_WARN, "host", "zfs-hugepages", "%s: not checked", e.msg);
		return;
	}
	arc = zfs_arc_cap_min(m->arc_cap, a.c_max);
	total = arc + pages + HOST_MARGIN;
	vms = m->vms.n ? join(&m->vms, ", ") : xstrdup("no VM");
	why = join(&m->uncounted, ", ");
	left = m->uncounted.n ? xasprintf("; not counted: %s", why) : xstrdup("");
	source = arc_source(&a, m->arc_cap);
	if (total <= a.ram) {
		doctor_add(
			d, DOCTOR_OK, "host", "zfs-hugepages",
			"the ARC at most %llu MiB (%s) and the huge pages of %s (%llu MiB), with %llu MiB for the host, fit in the %llu MiB of RAM%s",
			arc >> 20, source, vms, pages >> 20, HOST_MARGIN >> 20, a.ram >> 20, left);
		return;
	}
	step = next_step(&a, pages);
	doctor_add(
		d, DOCTOR_WARN, "host", "zfs-hugepages",
		"the ARC may grow to %llu MiB (%s) while the huge pages of %s take %llu MiB: with %llu MiB for the host that is %llu MiB, more than the %llu MiB of RAM; %s%s",
		arc >> 20, source, vms, pages >> 20, HOST_MARGIN >> 20, total >> 20, a.ram >> 20, step, left);
}
