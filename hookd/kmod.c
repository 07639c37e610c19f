#include "kmod.h"

#include <errno.h>
#include <libkmod.h>
#include <string.h>

#include "sysfs.h"

struct driver_wait {
	const char *path;
};

static bool driver_registered(void *arg)
{
	const struct driver_wait *w = arg;

	return access(w->path, F_OK) == 0;
}

static int kmod_load(const char *module, struct err *e)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_list *list = NULL, *l;
	int r;

	if (!ctx)
		return err_set(e, -ENOMEM, "libkmod: cannot create a context");
	kmod_load_resources(ctx);
	r = kmod_module_new_from_lookup(ctx, module, &list);
	if (r < 0 || !list) {
		kmod_unref(ctx);
		return err_set(e, r < 0 ? r : -ENOENT, "module %s not found for kernel (is the module package installed?)",
			       module);
	}
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		/* probe_insert resolves dependencies and softdeps like modprobe does */
		r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
		if (r < 0)
			err_set(e, r, "cannot load module %s: %s", kmod_module_get_name(mod), strerror(-r));
		kmod_module_unref(mod);
		if (r >= 0)
			break;
	}
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return r < 0 ? r : 0;
}

int kmod_ensure_pci_driver(const char *root, const char *driver, const char *module, unsigned timeout_ms,
			   struct err *e)
{
	_cleanup_free_ char *path = sysfs_path(root, "/sys/bus/pci/drivers/%s", driver);
	struct driver_wait w = { path };
	int r;

	if (driver_registered(&w))
		return 0;
	if (!sysfs_kernel_calls_allowed(root))
		return err_set(e, -EPERM, "driver %s is not loaded under root %s, and hookd loads modules only into the running kernel (root = /)",
			       driver, root);
	r = kmod_load(module, e);
	if (r < 0)
		return r;
	if (sysfs_wait(driver_registered, &w, timeout_ms) < 0)
		return err_set(e, -ETIMEDOUT, "module %s loaded but driver %s did not appear within %u ms", module,
			       driver, timeout_ms);
	return 0;
}
