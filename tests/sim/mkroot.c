/* sim-mkroot: writes a fixture root that looks like Linux PCI sysfs (for libpci's sysfs
 * method and for hookd), and dumps a root as a canonical listing so tests can compare trees.
 *
 *   sim-mkroot DIR [--preset gpu|dual|empty]
 *   sim-mkroot --dump DIR [--exclude REL]...
 *
 * Test-only code: it writes under DIR and nowhere else. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_fs.h"

struct sim_dev {
	const char *bdf;
	const char *parent; /* path below sys/devices of the parent device dir */
	unsigned vendor, device, class, subvendor, subdevice, revision;
	int group;
	const char *driver; /* bound driver, NULL when unbound */
	const char *native; /* what the kernel's id tables would pick */
	bool boot_vga, multifunction;
};

struct sim_drv {
	const char *name, *module; /* module NULL: built in */
};

/* The "gpu" preset: a contract other tests rely on; change only with them. */
static const struct sim_dev gpu_devs[] = {
	{ "0000:00:00.0", "pci0000:00", 0x8086, 0x29c0, 0x060000, 0x8086, 0x5044, 0x02, 0, NULL, NULL, false, false },
	{ "0000:00:01.0", "pci0000:00", 0x8086, 0x1901, 0x060400, 0x0000, 0x0000, 0x07, 1, "pcieport", "pcieport",
	  false, false },
	{ "0000:01:00.0", "pci0000:00/0000:00:01.0", 0x10de, 0x2204, 0x030000, 0x1458, 0x403b, 0xa1, 2, "nvidia",
	  "nvidia", true, true },
	{ "0000:01:00.1", "pci0000:00/0000:00:01.0", 0x10de, 0x1aef, 0x040300, 0x1458, 0x403b, 0xa1, 2, "snd_hda_intel",
	  "snd_hda_intel", false, true },
	{ "0000:02:00.0", "pci0000:00", 0x8086, 0x10d3, 0x020000, 0x8086, 0xa01f, 0x00, 3, "e1000e", "e1000e", false,
	  false },
	{ "0000:03:00.0", "pci0000:00", 0x1912, 0x0014, 0x0c0330, 0x1912, 0x0014, 0x03, 4, "xhci_hcd", "xhci_hcd",
	  false, false },
	{ "0000:04:00.0", "pci0000:00", 0x8086, 0x2922, 0x010601, 0x8086, 0x2922, 0x02, 4, "ahci", "ahci", false,
	  false },
	{ "0000:05:00.0", "pci0000:00", 0x1002, 0x73bf, 0x030000, 0x1002, 0x0e3a, 0xc1, 5, "vfio-pci", "amdgpu", false,
	  true },
	{ "0000:05:00.1", "pci0000:00", 0x1002, 0xab28, 0x040300, 0x1002, 0xab28, 0x00, 5, "vfio-pci", "snd_hda_intel",
	  false, true },
};

static const struct sim_drv gpu_drvs[] = {
	{ "pcieport", NULL },       { "nvidia", "nvidia" },     { "snd_hda_intel", "snd_hda_intel" },
	{ "e1000e", "e1000e" },     { "xhci_hcd", "xhci_pci" }, { "ahci", "ahci" },
	{ "vfio-pci", "vfio_pci" }, { "pci-stub", "pci_stub" }, { "amdgpu", "amdgpu" },
};

/* The "dual" preset, the host of the README's demo (`cmake --build build --target demo`): a dual-GPU
 * desktop whose own GPU, this iGPU on i915, is the boot VGA; the gpu preset's NVIDIA card and its audio
 * (group 2), no longer the boot VGA, are the VM's, and its AMD card (with amdgpu) is not there. */
static const struct sim_dev dual_igpu = { "0000:00:02.0", "pci0000:00", 0x8086, 0xa780, 0x030000,
					  0x1458,         0xd000,       0x04,   5,      "i915",
					  "i915",         true,         false };

/* Loaded modules; holders are "module:holder" pairs below. */
static const char *gpu_modules[] = { "nvidia", "snd_hda_intel", "e1000e", "xhci_pci",         "ahci",
				     "amdgpu", "vfio_pci",      "vfio",   "vfio_iommu_type1", "pci_stub" };
static const char *gpu_holders[][2] = { { "vfio", "vfio_pci" }, { "vfio", "vfio_iommu_type1" } };

static const char *root;

/* snprintf that refuses to truncate: every path here is far below PATH_MAX. */
static void fmt_into(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		fx_die("path too long: %s", buf);
}

/* "../" repeated once per component of rel (a path below sys/): the way back to sys/. */
static void ups(const char *rel, char *out, size_t size)
{
	out[0] = '\0';
	size_t n = 1;
	for (const char *p = rel; *p; p++)
		n += *p == '/';
	for (size_t i = 0; i < n; i++)
		strncat(out, "../", size - strlen(out) - 1);
}

static void config_space(const struct sim_dev *d, uint8_t cfg[64])
{
	memset(cfg, 0, 64);
	cfg[0x00] = (uint8_t)d->vendor, cfg[0x01] = (uint8_t)(d->vendor >> 8);
	cfg[0x02] = (uint8_t)d->device, cfg[0x03] = (uint8_t)(d->device >> 8);
	cfg[0x04] = 0x07; /* command: io, memory, bus master */
	cfg[0x08] = (uint8_t)d->revision;
	cfg[0x09] = d->class & 0xff, cfg[0x0a] = (d->class >> 8) & 0xff, cfg[0x0b] = (uint8_t)(d->class >> 16);
	bool bridge = (d->class >> 8) == 0x0604;
	cfg[0x0e] = (uint8_t)((bridge ? 1 : 0) | (d->multifunction ? 0x80 : 0));
	if (bridge) {
		unsigned sec = 0; /* root port 0000:00:0N.0 leads to bus N */
		sscanf(d->bdf + 8, "%x", &sec);
		cfg[0x19] = cfg[0x1a] = (uint8_t)sec;
	} else {
		cfg[0x2c] = (uint8_t)d->subvendor, cfg[0x2d] = (uint8_t)(d->subvendor >> 8);
		cfg[0x2e] = (uint8_t)d->subdevice, cfg[0x2f] = (uint8_t)(d->subdevice >> 8);
	}
	cfg[0x3d] = d->class >> 8 == 0x0600 ? 0 : 1; /* INTA */
}

static void make_device(const struct sim_dev *d, int irq)
{
	char rel[PATH_MAX], up[PATH_MAX];
	fmt_into(rel, sizeof(rel), "devices/%s/%s", d->parent, d->bdf);
	const char *dir = fx_path("sys/%s", rel);
	fx_mkdirs(dir);
	ups(rel, up, sizeof(up));

	fx_put(fx_path("sys/%s/vendor", rel), 0444, "0x%04x\n", d->vendor);
	fx_put(fx_path("sys/%s/device", rel), 0444, "0x%04x\n", d->device);
	fx_put(fx_path("sys/%s/class", rel), 0444, "0x%06x\n", d->class);
	fx_put(fx_path("sys/%s/subsystem_vendor", rel), 0444, "0x%04x\n", d->subvendor);
	fx_put(fx_path("sys/%s/subsystem_device", rel), 0444, "0x%04x\n", d->subdevice);
	fx_put(fx_path("sys/%s/revision", rel), 0444, "0x%02x\n", d->revision);
	fx_put(fx_path("sys/%s/irq", rel), 0444, "%d\n", irq);
	fx_put(fx_path("sys/%s/numa_node", rel), 0644, "-1\n");
	fx_put(fx_path("sys/%s/modalias", rel), 0444, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n", d->vendor,
	       d->device, d->subvendor, d->subdevice, d->class >> 16, (d->class >> 8) & 0xff, d->class & 0xff);
	if ((d->class >> 8) == 0x0300)
		fx_put(fx_path("sys/%s/boot_vga", rel), 0444, "%d\n", d->boot_vga ? 1 : 0);
	fx_put(fx_path("sys/%s/driver_override", rel), 0644, "(null)\n");
	uint8_t cfg[64];
	config_space(d, cfg);
	fx_write(fx_path("sys/%s/config", rel), 0644, cfg, sizeof(cfg));
	char res[64 * 13 + 1] = "";
	for (int i = 0; i < 13; i++)
		strcat(res, "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	fx_put(fx_path("sys/%s/resource", rel), 0444, "%s", res);

	char target[PATH_MAX];
	fmt_into(target, sizeof(target), "%sbus/pci", up);
	fx_link(target, fx_path("sys/%s/subsystem", rel));
	fmt_into(target, sizeof(target), "%skernel/iommu_groups/%d", up, d->group);
	fx_link(target, fx_path("sys/%s/iommu_group", rel));
	fmt_into(target, sizeof(target), "../../../%s", rel);
	fx_link(target, fx_path("sys/bus/pci/devices/%s", d->bdf));

	fx_mkdirs(fx_path("sys/kernel/iommu_groups/%d/devices", d->group));
	fx_put(fx_path("sys/kernel/iommu_groups/%d/type", d->group), 0644, "DMA\n");
	fmt_into(target, sizeof(target), "../../../../%s", rel);
	fx_link(target, fx_path("sys/kernel/iommu_groups/%d/devices/%s", d->group, d->bdf));

	if (d->driver) {
		fmt_into(target, sizeof(target), "%sbus/pci/drivers/%s", up, d->driver);
		fx_link(target, fx_path("sys/%s/driver", rel));
		fmt_into(target, sizeof(target), "../../../../%s", rel);
		fx_link(target, fx_path("sys/bus/pci/drivers/%s/%s", d->driver, d->bdf));
		if (strcmp(d->driver, "vfio-pci") == 0)
			fx_put(fx_path("dev/vfio/%d", d->group), 0600, "%s", "");
	}
	fx_mkdirs(fx_path(".sim/devices/%s", d->bdf));
	fx_put(fx_path(".sim/devices/%s/native", d->bdf), 0644, "%s\n", d->native ? d->native : "");
}

static void make_driver(const struct sim_drv *drv)
{
	fx_mkdirs(fx_path("sys/bus/pci/drivers/%s", drv->name));
	static const char *files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fx_put(fx_path("sys/bus/pci/drivers/%s/%s", drv->name, files[i]), 0200, "%s", "");
	if (drv->module) {
		char target[PATH_MAX];
		fmt_into(target, sizeof(target), "../../../../module/%s", drv->module);
		fx_link(target, fx_path("sys/bus/pci/drivers/%s/module", drv->name));
	}
}

static void make_module(const char *name, int refcnt)
{
	fx_mkdirs(fx_path("sys/module/%s/holders", name));
	fx_put(fx_path("sys/module/%s/refcnt", name), 0444, "%d\n", refcnt);
	fx_put(fx_path("sys/module/%s/initstate", name), 0444, "live\n");
}

static void make_skeleton(void)
{
	fx_mkdirs(fx_path("sys/devices/pci0000:00"));
	fx_mkdirs(fx_path("sys/bus/pci/devices"));
	fx_mkdirs(fx_path("sys/bus/pci/drivers"));
	fx_mkdirs(fx_path("sys/kernel/iommu_groups"));
	fx_mkdirs(fx_path("sys/module"));
	fx_put(fx_path("sys/bus/pci/drivers_probe"), 0200, "%s", "");
	fx_put(fx_path("sys/bus/pci/drivers_autoprobe"), 0644, "1\n");
	fx_mkdirs(fx_path("dev/vfio"));
	fx_put(fx_path("dev/vfio/vfio"), 0666, "%s", "");
	fx_mkdirs(fx_path(".sim/faults"));
	fx_mkdirs(fx_path(".sim/devices"));
	fx_mkdirs(fx_path(".sim/drivers"));
	fx_put(fx_path(".sim/write_count"), 0644, "0\n");
}

/* The dual preset leaves out the gpu preset's AMD card and its driver. */
static bool skipped(bool dual, const char *name)
{
	return dual && strcmp(name, "amdgpu") == 0;
}

static void make_gpu(bool dual)
{
	for (size_t i = 0; i < sizeof(gpu_modules) / sizeof(gpu_modules[0]); i++) {
		int refcnt = 0;
		for (size_t j = 0; j < sizeof(gpu_holders) / sizeof(gpu_holders[0]); j++)
			refcnt += strcmp(gpu_holders[j][0], gpu_modules[i]) == 0;
		if (!skipped(dual, gpu_modules[i]))
			make_module(gpu_modules[i], refcnt);
	}
	for (size_t j = 0; j < sizeof(gpu_holders) / sizeof(gpu_holders[0]); j++) {
		char target[PATH_MAX];
		fmt_into(target, sizeof(target), "../../%s", gpu_holders[j][1]);
		fx_link(target, fx_path("sys/module/%s/holders/%s", gpu_holders[j][0], gpu_holders[j][1]));
	}
	for (size_t i = 0; i < sizeof(gpu_drvs) / sizeof(gpu_drvs[0]); i++)
		if (!skipped(dual, gpu_drvs[i].name))
			make_driver(&gpu_drvs[i]);
	for (size_t i = 0; i < sizeof(gpu_devs) / sizeof(gpu_devs[0]); i++) {
		struct sim_dev d = gpu_devs[i];

		if (dual && d.vendor == 0x1002)
			continue;
		d.boot_vga = d.boot_vga && !dual;
		make_device(&d, i == 0 ? 0 : 16 + (int)i);
	}
	if (dual) {
		make_module("i915", 0);
		make_driver(&(struct sim_drv){ "i915", "i915" });
		make_device(&dual_igpu, 16 + (int)(sizeof(gpu_devs) / sizeof(gpu_devs[0])));
	}
}

/* ---- --dump ---- */

struct entry {
	char *line;
};
static struct entry *entries;
static size_t n_entries, cap_entries;
static const char *excludes[32];
static size_t n_excludes;
static size_t root_len;

static void add_line(char *line)
{
	if (n_entries == cap_entries) {
		cap_entries = cap_entries ? cap_entries * 2 : 256;
		entries = realloc(entries, cap_entries * sizeof(*entries));
		if (!entries)
			fx_die("out of memory");
	}
	entries[n_entries++].line = line;
}

/* Appends s[0..len) C-escaped to a growing buffer. */
static void escape(FILE *out, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			fputs("\\\\", out);
		else if (s[i] == '\n')
			fputs("\\n", out);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			fputc(s[i], out);
		else
			fprintf(out, "\\x%02x", s[i]);
	}
}

static bool excluded(const char *rel)
{
	for (size_t i = 0; i < n_excludes; i++) {
		size_t n = strlen(excludes[i]);
		if (strncmp(rel, excludes[i], n) == 0 && (rel[n] == '\0' || rel[n] == '/'))
			return true;
	}
	return false;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (strlen(path) <= root_len)
		return 0;
	const char *rel = path + root_len + 1;
	if (excluded(rel))
		return type == FTW_D ? FTW_SKIP_SUBTREE : 0;
	char *line = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&line, &size);
	if (!out)
		fx_die("out of memory");
	if (type == FTW_SL) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			fx_die("readlink %s: %s", path, strerror(errno));
		target[n] = '\0';
		fprintf(out, "l %s -> %s", rel, target);
	} else if (type == FTW_D) {
		fprintf(out, "d %04o %s", (unsigned)(st->st_mode & 07777), rel);
	} else if (S_ISREG(st->st_mode)) {
		fprintf(out, "f %04o %s ", (unsigned)(st->st_mode & 07777), rel);
		FILE *f = fopen(path, "rb");
		if (!f)
			fx_die("open %s: %s", path, strerror(errno));
		unsigned char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			escape(out, buf, n);
		fclose(f);
	} else {
		fprintf(out, "? %s", rel);
	}
	fclose(out);
	add_line(line);
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	const char *x = ((const struct entry *)a)->line + 2, *y = ((const struct entry *)b)->line + 2;
	/* compare by path: skip the mode field of d and f lines */
	if (((const struct entry *)a)->line[0] != 'l' && ((const struct entry *)a)->line[0] != '?')
		x += 5;
	if (((const struct entry *)b)->line[0] != 'l' && ((const struct entry *)b)->line[0] != '?')
		y += 5;
	return strcmp(x, y);
}

static int dump(void)
{
	char real[PATH_MAX];
	if (!realpath(root, real))
		fx_die("%s: %s", root, strerror(errno));
	root_len = strlen(real);
	excludes[n_excludes++] = ".sim";
	if (nftw(real, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL) < 0)
		fx_die("walk %s: %s", real, strerror(errno));
	qsort(entries, n_entries, sizeof(*entries), cmp_lines);
	for (size_t i = 0; i < n_entries; i++) {
		puts(entries[i].line);
		free(entries[i].line);
	}
	free(entries);
	return 0;
}

static void usage(void)
{
	fputs("usage: sim-mkroot DIR [--preset gpu|dual|empty]\n"
	      "       sim-mkroot --dump DIR [--exclude REL]...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *preset = "gpu";
	bool do_dump = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dump") == 0)
			do_dump = true;
		else if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc)
			preset = argv[++i];
		else if (strcmp(argv[i], "--exclude") == 0 && i + 1 < argc && n_excludes < 31)
			excludes[n_excludes++] = argv[++i];
		else if (argv[i][0] != '-' && !root)
			root = argv[i];
		else
			usage();
	}
	if (!root)
		usage();
	fx_init("sim-mkroot", root);
	if (do_dump)
		return dump();
	if (root[0] != '/')
		fx_die("DIR must be absolute: %s", root);
	if (strcmp(preset, "gpu") != 0 && strcmp(preset, "dual") != 0 && strcmp(preset, "empty") != 0)
		fx_die("unknown preset %s", preset);
	fx_mkdirs(root);
	make_skeleton();
	if (strcmp(preset, "empty") != 0)
		make_gpu(strcmp(preset, "dual") == 0);
	return 0;
}
