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
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

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

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sim-mkroot-modules: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static const char *P(const char *fmt, ...)
{
	static char buf[PATH_MAX];
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", root, rel) >= sizeof(buf))
		die("path too long: %s", rel);
	return buf;
}

static void mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				die("mkdir %s: %s", tmp, strerror(errno));
			*p = '/';
		}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", tmp, strerror(errno));
}

static void putf(const char *path, mode_t mode, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void putf(const char *path, mode_t mode, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fchmod(fileno(f), mode);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void link_to(const char *target, const char *path)
{
	unlink(path);
	if (symlink(target, path) < 0)
		die("symlink %s: %s", path, strerror(errno));
}

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
			die("out of memory");
		t = t->child[c];
	}
	if (t->n_values < 4)
		t->values[t->n_values++] = value;
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
	FILE *f = fopen(P("%s/%s", kdir, name), "wb");

	if (!f)
		die("%s: %s", name, strerror(errno));
	put_u32(f, 0xB007F457); /* INDEX_MAGIC */
	put_u32(f, 0x00020001); /* INDEX_VERSION 2.1 */
	put_u32(f, 0);
	uint32_t root_off = write_node(f, t);
	fseek(f, 8, SEEK_SET);
	put_u32(f, root_off);
	if (fclose(f) != 0)
		die("%s: %s", name, strerror(errno));
}

/* ---- the module tree ---- */

static void write_modules_dir(void)
{
	static char deplines[8][256];
	struct tnode dep = { 0 }, builtin = { 0 }, empty = { 0 };
	FILE *f;

	mkdirs(P("%s/kernel/drivers/sim", kdir));
	f = fopen(P("%s/modules.dep", kdir), "w");
	if (!f)
		die("modules.dep: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		const struct fake_mod *m = &mods[i];
		char *line = deplines[i];
		int n = snprintf(line, 256, "kernel/drivers/sim/%s.ko:", m->name);

		putf(P("%s/kernel/drivers/sim/%s.ko", kdir, m->name), 0644,
		     SIMMOD_MAGIC "name=%s\ndepends=%s\ndrivers=%s\n", m->name, m->depends, m->drivers);
		char deps[128];
		snprintf(deps, sizeof(deps), "%s", m->depends);
		for (char *save = NULL, *d = strtok_r(deps, ",", &save); d; d = strtok_r(NULL, ",", &save))
			n += snprintf(line + n, (size_t)(256 - n), " kernel/drivers/sim/%s.ko", d);
		fprintf(f, "%s\n", line);
		trie_add(&dep, m->name, line);
	}
	fclose(f);
	putf(P("%s/modules.builtin", kdir), 0644, "kernel/drivers/sim/sim_builtin.ko\n");
	trie_add(&builtin, "sim_builtin", "");
	putf(P("%s/modules.alias", kdir), 0644, "# Aliases extracted from modules themselves.\n");
	putf(P("%s/modules.builtin.modinfo", kdir), 0644, "%s", "");
	write_index("modules.dep.bin", &dep);
	write_index("modules.builtin.bin", &builtin);
	write_index("modules.alias.bin", &empty);
	write_index("modules.symbols.bin", &empty);
	write_index("modules.builtin.alias.bin", &empty);
}

/* Takes a GPU function away from the preset's driver and makes `native` its driver. */
static void rehome(const char *bdf, const char *old, const char *native)
{
	unlink(P("sys/bus/pci/devices/%s/driver", bdf));
	unlink(P("sys/bus/pci/drivers/%s/%s", old, bdf));
	putf(P(".sim/devices/%s/native", bdf), 0644, "%s\n", native);
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
			die("loading %s: %s", mods[i].name, strerror(-r));
	}
	unlink(P(".sim/module_log")); /* the log tells what the product did, not the fixture */
	mkdirs(P("sys/module/sim_builtin/parameters"));
}

static void make_drm(void)
{
	const char *gpu = "devices/pci0000:00/0000:00:01.0/0000:01:00.0";

	mkdirs(P("sys/%s/drm/card0", gpu));
	putf(P("sys/%s/drm/card0/dev", gpu), 0444, "226:0\n");
	link_to("../..", P("sys/%s/drm/card0/device", gpu));
	mkdirs(P("sys/class/drm"));
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "../../%s/drm/card0", gpu);
	link_to(t, P("sys/class/drm/card0"));
	mkdirs(P("dev/dri"));
	putf(P("dev/dri/card0"), 0660, "%s", "");
	putf(P("dev/nvidia0"), 0666, "%s", "");
	putf(P("dev/nvidiactl"), 0666, "%s", "");
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
		die("--hold: nvidia0 or dri/card0, not %s", node);
	mkdirs(P("proc/4242/fd"));
	putf(P("proc/4242/comm"), 0444, "Xorg\n");
	link_to("/dev/null", P("proc/4242/fd/0"));
	char t[64];
	snprintf(t, sizeof(t), "/dev/%s", node);
	link_to(t, P("proc/4242/fd/%d", strcmp(node, "nvidia0") == 0 ? 7 : 8));
	long refs = 0;
	FILE *f = fopen(P("sys/module/%s/refcnt", module), "r");
	if (f) {
		if (fscanf(f, "%ld", &refs) != 1)
			refs = 0;
		fclose(f);
	}
	unlink(P("sys/module/%s/refcnt", module));
	putf(P("sys/module/%s/refcnt", module), 0444, "%ld\n", refs + 1);
}

int main(int argc, char **argv)
{
	struct utsname u;

	if (argc < 2 || argv[1][0] != '/' || !realpath(argv[1], root))
		die("usage: sim-mkroot-modules /ABS/ROOT [--hold nvidia0|dri/card0]...");
	if (uname(&u) < 0)
		die("uname: %s", strerror(errno));
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
			die("unknown argument %s", argv[i]);
	}
	return 0;
}
