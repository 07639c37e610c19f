/* hookd new VM: the VM's INI, written from its domain XML and what the host shows now, every key
 * commented with why it was chosen. Never replaces an existing INI; what it writes passes check. */
#include "cli_new.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "kmod.h"
#include "pci.h"
#include "phase.h"
#include "sysfs.h"
#include "vmconfig.h"

/* The passed GPU the firmware booted on, still on a host driver: the host's display runs on it. */
static bool host_display_gpu(const char *root, const struct domain *dom, struct pciaddr *gpu, char **driver)
{
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		const struct pciaddr *a = &dom->hostdevs[i].address;
		unsigned vendor, device, class;

		if (hpci_vendor_device(root, a, &vendor, &device, &class) < 0 || class >> 8 != 0x03)
			continue;
		if (!hpci_boot_vga(root, a))
			continue;
		if (hpci_driver(root, a, driver) < 0 || !*driver || !strcmp(*driver, "vfio-pci")) {
			free(*driver);
			*driver = NULL;
			continue;
		}
		*gpu = *a;
		return true;
	}
	return false;
}

/* The firmware framebuffer the console may sit on (efi-, simple- or vesa-framebuffer.N), or NULL. */
static char *firmware_framebuffer(const char *root)
{
	static const char *const kinds[] = { "efi-framebuffer.", "simple-framebuffer.", "vesa-framebuffer." };
	char **devs = NULL, *found = NULL;
	size_t n = 0;

	if (sysfs_list(root, "/sys/bus/platform/devices", &devs, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n && !found; i++)
		for (size_t k = 0; k < ARRAY_SIZE(kinds) && !found; k++)
			if (strncmp(devs[i], kinds[k], strlen(kinds[k])) == 0)
				found = xstrdup(devs[i]);
	sysfs_list_free(devs, n);
	return found;
}

static void put_single_gpu(FILE *f, const char *root, const struct pciaddr *gpu, const char *driver)
{
	_cleanup_free_ char *mpath = xasprintf("/sys/bus/pci/drivers/%s/module", driver), *mod = NULL;
	_cleanup_free_ char *fb = firmware_framebuffer(root);
	char buf[PCIADDR_STRLEN], **mods = NULL;
	size_t n = 0;

	pciaddr_format(gpu, buf);
	fprintf(f,
		"; %s is the boot VGA on %s: the host's console and display run on it, so the host\n"
		"; gives them up while the VM runs (single-GPU passthrough), in this order.\n\n",
		buf, driver);
	fputs("[service]\nstop = display-manager.service ; the desktop holds the GPU open; it starts again on release\n\n",
	      f);
	fputs("[console]\nvtconsoles = yes ; unbind the text consoles (fbcon) from the GPU\n", f);
	if (fb)
		fprintf(f, "framebuffer = %s ; the firmware framebuffer this host has\n", fb);
	fputc('\n', f);
	if (sysfs_link_name(root, mpath, &mod) < 0) {
		fprintf(f, "; driver %s is built into the kernel: no [modules] section can unload it\n\n", driver);
		return;
	}
	(void)hkmod_unload_order(root, mod, &mods, &n);
	fputs("[modules]\nunload =", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, " %s", mods[i]);
	fprintf(f, " ; %s's module and every module that holds it (/sys/module/*/holders), holders first\n\n", driver);
	sysfs_list_free(mods, n);
}

static void put_ini(FILE *f, const char *root, const char *vm, const struct domain *dom)
{
	struct pciaddr gpu;
	_cleanup_free_ char *driver = NULL;

	fprintf(f,
		"; hookd INI for VM %s, written by `hookd new` from its domain XML and this host.\n"
		"; Sections run top to bottom on prepare and are undone bottom to top on release. hookd.ini(5)\n\n",
		vm);
	if (host_display_gpu(root, dom, &gpu, &driver))
		put_single_gpu(f, root, &gpu, driver);
	if (dom->n_hostdevs)
		fputs("[vfio]\ndevices = auto ; the domain's <hostdev type='pci'> devices\n"
		      "companions = yes ; and the other functions of their slots (HDMI audio, USB-C)\n\n",
		      f);
	if (dom->has_hugepages)
		fputs("[hugepages]\n; the domain asks for <memoryBacking><hugepages>: reserve them before QEMU starts\n"
		      "size = auto ; the domain's page size (the host's default for a bare <hugepages/>)\n"
		      "pages = auto ; enough for <memory>\n\n",
		      f);
	if (dom->n_vcpupins) {
		fputs("[cpus]\nhost = auto ; the host keeps the CPUs <cputune> pins no vCPU to\n\n", f);
		fputs("[pin]\nmap = xml ; pin QEMU's vCPU threads as <vcpupin> says, once it runs\n\n", f);
	}
	if (!dom->n_hostdevs && !dom->has_hugepages && !dom->n_vcpupins)
		fputs("; the domain has no PCI hostdev, huge pages or vCPU pins: nothing for hookd to prepare yet\n",
		      f);
}

/* Writes the INI to a temporary file beside it, checks it as `hookd check` would, and links it in
 * place: link(2) fails when the INI exists, so an existing one is never replaced, not even by a race. */
static int place_ini(const char *ini, const char *root, const char *vm, const struct domain *dom)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new-XXXXXX", ini);
	struct vm_config *cfg = NULL;
	struct err e = { "" };
	int fd = mkostemp(tmp, O_CLOEXEC), r;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		fprintf(stderr, "hookd: new: cannot write beside %s: %s\n", ini, strerror(errno));
		return EXIT_ACTION_FAILED;
	}
	(void)fchmod(fd, 0644);
	put_ini(f, root, vm, dom);
	r = fflush(f) == 0 && fsync(fd) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && vmconfig_load(tmp, &cfg, &e) < 0) {
		fprintf(stderr, "hookd: new: the INI written for %s does not pass check (a bug): %s\n", vm, e.msg);
		r = -EINVAL;
	}
	vmconfig_free(cfg);
	if (r == 0 && link(tmp, ini) < 0) {
		r = -errno;
		fprintf(stderr, "hookd: new: %s: %s\n", ini,
			r == -EEXIST ? "exists already: edit it with `hookd edit`" : strerror(-r));
	}
	unlink(tmp);
	if (r < 0)
		return r == -EEXIST ? EXIT_CONFIG : EXIT_ACTION_FAILED;
	printf("Wrote %s. Next: hookd plan %s\n", ini, vm);
	return EXIT_OK;
}

int new_run(const struct hookd_conf *conf, const char *vm, const struct domain *dom, bool to_stdout)
{
	_cleanup_free_ char *ini = conf_vm_ini_path(conf, vm);

	if (!ini) {
		fprintf(stderr, "hookd: new: '%s' cannot be a VM's file name\n", vm);
		return EXIT_CONFIG;
	}
	if (to_stdout) {
		put_ini(stdout, conf->root, vm, dom);
		return EXIT_OK;
	}
	if (access(ini, F_OK) == 0) {
		fprintf(stderr, "hookd: new: %s exists already: edit it with `hookd edit %s`\n", ini, vm);
		return EXIT_CONFIG;
	}
	return place_ini(ini, conf->root, vm, dom);
}
