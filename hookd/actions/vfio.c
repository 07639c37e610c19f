/* [vfio]: move PCI devices (a GPU and its companion functions) to vfio-pci, and back on release.
 * The rebind follows the kernel's sysfs ABI (Documentation/ABI/testing/sysfs-bus-pci):
 * driver_override, then unbind from the current driver, then drivers_probe. */
#include <errno.h>
#include <string.h>

#include "hostdeps.h"
#include "iommu.h"
#include "kmod.h"
#include "pci.h"
#include "plan.h"
#include "sysfs.h"
#include "vfio.h"

extern const struct action_ops action_vfio;

#define VFIO_DRIVER "vfio-pci"
#define VFIO_MODULE "vfio-pci"

struct vfio_conf {
	bool devices_auto;
	struct pciaddr_list devices;
	bool companions;
	bool force_all;            /* force = yes: take every device even if the host depends on it */
	struct pciaddr_list force; /* force = ADDR...: those devices only */
};

static void vfio_init(void *data)
{
	struct vfio_conf *c = data;

	c->devices_auto = true;
	c->companions = true;
}

static void vfio_free(void *data)
{
	pciaddr_list_free(&((struct vfio_conf *)data)->devices);
	pciaddr_list_free(&((struct vfio_conf *)data)->force);
}

static int vfio_set(void *data, const char *key, const char *value, struct err *e)
{
	struct vfio_conf *c = data;

	if (strcmp(key, "companions") == 0) {
		return parse_bool(value, &c->companions, e);
	}
	if (strcmp(key, "force") == 0) {
		struct err ignored;

		c->force.n = 0;
		if (parse_bool(value, &c->force_all, &ignored) == 0)
			return 0;
		c->force_all = false;
		if (pciaddr_list_parse(value, &c->force, e) < 0)
			return err_prefix(e, -EINVAL, "expected yes, no or PCI addresses: ");
		return c->force.n ? 0 : err_set(e, -EINVAL, "expected yes, no or PCI addresses");
	}
	if (strcmp(key, "devices") != 0)
		return -ENOENT;
	if (strcmp(value, "auto") == 0) {
		c->devices_auto = true;
		return 0;
	}
	c->devices_auto = false;
	if (pciaddr_list_parse(value, &c->devices, e) < 0)
		return -EINVAL;
	if (c->devices.n == 0)
		return err_set(e, -EINVAL, "expected 'auto' or a list of PCI addresses");
	return 0;
}

/* The devices to move: the listed (or the domain's) ones, each followed by its slot's other functions. */
static int resolve_devices(const struct action_ctx *ctx, const struct vfio_conf *c, struct pciaddr_list *out,
			   struct err *e)
{
	_cleanup_pciaddr_list_ struct pciaddr_list hostdevs = { 0 };
	const struct pciaddr_list *from = c->devices_auto ? &hostdevs : &c->devices;

	for (size_t i = 0; c->devices_auto && i < ctx->dom->n_hostdevs; i++)
		pciaddr_list_add(&hostdevs, &ctx->dom->hostdevs[i].address);
	return hpci_with_companions(ctx->conf->root, from->v, from->n, c->companions, out, e);
}

int vfio_devices(const struct action_ctx *ctx, const struct vm_config *cfg, struct pciaddr_list *out, struct err *e)
{
	struct vfio_conf defaults = { 0 };

	for (size_t i = 0; cfg && i < cfg->n_sections; i++)
		if (cfg->sections[i].ops == &action_vfio)
			return resolve_devices(ctx, cfg->sections[i].data, out, e);
	vfio_init(&defaults);
	return resolve_devices(ctx, &defaults, out, e);
}

/* vfio can only use a group that iommu_group_judge finds viable for the VM's devices. */
static int check_group(const struct action_ctx *ctx, const struct pciaddr *a, const struct pciaddr_list *devs,
		       struct err *e)
{
	char buf[PCIADDR_STRLEN], mbuf[PCIADDR_STRLEN];
	const struct iommu_member *m;
	struct iommu_verdict v;
	unsigned group;
	int r = hpci_iommu_group(ctx->conf->root, a, &group);

	if (r == -ENOENT)
		return err_set(
			e, -ENODEV,
			"%s has no IOMMU group: enable the IOMMU (intel_iommu=on or amd_iommu=on, and VT-d/AMD-Vi in the firmware)",
			pciaddr_format(a, buf));
	if (r < 0)
		return err_set(e, r, "%s: cannot read its IOMMU group: %s", pciaddr_format(a, buf), strerror(-r));
	r = iommu_group_judge(ctx->conf->root, group, devs->v, devs->n, ctx->others, ctx->n_others, &v, e);
	if (r < 0)
		return r;
	m = iommu_first_blocker(&v);
	if (m && m->state == IOMMU_MEMBER_OTHER_VM)
		r = err_set(
			e, -EBUSY,
			"IOMMU group %u of %s is not viable: %s is held by VM '%s' (an IOMMU group goes to one VM at a time); stop that VM first",
			group, pciaddr_format(a, buf), pciaddr_format(&m->addr, mbuf), m->held_by);
	else if (m) {
		_cleanup_free_ char *name = hpci_name(ctx->conf->root, &m->addr);

		r = err_set(
			e, -EBUSY,
			"IOMMU group %u of %s is not viable: %s %s is bound to %s and is not passed to this VM; add it to devices= (or pass the whole group)",
			group, pciaddr_format(a, buf), pciaddr_format(&m->addr, mbuf), name, m->driver);
	}
	iommu_verdict_free(&v);
	return r;
}

static void plan_bind(const struct action_ctx *ctx, const struct pciaddr *a, struct plan *p)
{
	const char *root = ctx->conf->root;
	char buf[PCIADDR_STRLEN];
	_cleanup_free_ char *drv = NULL, *name = ctx->describe ? hpci_name(root, a) : xstrdup("");
	_cleanup_free_ char *ovr = NULL, *unbind = NULL, *probe = sysfs_path(root, "/sys/bus/pci/drivers_probe");
	struct step *st;

	pciaddr_format(a, buf);
	(void)hpci_driver(root, a, &drv);
	if (drv && !strcmp(drv, VFIO_DRIVER)) {
		plan_add(p, &action_vfio, "bind", buf, VFIO_DRIVER,
			 xasprintf("%s%s%s: already on %s, nothing to do", buf, name[0] ? " " : "", name, VFIO_DRIVER));
		return;
	}
	st = plan_add(p, &action_vfio, "bind", buf, VFIO_DRIVER,
		      xasprintf("%s%s%s: %s -> %s", buf, name[0] ? " " : "", name, drv ? drv : "(no driver)",
				VFIO_DRIVER));
	ovr = sysfs_path(root, "/sys/bus/pci/devices/%s/driver_override", buf);
	step_add_write(st, ovr, VFIO_DRIVER);
	if (drv) {
		unbind = sysfs_path(root, "/sys/bus/pci/drivers/%s/unbind", drv);
		step_add_write(st, unbind, buf);
	}
	step_add_write(st, probe, buf);
}

static bool forced(const struct vfio_conf *c, const struct pciaddr *a)
{
	return c->force_all || pciaddr_list_has(&c->force, a);
}

/* Never take what the host stands on (its root disk, its network, a GPU a process holds open):
 * refused before anything changes, unless force names the device. */
static int check_host_needs(const struct action_ctx *ctx, const struct vfio_conf *c, const struct pciaddr *a,
			    struct err *e)
{
	_cleanup_free_ char *drv = NULL, *why = NULL;
	char buf[PCIADDR_STRLEN];

	if (forced(c, a) || (hpci_driver(ctx->conf->root, a, &drv) == 0 && drv && !strcmp(drv, VFIO_DRIVER)))
		return 0;
	hostdeps_find(ctx->conf->root, a, &why);
	if (!why)
		return 0;
	pciaddr_format(a, buf);
	return err_set(
		e, -EBUSY,
		"%s is in use by the host: %s; pass another device, or set force = %s in [vfio] if the host can do without it",
		buf, why, buf);
}

static int vfio_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct vfio_conf *c = data;
	_cleanup_pciaddr_list_ struct pciaddr_list devs = { 0 };
	struct step *st;
	int r;

	if (phase != PHASE_PREPARE)
		return 0;
	r = resolve_devices(ctx, c, &devs, e);
	for (size_t i = 0; r == 0 && i < devs.n; i++)
		r = check_host_needs(ctx, c, &devs.v[i], e);
	for (size_t i = 0; r == 0 && i < devs.n; i++)
		r = check_group(ctx, &devs.v[i], &devs, e);
	if (r == 0 && devs.n) {
		bool loaded = sysfs_exists(ctx->conf->root, "/sys/bus/pci/drivers/" VFIO_DRIVER);

		st = plan_add(p, &action_vfio, "load-module", VFIO_MODULE, "",
			      xasprintf("load module %s through libkmod%s", VFIO_MODULE,
					loaded ? " (already loaded: nothing to do)" : ""));
		st->revertible = false;
		for (size_t i = 0; i < devs.n; i++)
			plan_bind(ctx, &devs.v[i], p);
	}
	return r;
}

/* saved = "<driver>;<driver_override>", each empty when none. */
static int vfio_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	_cleanup_free_ char *drv = NULL, *ovr = NULL;
	struct pciaddr a;
	int r;

	if (pciaddr_parse(st->target, &a) < 0)
		return err_set(e, -EINVAL, "bad address '%s'", st->target);
	r = hpci_driver(ctx->conf->root, &a, &drv);
	if (r == 0)
		r = hpci_driver_override(ctx->conf->root, &a, &ovr);
	if (r < 0)
		return err_set(e, r, "%s: cannot read its driver: %s", st->target, strerror(-r));
	*saved = xasprintf("%s;%s", drv ? drv : "", ovr);
	return 0;
}

struct bound_wait {
	const char *root;
	struct pciaddr addr;
	const char *want; /* NULL: unbound */
};

static bool driver_is(void *arg)
{
	struct bound_wait *w = arg;
	_cleanup_free_ char *drv = NULL;

	if (hpci_driver(w->root, &w->addr, &drv) < 0)
		return false;
	return w->want ? drv && !strcmp(drv, w->want) : !drv;
}

/* Unbinds dev from drv in a child process with a bound, and waits until the kernel shows it unbound. */
static int unbind(const struct action_ctx *ctx, const char *dev, const char *drv, struct err *e)
{
	_cleanup_free_ char *path = xasprintf("/sys/bus/pci/drivers/%s/unbind", drv);
	struct bound_wait w = { ctx->conf->root, { 0 }, NULL };
	unsigned t = ctx->conf->timeout_ms;
	int r = sysfs_write_bounded(ctx->conf->root, path, dev, t);

	if (r == -ETIMEDOUT)
		return err_set(
			e, r,
			"%s: driver %s did not let go of the device within %u ms (a process may hold it open: check `fuser -v /dev/dri/* /dev/nvidia*`); the unbind was abandoned",
			dev, drv, t);
	if (r < 0 && r != -ENODEV)
		return err_set(e, r, "%s: unbind from %s failed: %s", dev, drv, strerror(-r));
	(void)pciaddr_parse(dev, &w.addr);
	if (sysfs_wait(driver_is, &w, t) < 0)
		return err_set(e, -ETIMEDOUT, "%s: still bound to %s %u ms after unbind", dev, drv, t);
	return 0;
}

static int vfio_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *drv = NULL, *ovr = NULL;
	struct bound_wait w = { root, { 0 }, VFIO_DRIVER };
	int r;

	(void)saved;
	if (strcmp(st->op, "load-module") == 0)
		return hkmod_ensure_pci_driver(root, VFIO_DRIVER, VFIO_MODULE, ctx->conf->timeout_ms, e);
	if (pciaddr_parse(st->target, &w.addr) < 0 || hpci_driver(root, &w.addr, &drv) < 0)
		return err_set(e, -ENODEV, "%s: device is gone", st->target);
	if (drv && !strcmp(drv, VFIO_DRIVER))
		return 0;
	ovr = xasprintf("/sys/bus/pci/devices/%s/driver_override", st->target);
	r = sysfs_write(root, ovr, VFIO_DRIVER);
	if (r < 0)
		return err_set(e, r, "%s: cannot set driver_override: %s", st->target, strerror(-r));
	if (drv) {
		r = unbind(ctx, st->target, drv, e);
		if (r < 0)
			return r;
	}
	r = sysfs_write_bounded(root, "/sys/bus/pci/drivers_probe", st->target, ctx->conf->timeout_ms);
	if (r < 0)
		return err_set(e, r, "%s: drivers_probe failed: %s", st->target, strerror(-r));
	if (sysfs_wait(driver_is, &w, ctx->conf->timeout_ms) < 0) {
		_cleanup_free_ char *now = NULL;

		(void)hpci_driver(root, &w.addr, &now);
		return err_set(e, -EIO,
			       "%s: not bound to %s after drivers_probe (now: %s); is vfio-pci usable on this kernel?",
			       st->target, VFIO_DRIVER, now ? now : "no driver");
	}
	return 0;
}

/* Gives the device back to the driver it had. Already back (libvirt reattaches managed hostdevs
 * before release) is success. */
static int vfio_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *orig = xstrdup(rec->saved), *cur = NULL, *ovr_now = NULL;
	_cleanup_free_ char *ovr_path = xasprintf("/sys/bus/pci/devices/%s/driver_override", rec->target);
	char *orig_ovr = strchr(orig, ';');
	struct bound_wait w = { root, { 0 }, NULL };
	int r;

	if (strcmp(rec->op, "bind") != 0)
		return 0;
	if (orig_ovr)
		*orig_ovr++ = '\0';
	if (pciaddr_parse(rec->target, &w.addr) < 0 || !hpci_present(root, &w.addr))
		return 0; /* the device is gone (hot-unplugged): nothing left to give back */
	r = hpci_driver(root, &w.addr, &cur);
	if (r == 0)
		r = hpci_driver_override(root, &w.addr, &ovr_now);
	if (r < 0)
		return err_set(e, r, "%s: cannot read its driver: %s", rec->target, strerror(-r));
	if (strcmp(ovr_now, orig_ovr ? orig_ovr : "") != 0) {
		r = sysfs_write(root, ovr_path, orig_ovr && orig_ovr[0] ? orig_ovr : "\n");
		if (r < 0)
			return err_set(e, r, "%s: cannot restore driver_override: %s", rec->target, strerror(-r));
	}
	if (strcmp(cur ? cur : "", orig) == 0)
		return 0;
	if (cur && strcmp(cur, rec->value) != 0)
		return 0; /* bound elsewhere by someone else since: not ours to undo */
	/* On vfio-pci: unbind. Unbound: a prepare died between unbind and probe; just give it back. */
	r = cur ? unbind(ctx, rec->target, cur, e) : 0;
	if (r < 0 || !orig[0])
		return r;
	w.want = orig;
	_cleanup_free_ char *bind = xasprintf("/sys/bus/pci/drivers/%s/bind", orig);
	if (!sysfs_exists(root, bind) || sysfs_write_bounded(root, bind, rec->target, ctx->conf->timeout_ms) < 0) {
		/* The driver is not loaded now (a [modules] step may bring it back later): let the bus decide. */
		(void)sysfs_write_bounded(root, "/sys/bus/pci/drivers_probe", rec->target, ctx->conf->timeout_ms);
		if (!sysfs_exists(root, bind))
			return 0;
	}
	if (sysfs_wait(driver_is, &w, ctx->conf->timeout_ms) < 0)
		return err_set(e, -EIO, "%s: could not give the device back to %s", rec->target, orig);
	return 0;
}

const struct action_ops action_vfio = {
	.name = "vfio",
	.data_size = sizeof(struct vfio_conf),
	.init = vfio_init,
	.set = vfio_set,
	.free_data = vfio_free,
	.plan = vfio_plan,
	.observe = vfio_observe,
	.apply = vfio_apply,
	.revert = vfio_revert,
};
