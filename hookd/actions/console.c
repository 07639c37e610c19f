/* [console]: free a single GPU from the host console. `vtconsoles = yes` unbinds every bound
 * /sys/class/vtconsole/vtcon*; `framebuffer = NAME...` unbinds platform framebuffer devices
 * (efi-framebuffer.0, simple-framebuffer.0) from their driver. Release binds back what was bound.
 *
 * What the real kernel does (tests/vm/guest-console.sh, 6.1 and 6.12 under OVMF): fbcon's vtcon
 * exists only while a framebuffer is registered. Unbinding the last framebuffer removes the vtcon
 * and hands the terminals to the dummy console; binding it again makes fbcon take them back by
 * itself, vtcon bound. A driver that takes the boot GPU (vfio-pci, bochs-drm, nvidia-drm) makes the
 * kernel unregister the firmware framebuffer device for good, until reboot. So release binds the
 * framebuffers first (the plan lists the vtconsoles first and release goes newest first), then
 * binds only a vtcon that exists and is still unbound: a vtcon that came back bound is done, one
 * that is gone waits for a framebuffer (fbcon takes the console when the GPU's driver registers
 * one). Neither a gone framebuffer nor a gone vtcon is an error: nothing could ever restore them,
 * and a step held for them would make every later `hookd restore` fail. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "sysfs.h"

extern const struct action_ops action_console;

#define VT_PREFIX "vtconsole/"
#define FB_PREFIX "platform/"

struct console_conf {
	bool vtconsoles;
	char **fbs;
	size_t n_fbs;
};

static void console_init(void *data)
{
	(void)data; /* vtconsoles = no, no framebuffer */
}

static void console_free(void *data)
{
	struct console_conf *c = data;

	for (size_t i = 0; i < c->n_fbs; i++)
		free(c->fbs[i]);
	free(c->fbs);
}

static bool valid_device_name(const char *s)
{
	if (!s[0] || strlen(s) > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._:-", *s))
			return false;
	return true;
}

static int console_set(void *data, const char *key, const char *value, struct err *e)
{
	struct console_conf *c = data;

	if (strcmp(key, "vtconsoles") == 0) {
		return parse_bool(value, &c->vtconsoles, e);
	}
	if (strcmp(key, "framebuffer") != 0)
		return -ENOENT;
	_cleanup_strv_ struct strv items = { 0 };

	console_free(c);
	c->fbs = NULL;
	c->n_fbs = 0;
	strv_split_list(&items, value);
	for (size_t i = 0; i < items.n; i++) {
		if (!valid_device_name(items.v[i]))
			return err_set(e, -EINVAL, "'%s' is not a platform device name (e.g. efi-framebuffer.0)",
				       items.v[i]);
		c->fbs = xrealloc(c->fbs, (c->n_fbs + 1) * sizeof(*c->fbs));
		c->fbs[c->n_fbs++] = xstrdup(items.v[i]);
	}
	if (c->n_fbs == 0)
		return err_set(e, -EINVAL, "expected a platform device name (e.g. efi-framebuffer.0)");
	return 0;
}

static char *vt_attr(const char *vt, const char *attr)
{
	return xasprintf("/sys/class/vtconsole/%s/%s", vt, attr);
}

static bool vt_exists(const char *root, const char *vt)
{
	_cleanup_free_ char *p = vt_attr(vt, "bind");

	return sysfs_exists(root, p);
}

static bool vt_bound(const char *root, const char *vt)
{
	_cleanup_free_ char *p = vt_attr(vt, "bind"), *v = NULL;

	return sysfs_read(root, p, &v) == 0 && strcmp(v, "1") == 0;
}

static void plan_vtconsoles(const struct action_ctx *ctx, struct plan *p)
{
	const char *root = ctx->conf->root;
	char **vts = NULL;
	size_t n = 0;

	if (sysfs_list(root, "/sys/class/vtconsole", &vts, &n) < 0)
		return; /* no virtual terminals (CONFIG_VT=n): nothing is bound */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *name_path = vt_attr(vts[i], "name"), *name = NULL, *target = NULL;
		_cleanup_free_ char *bind = NULL;
		struct step *st;

		if (strncmp(vts[i], "vtcon", 5) != 0 || !vt_bound(root, vts[i]))
			continue;
		if (sysfs_read(root, name_path, &name) < 0)
			name = xstrdup("?");
		target = xasprintf(VT_PREFIX "%s", vts[i]);
		st = plan_add(p, &action_console, "unbind", target, "0",
			      xasprintf("unbind %s %s from the virtual terminals; bound again on release", vts[i],
					name));
		bind = sysfs_path(root, "/sys/class/vtconsole/%s/bind", vts[i]);
		step_add_write(st, bind, "0");
	}
	sysfs_list_free(vts, n);
}

static void plan_framebuffer(const struct action_ctx *ctx, const char *fb, struct plan *p)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *dev = xasprintf("/sys/bus/platform/devices/%s", fb), *link = xasprintf("%s/driver", dev);
	_cleanup_free_ char *drv = NULL, *target = xasprintf(FB_PREFIX "%s", fb), *unbind = NULL;
	struct step *st;

	if (!sysfs_exists(root, dev)) {
		plan_add(p, &action_console, "unbind", target, "",
			 xasprintf("framebuffer %s is not present (gone already): nothing to do", fb));
		return;
	}
	if (sysfs_link_name(root, link, &drv) < 0) {
		plan_add(p, &action_console, "unbind", target, "",
			 xasprintf("framebuffer %s has no driver: nothing to do", fb));
		return;
	}
	st = plan_add(p, &action_console, "unbind", target, "",
		      xasprintf("unbind framebuffer %s from %s; bound again on release (if it still exists)", fb, drv));
	unbind = sysfs_path(root, "/sys/bus/platform/drivers/%s/unbind", drv);
	step_add_write(st, unbind, fb);
}

static int console_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct console_conf *c = data;

	(void)e;
	if (phase != PHASE_PREPARE)
		return 0;
	if (c->vtconsoles)
		plan_vtconsoles(ctx, p);
	for (size_t i = 0; i < c->n_fbs; i++)
		plan_framebuffer(ctx, c->fbs[i], p);
	return 0;
}

static char *fb_driver(const char *root, const char *fb)
{
	_cleanup_free_ char *link = xasprintf("/sys/bus/platform/devices/%s/driver", fb);
	char *drv = NULL;

	return sysfs_link_name(root, link, &drv) == 0 ? drv : NULL;
}

/* saved: "1"/"0" for a vtconsole's bind; the framebuffer's driver ("" when none or gone). */
static int console_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	const char *root = ctx->conf->root;

	(void)e;
	if (strncmp(st->target, VT_PREFIX, strlen(VT_PREFIX)) == 0)
		*saved = xstrdup(vt_bound(root, st->target + strlen(VT_PREFIX)) ? "1" : "0");
	else
		*saved = fb_driver(root, st->target + strlen(FB_PREFIX));
	if (!*saved)
		*saved = xstrdup("");
	return 0;
}

struct vt_wait {
	const char *root, *vt;
	bool want;
};

static bool vt_is(void *arg)
{
	const struct vt_wait *w = arg;

	return vt_bound(w->root, w->vt) == w->want;
}

/* The kernel accepts any write to bind and may ignore it: read back what it did. */
static int vt_set(const struct action_ctx *ctx, const char *vt, bool bind, struct err *e)
{
	_cleanup_free_ char *p = vt_attr(vt, "bind");
	struct vt_wait w = { ctx->conf->root, vt, bind };
	int r = sysfs_write(ctx->conf->root, p, bind ? "1" : "0");

	if (r < 0)
		return err_set(e, r, "%s: cannot write %s to bind: %s", vt, bind ? "1" : "0", strerror(-r));
	if (sysfs_wait(vt_is, &w, ctx->conf->timeout_ms) < 0)
		return err_set(
			e, -EIO,
			bind ? "%s: the kernel did not bind the console again (bind still reads 0; fbcon may not take a console back under this firmware)"
			     : "%s: the kernel did not unbind the console (bind still reads 1: it has no other console driver to hand the terminals to)",
			vt);
	return 0;
}

struct fb_wait {
	const char *root, *fb, *want; /* want NULL: unbound */
};

static bool fb_is(void *arg)
{
	const struct fb_wait *w = arg;
	_cleanup_free_ char *drv = fb_driver(w->root, w->fb);

	return w->want ? drv && !strcmp(drv, w->want) : !drv;
}

static int fb_unbind(const struct action_ctx *ctx, const char *fb, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *drv = fb_driver(root, fb), *path = NULL;
	struct fb_wait w = { root, fb, NULL };
	int r;

	if (!drv)
		return 0; /* gone, or unbound already */
	path = xasprintf("/sys/bus/platform/drivers/%s/unbind", drv);
	r = sysfs_write_bounded(root, path, fb, ctx->conf->timeout_ms);
	if (r < 0 && r != -ENODEV)
		return err_set(e, r, "framebuffer %s: unbind from %s failed: %s", fb, drv, strerror(-r));
	if (sysfs_wait(fb_is, &w, ctx->conf->timeout_ms) < 0)
		return err_set(e, -ETIMEDOUT, "framebuffer %s: still bound to %s %u ms after unbind", fb, drv,
			       ctx->conf->timeout_ms);
	return 0;
}

static int console_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	(void)saved;
	if (strncmp(st->target, VT_PREFIX, strlen(VT_PREFIX)) == 0) {
		const char *vt = st->target + strlen(VT_PREFIX);

		return vt_bound(ctx->conf->root, vt) ? vt_set(ctx, vt, false, e) : 0;
	}
	return fb_unbind(ctx, st->target + strlen(FB_PREFIX), e);
}

static int fb_rebind(const struct action_ctx *ctx, const char *fb, const char *orig, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *dev = xasprintf("/sys/bus/platform/devices/%s", fb), *cur = fb_driver(root, fb);
	_cleanup_free_ char *path = xasprintf("/sys/bus/platform/drivers/%s/bind", orig);
	struct fb_wait w = { root, fb, orig };
	int r;

	if (!orig[0] || cur)
		return 0; /* was unbound, or bound again by someone: nothing to give back */
	if (!sysfs_exists(root, dev)) {
		log_info("framebuffer %s is gone: the kernel removed it when a driver took its GPU, and only a reboot "
			 "brings it back; the console returns when the GPU's own driver registers a framebuffer",
			 fb);
		return 0;
	}
	r = sysfs_write_bounded(root, path, fb, ctx->conf->timeout_ms);
	if (r < 0)
		return err_set(e, r, "framebuffer %s: bind to %s failed: %s", fb, orig, strerror(-r));
	if (sysfs_wait(fb_is, &w, ctx->conf->timeout_ms) < 0)
		return err_set(e, -ETIMEDOUT, "framebuffer %s: not bound to %s %u ms after bind", fb, orig,
			       ctx->conf->timeout_ms);
	return 0;
}

static int console_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	if (strncmp(rec->target, VT_PREFIX, strlen(VT_PREFIX)) == 0) {
		const char *vt = rec->target + strlen(VT_PREFIX);

		if (strcmp(rec->saved, "1") != 0 || vt_bound(ctx->conf->root, vt))
			return 0; /* was unbound, or its framebuffer came back and fbcon took it again */
		if (!vt_exists(ctx->conf->root, vt)) {
			log_info("%s is gone with its framebuffer: fbcon binds the terminals again by itself when a "
				 "framebuffer registers",
				 vt);
			return 0;
		}
		return vt_set(ctx, vt, true, e);
	}
	return fb_rebind(ctx, rec->target + strlen(FB_PREFIX), rec->saved, e);
}

const struct action_ops action_console = {
	.name = "console",
	.data_size = sizeof(struct console_conf),
	.init = console_init,
	.set = console_set,
	.free_data = console_free,
	.plan = console_plan,
	.observe = console_observe,
	.apply = console_apply,
	.revert = console_revert,
};
