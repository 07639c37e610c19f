/* sim-mkroot-modules: adds kernel modules to a fixture root made by sim-mkroot (gpu preset).
 *
 *   sim-mkroot-modules ROOT [--hold NODE]...     NODE: nvidia0 or dri/card0
 *
 * Writes ROOT/lib/modules/<uname -r>/ the way depmod would for a tiny module tree: fake .ko files
 * (text, see simmodules.h), modules.dep and modules.builtin with their binary indexes
 * (modules.dep.bin, .alias.bin, .symbols.bin, .builtin.bin, .builtin.alias.bin: the trie format of
 * kmod's libkmod/libkmod-index.c, written here one character per node). Then moves the GPU
 * (0000:01:00.0) and its HDA function (0000:01:00.1) to the drivers of sim_nvidia and sim_snd,
 * loads sim_nvidia, sim_nvidia_modeset, sim_nvidia_drm and sim_snd through the simulator's own
 * module model (so a reload recreates exactly these files), gives the GPU a DRM card
 * (/sys/class/drm/card0, /dev/dri/card0, /dev/nvidia0), and declares sim_builtin built in.
 * --hold NODE adds process 4242 (Xorg) with NODE open and takes the reference the kernel would.
 *
 * Module names are sim_*: no real kernel has them. Test-only code: writes under ROOT only. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fixture_fs.h"
#include "simmodules.h"

struct fake_mod {
	const char *name, *depends, *drivers;
	bool load;
};

static const struct fake_mod mods[] = {
	{ "sim_nvidia", "", "sim_nvidia", true },
	{ "sim_nvidia_modeset", "sim_nvidia", "", true },
	{ "sim_nvidia_drm", "sim_nvidia_modeset,sim_nvidia", "", true },
	{ "sim_snd", "", "sim_snd", true },
	{ "sim_extra", "", "", false },
};

static char root[PATH_MAX], kdir[PATH_MAX];

/* ---- libkmod's index format: a trie; nodes written children first, offsets big-endian ---- */

struct tnode {
	struct tnode *child[128];
	const char *values[4];
	unsigned n_values;
};

static void trie_add(struct tnode *t, const char *key, const char *value)
{
	for (; *key; key++) {
		unsigned char c = (unsigned char)*key & 0x7f;
		if (!t->child[c] && !(t->child[c] = calloc(1, sizeof(*t))))
			fx_die("out of memory");
		t = t->child[c];
	}
	if (t->n_values < 4)
		t->values[t->n_values++] = value;
}

/* Frees the nodes below t (t itself is the caller's). */
static void trie_free_children(struct tnode *t)
{
	for (size_t c = 0; c < 128; c++)
		if (t->child[c]) {
			trie_free_children(t->child[c]);
			free(t->child[c]);
		}
}

static void put_u32(FILE *f, uint32_t v)
{
	v = htonl(v);
	fwrite(&v, 4, 1, f);
}

static uint32_t write_node(FILE *f, struct tnode *t)
{
	uint32_t offs[128] = { 0 }, flags = 0;
	int first = -1, last = -1;

	for (int c = 0; c < 128; c++)
		if (t->child[c]) {
			offs[c] = write_node(f, t->child[c]);
			first = first < 0 ? c : first;
			last = c;
		}
	long pos = ftell(f);
	if (first >= 0) {
		flags |= 0x20000000; /* INDEX_NODE_CHILDS */
		fputc(first, f);
		fputc(last, f);
		for (int c = first; c <= last; c++)
			put_u32(f, offs[c]);
	}
	if (t->n_values) {
		flags |= 0x40000000; /* INDEX_NODE_VALUES */
		put_u32(f, t->n_values);
		for (unsigned i = 0; i < t->n_values; i++) {
			put_u32(f, 0); /* priority */
			fputs(t->values[i], f);
			fputc('\0', f);
		}
	}
	return (uint32_t)pos | flags;
}

static void write_index(const char *name, struct tnode *t)
{
	FILE *f = fopen(fx_path("%s/%s", kdir, name), "wb");

	if (!f)
		fx_die("%s: %s", name, strerror(errno));
	put_u32(f, 0xB007F457); /* INDEX_MAGIC */
	put_u32(f, 0x00020001); /* INDEX_VERSION 2.1 */
	put_u32(f, 0);
	uint32_t root_off = write_node(f, t);
	fseek(f, 8, SEEK_SET);
	put_u32(f, root_off);
	if (fclose(f) != 0)
		fx_die("%s: %s", name, strerror(errno));
}

/* ---- the module tree ---- */

static void write_modules_dir(void)
{
	static char deplines[8][256];
	struct tnode dep = { 0 }, builtin = { 0 }, empty = { 0 };
	FILE *f;

	fx_mkdirs(fx_path("%s/kernel/drivers/sim", kdir));
	f = fopen(fx_path("%s/modules.dep", kdir), "w");
	if (!f)
		fx_die("modules.dep: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		const struct fake_mod *m = &mods[i];
		char *line = deplines[i];
		int n = snprintf(line, 256, "kernel/drivers/sim/%s.ko:", m->name);

		fx_put(fx_path("%s/kernel/drivers/sim/%s.ko", kdir, m->name), 0644,
		       SIMMOD_MAGIC "name=%s\ndepends=%s\ndrivers=%s\n", m->name, m->depends, m->drivers);
		char deps[128];
		snprintf(deps, sizeof(deps), "%s", m->depends);
		for (char *save = NULL, *d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save))
			n += snprintf(line + n, (size_t)(256 - n), " kernel/drivers/sim/%s.ko", d);
		fprintf(f, "%s\n", line);
		trie_add(&dep, m->name, line);
	}
	fclose(f);
	fx_put(fx_path("%s/modules.builtin", kdir), 0644, "kernel/drivers/sim/sim_builtin.ko\n");
	trie_add(&builtin, "sim_builtin", "");
	fx_put(fx_path("%s/modules.alias", kdir), 0644, "# Aliases extracted from modules themselves.\n");
	fx_put(fx_path("%s/modules.builtin.modinfo", kdir), 0644, "%s", "");
	write_index("modules.dep.bin", &dep);
	write_index("modules.builtin.bin", &builtin);
	write_index("modules.alias.bin", &empty);
	write_index("modules.symbols.bin", &empty);
	write_index("modules.builtin.alias.bin", &empty);
	trie_free_children(&dep);
	trie_free_children(&builtin);
}

/* Takes a GPU function away from the preset's driver and makes `native` its driver. */
static void rehome(const char *bdf, const char *old, const char *native)
{
	unlink(fx_path("sys/bus/pci/devices/%s/driver", bdf));
	unlink(fx_path("sys/bus/pci/drivers/%s/%s", old, bdf));
	fx_put(fx_path(".sim/devices/%s/native", bdf), 0644, "%s\n", native);
}

static void load_modules(void)
{
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char image[512];
		int n, r;

		if (!mods[i].load)
			continue;
		n = snprintf(image, sizeof(image), SIMMOD_MAGIC "name=%s\ndepends=%s\ndrivers=%s\n", mods[i].name,
			     mods[i].depends, mods[i].drivers);
		r = simmod_insert(root, image, (size_t)n);
		if (r < 0)
			fx_die("loading %s: %s", mods[i].name, strerror(-r));
	}
	unlink(fx_path(".sim/module_log")); /* the log tells what the product did, not the fixture */
	fx_mkdirs(fx_path("sys/module/sim_builtin/parameters"));
}

static void make_drm(void)
{
	const char *gpu = "devices/pci0000:00/0000:00:01.0/0000:01:00.0";

	fx_mkdirs(fx_path("sys/%s/drm/card0", gpu));
	fx_put(fx_path("sys/%s/drm/card0/dev", gpu), 0444, "226:0\n");
	fx_link("../..", fx_path("sys/%s/drm/card0/device", gpu));
	fx_mkdirs(fx_path("sys/class/drm"));
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "../../%s/drm/card0", gpu);
	fx_link(t, fx_path("sys/class/drm/card0"));
	fx_mkdirs(fx_path("dev/dri"));
	fx_put(fx_path("dev/dri/card0"), 0660, "%s", "");
	fx_put(fx_path("dev/nvidia0"), 0666, "%s", "");
	fx_put(fx_path("dev/nvidiactl"), 0666, "%s", "");
}

/* A process with NODE open holds a reference on the module behind it. */
static void hold(const char *node)
{
	const char *module;

	if (strcmp(node, "nvidia0") == 0)
		module = "sim_nvidia";
	else if (strcmp(node, "dri/card0") == 0)
		module = "sim_nvidia_drm";
	else
		fx_die("--hold: nvidia0 or dri/card0, not %s", node);
	fx_mkdirs(fx_path("proc/4242/fd"));
	fx_put(fx_path("proc/4242/comm"), 0444, "Xorg\n");
	fx_link("/dev/null", fx_path("proc/4242/fd/0"));
	char t[64];
	snprintf(t, sizeof(t), "/dev/%s", node);
	fx_link(t, fx_path("proc/4242/fd/%d", strcmp(node, "nvidia0") == 0 ? 7 : 8));
	long refs = 0;
	FILE *f = fopen(fx_path("sys/module/%s/refcnt", module), "r");
	if (f) {
		if (fscanf(f, "%ld", &refs) != 1)
			refs = 0;
		fclose(f);
	}
	unlink(fx_path("sys/module/%s/refcnt", module));
	fx_put(fx_path("sys/module/%s/refcnt", module), 0444, "%ld\n", refs + 1);
}

int main(int argc, char **argv)
{
	struct utsname u;

	fx_init("sim-mkroot-modules", root); /* realpath fills root in */
	if (argc < 2 || argv[1][0] != '/' || !realpath(argv[1], root))
		fx_die("usage: sim-mkroot-modules /ABS/ROOT [--hold nvidia0|dri/card0]...");
	if (uname(&u) < 0)
		fx_die("uname: %s", strerror(errno));
	snprintf(kdir, sizeof(kdir), "lib/modules/%s", u.release);
	write_modules_dir();
	rehome("0000:01:00.0", "nvidia", "sim_nvidia");
	rehome("0000:01:00.1", "snd_hda_intel", "sim_snd");
	load_modules();
	make_drm();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
			hold(argv[++i]);
		else
			fx_die("unknown argument %s", argv[i]);
	}
	return 0;
}
