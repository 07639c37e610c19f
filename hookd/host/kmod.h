/* Kernel modules through libkmod; their state read from the rooted sysfs. */
#ifndef HOOKD_KMOD_H
#define HOOKD_KMOD_H

#include "util.h"

enum hkmod_state { HKMOD_ABSENT, HKMOD_LOADED, HKMOD_BUILTIN };

/* Makes sure the PCI driver `driver` (e.g. "vfio-pci") is registered, loading module `module` through
 * libkmod when it is not (built-in drivers need nothing). Refuses to load into the running kernel
 * when root is not "/": a simulated root must never change this machine's modules. */
int hkmod_ensure_pci_driver(const char *root, const char *driver, const char *module, unsigned timeout_ms,
			    struct err *e);

/* "nvidia-drm" -> "nvidia_drm" in place (the kernel's name); -EINVAL unless [A-Za-z0-9_-]{1,55}. */
int hkmod_name_normalize(char *name);
const char *hkmod_state_name(enum hkmod_state s);
int hkmod_state_parse(const char *s, enum hkmod_state *out);
/* Loaded (/sys/module/NAME/initstate), built in (the root's modules.builtin, or /sys/module/NAME
 * without initstate), or absent. */
enum hkmod_state hkmod_state(const char *root, const char *name);
/* -ENOENT (with a message) when the root's /lib/modules/<release> has no module or alias `name`. */
int hkmod_find(const char *root, const char *name, struct err *e);
/* Who keeps `name` loaded, for a refusal: holder modules, processes holding its GPU device nodes
 * (/dev/nvidia..., /dev/dri/...) open, and the refcount. *who is NULL when nobody does. */
int hkmod_users(const char *root, const char *name, char **who);
/* name and every module that holds it (transitively, /sys/module/NAME/holders), holders first: the
 * order [modules] unload = needs ("nvidia_drm nvidia_modeset nvidia"). Free with sysfs_list_free. */
int hkmod_unload_order(const char *root, const char *name, char ***mods, size_t *n);
/* Loads `name` with its dependencies like modprobe, and waits until the root shows it loaded. */
int hkmod_load_module(const char *root, const char *name, unsigned timeout_ms, struct err *e);
/* Unloads exactly `name` (never waits in the kernel: in use fails at once), and waits until it is gone. */
int hkmod_unload_module(const char *root, const char *name, unsigned timeout_ms, struct err *e);

#endif
