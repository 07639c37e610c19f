#include "kmod.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <libkmod.h>
#include <string.h>
#include <sys/utsname.h>

#include "procfd.h"
#include "sysfs.h"

/* The test simulator (tests/sim/simkernel_modules.c) exports this symbol when it intercepts the
 * module syscalls. Under a simulated root, libkmod may only run with it in front of the kernel. */
#define SIM_MODULES_MARKER "simkernel_module_syscalls"

static void hkmod_quiet(void *data, int priority, const char *file, int line, const char *fn, const char *format,
			va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

static char *modules_dir(const char *root)
{
	struct utsname u;

	if (uname(&u) < 0)
		return NULL;
	return sysfs_path(root, "/lib/modules/%s", u.release);
}

/* A libkmod context reading the root's /lib/modules/<release> and modprobe.d: a fixture root brings
 * its own modules.dep and aliases. libkmod's messages are silenced: hookd says what failed, once. */
static struct kmod_ctx *ctx_new(const char *root)
{
	struct kmod_ctx *ctx;

	if (strcmp(root, "/") == 0) {
		ctx = kmod_new(NULL, NULL);
	} else {
		_cleanup_free_ char *dir = modules_dir(root), *conf = sysfs_path(root, "/etc/modprobe.d");
		const char *confs[] = { conf, NULL };

		ctx = dir ? kmod_new(dir, confs) : NULL;
	}
	if (ctx)
		kmod_set_log_fn(ctx, hkmod_quiet, NULL);
	return ctx;
}

/* The interlock for module syscalls: the running kernel, or a simulator that intercepts them. */
static int kernel_calls_ok(const char *root, const char *what, struct err *e)
{
	if (sysfs_kernel_calls_allowed(root) && (strcmp(root, "/") == 0 || dlsym(RTLD_DEFAULT, SIM_MODULES_MARKER)))
		return 0;
	return err_set(e, -EPERM, "%s: hookd changes modules only in the running kernel (root = /), not under root %s",
		       what, root);
}

static int lookup(struct kmod_ctx *ctx, const char *name, struct kmod_list **list)
{
	int r = kmod_module_new_from_lookup(ctx, name, list);

	if (r < 0)
		return r;
	return *list ? 0 : -ENOENT;
}

static int hkmod_load(const char *root, const char *module, struct err *e)
{
	struct kmod_ctx *ctx = ctx_new(root);
	struct kmod_list *list = NULL, *l;
	int r;

	if (!ctx)
		return err_set(e, -ENOMEM, "libkmod: cannot create a context");
	r = lookup(ctx, module, &list);
	if (r < 0) {
		kmod_unref(ctx);
		return err_set(e, r, "module %s not found for kernel (is the module package installed?)", module);
	}
	kmod_list_foreach(l, list)
	{
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

int hkmod_ensure_pci_driver(const char *root, const char *driver, const char *module, unsigned timeout_ms,
			    struct err *e)
{
	_cleanup_free_ char *path = xasprintf("/sys/bus/pci/drivers/%s", driver);
	int r;

	if (sysfs_exists(root, path))
		return 0;
	r = kernel_calls_ok(root, driver, e);
	if (r < 0)
		return err_prefix(e, r, "driver %s is not loaded; ", driver);
	r = hkmod_load(root, module, e);
	if (r < 0)
		return r;
	if (sysfs_wait_exists(root, path, true, timeout_ms) < 0)
		return err_set(e, -ETIMEDOUT, "module %s loaded but driver %s did not appear within %u ms", module,
			       driver, timeout_ms);
	return 0;
}

int hkmod_name_normalize(char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 55)
		return -EINVAL;
	for (char *s = name; *s; s++) {
		if (*s == '-')
			*s = '_';
		else if (!isalnum((unsigned char)*s) && *s != '_')
			return -EINVAL;
	}
	return 0;
}

static const char *const state_names[] = {
	[HKMOD_ABSENT] = "absent", [HKMOD_LOADED] = "loaded", [HKMOD_BUILTIN] = "builtin"
};

const char *hkmod_state_name(enum hkmod_state s)
{
	return state_names[s];
}

int hkmod_state_parse(const char *s, enum hkmod_state *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum hkmod_state)i;
			return 0;
		}
	return -EINVAL;
}

/* Is name listed in the root's modules.builtin ("kernel/drivers/.../name.ko" lines)? */
static bool builtin_listed(const char *root, const char *name)
{
	struct utsname u;
	_cleanup_free_ char *abs = NULL, *text = NULL;
	char *save = NULL;

	if (uname(&u) < 0)
		return false;
	abs = xasprintf("/lib/modules/%s/modules.builtin", u.release);
	if (sysfs_read(root, abs, &text) < 0)
		return false;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *base = strrchr(line, '/'), *dot;

		base = base ? base + 1 : line;
		dot = strstr(base, ".ko");
		if (dot)
			*dot = '\0';
		if (hkmod_name_normalize(base) == 0 && strcmp(base, name) == 0)
			return true;
	}
	return false;
}

enum hkmod_state hkmod_state(const char *root, const char *name)
{
	_cleanup_free_ char *dir = xasprintf("/sys/module/%s", name), *init = xasprintf("%s/initstate", dir);

	if (sysfs_exists(root, init))
		return HKMOD_LOADED;
	if (sysfs_exists(root, dir) || builtin_listed(root, name))
		return HKMOD_BUILTIN;
	return HKMOD_ABSENT;
}

int hkmod_find(const char *root, const char *name, struct err *e)
{
	struct kmod_ctx *ctx = ctx_new(root);
	struct kmod_list *list = NULL;
	_cleanup_free_ char *dir = modules_dir(root);
	int r;

	if (!ctx)
		return err_set(e, -ENOMEM, "libkmod: cannot create a context");
	r = lookup(ctx, name, &list);
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	if (r < 0)
		return err_set(e, -ENOENT, "module %s not found in %s (is its package installed?)", name,
			       dir ? dir : "/lib/modules");
	return 0;
}

/* name and, transitively, the modules it depends on (those that list it among their holders):
 * nvidia_drm's device nodes belong to the PCI driver of nvidia, which it sits on. */
static void related_modules(const char *root, const char *name, struct strv *rel)
{
	char **mods = NULL;
	size_t n = 0;

	strv_add(rel, xstrdup(name));
	if (sysfs_list(root, "/sys/module", &mods, &n) < 0)
		return;
	for (size_t i = 0; i < rel->n && i < 16; i++)
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *p = xasprintf("/sys/module/%s/holders/%s", mods[k], rel->v[i]);

			if (!strv_has(rel, mods[k]) && sysfs_exists(root, p))
				strv_add(rel, xstrdup(mods[k]));
		}
	sysfs_list_free(mods, n);
}

/* Depth-first: every holder of name before name itself, each once. */
static void holders_first(const char *root, const char *name, struct strv *out, unsigned depth)
{
	_cleanup_free_ char *dir = xasprintf("/sys/module/%s/holders", name);
	char **holders = NULL;
	size_t n = 0;

	if (strv_has(out, name) || depth > 16)
		return;
	if (sysfs_list(root, dir, &holders, &n) == 0)
		for (size_t i = 0; i < n; i++)
			holders_first(root, holders[i], out, depth + 1);
	sysfs_list_free(holders, n);
	if (!strv_has(out, name))
		strv_add(out, xstrdup(name));
}

int hkmod_unload_order(const char *root, const char *name, char ***mods, size_t *n)
{
	struct strv out = { 0 };

	holders_first(root, name, &out, 0);
	*mods = out.v;
	*n = out.n;
	return 0;
}

/* Does the device node (as /proc/PID/fd shows it) belong to a module of rel? /dev/nvidia* to the
 * nvidia modules; /dev/dri/X to the module of the driver of /sys/class/drm/X's device. */
static bool node_belongs(const char *root, const char *node, const struct strv *rel)
{
	if (strncmp(node, "/dev/nvidia", 11) == 0) {
		for (size_t i = 0; i < rel->n; i++)
			if (strstr(rel->v[i], "nvidia"))
				return true;
		return false;
	}
	if (strncmp(node, "/dev/dri/", 9) == 0 && !strchr(node + 9, '/')) {
		_cleanup_free_ char *p = xasprintf("/sys/class/drm/%s/device/driver/module", node + 9), *mod = NULL;

		return sysfs_link_name(root, p, &mod) == 0 && strv_has(rel, mod);
	}
	return false;
}

static bool node_of_modules(const char *root, const char *node, void *arg)
{
	return node_belongs(root, node, arg);
}

int hkmod_users(const char *root, const char *name, char **who)
{
	_cleanup_free_ char *hdir = xasprintf("/sys/module/%s/holders", name);
	_cleanup_free_ char *rpath = xasprintf("/sys/module/%s/refcnt", name), *refcnt = NULL, *pbuf = NULL;
	char **holders = NULL, *buf = NULL;
	size_t n = 0, len = 0;
	struct strv rel = { 0 };
	unsigned long long rc = 0;
	bool procs;
	FILE *out = xopen_memstream(&buf, &len);

	/* processes holding a GPU device node of name or of a module it sits on */
	related_modules(root, name, &rel);
	procfd_holders(root, node_of_modules, &rel, &pbuf);
	strv_free(&rel);
	procs = pbuf != NULL;
	if (sysfs_list(root, hdir, &holders, &n) < 0)
		n = 0;
	if (n)
		fprintf(out, "used by module%s", n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s", i ? "," : "", holders[i]);
	sysfs_list_free(holders, n);
	if (procs)
		fprintf(out, "%s%s", n ? "; " : "", pbuf);
	if (sysfs_read(root, rpath, &refcnt) == 0 && parse_uint(refcnt, &rc) == 0 && rc > 0)
		fprintf(out, "%s(refcount %llu)", n || procs ? " " : "in use ", rc);
	fclose(out);
	if (!n && !procs && !rc) {
		free(buf);
		buf = NULL;
	}
	*who = buf;
	return 0;
}

int hkmod_load_module(const char *root, const char *name, unsigned timeout_ms, struct err *e)
{
	_cleanup_free_ char *init = xasprintf("/sys/module/%s/initstate", name);
	int r = kernel_calls_ok(root, name, e);

	if (r == 0)
		r = hkmod_load(root, name, e);
	if (r < 0)
		return r;
	if (sysfs_wait_exists(root, init, true, timeout_ms) < 0)
		return err_set(e, -ETIMEDOUT, "module %s: loaded, but not live within %u ms", name, timeout_ms);
	return 0;
}

int hkmod_unload_module(const char *root, const char *name, unsigned timeout_ms, struct err *e)
{
	_cleanup_free_ char *dir = xasprintf("/sys/module/%s", name);
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int r = kernel_calls_ok(root, name, e);

	if (r < 0)
		return r;
	ctx = ctx_new(root);
	if (!ctx)
		return err_set(e, -ENOMEM, "libkmod: cannot create a context");
	r = kmod_module_new_from_name(ctx, name, &mod);
	if (r == 0)
		r = kmod_module_remove_module(mod, 0); /* libkmod forces O_NONBLOCK: no wait in the kernel */
	kmod_module_unref(mod);
	kmod_unref(ctx);
	if (r == -EAGAIN || r == -EBUSY)
		return err_set(e, -EBUSY, "the kernel refused to unload module %s: it is in use", name);
	if (r < 0 && r != -ENOENT)
		return err_set(e, r, "cannot unload module %s: %s", name, strerror(-r));
	if (sysfs_wait_exists(root, dir, false, timeout_ms) < 0)
		return err_set(e, -ETIMEDOUT, "module %s: unloaded, but still present after %u ms", name, timeout_ms);
	return 0;
}
