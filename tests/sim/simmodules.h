/* The simulated kernel's modules, shared by the shim (simkernel_modules.c, reacting to
 * init_module/finit_module/delete_module) and the fixture (mkroot_modules.c, loading the
 * initial modules the same way, so a tree after unload+reload can equal the original).
 *
 * A fake module file (.ko) is readable text, parsed like the kernel parses .modinfo:
 *     hookd-sim-module
 *     name=sim_nvidia_drm
 *     depends=sim_nvidia_modeset,sim_nvidia
 *     drivers=sim_nvidia            (PCI drivers the module registers)
 *
 * State lives where the kernel shows it: <root>/sys/module/<name>/{initstate,refcnt,holders/},
 * <root>/sys/bus/pci/drivers/<drv>/ with its `module` link; a device is probed when its
 * .sim/devices/<bdf>/native (or driver_override) names a driver being registered.
 * Every call is appended to <root>/.sim/module_log ("insert NAME", "delete NAME", "refuse ...").
 * Test-only code: it writes under root and nowhere else. */
#ifndef SIMMODULES_H
#define SIMMODULES_H

#include <stddef.h>

#define SIMMOD_MAGIC "hookd-sim-module\n"

/* 0 or -errno as the kernel's init_module would return it (-EEXIST, -ENOENT for a missing dependency,
 * -ENOEXEC for an image that is not a fake module). */
int simmod_insert(const char *root, const char *image, size_t len);
/* 0 or -errno as delete_module would: -ENOENT not loaded (or built in), -EWOULDBLOCK in use. */
int simmod_delete(const char *root, const char *name);

#endif
