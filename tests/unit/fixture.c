/* Shared fixtures for the unit tests: see fixture.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixture.h"
#include "util.h"

char test_tmpdir[256];

void test_tmpdir_create(const char *name)
{
	snprintf(test_tmpdir, sizeof(test_tmpdir), "/tmp/hookd-test-%s-XXXXXX", name);
	if (!mkdtemp(test_tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

void test_tmpdir_remove(void)
{
	if (nftw(test_tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s\n", test_tmpdir);
}

char *test_put_file(const char *name, const char *text, mode_t mode)
{
	return test_put_bytes(name, text, strlen(text), mode);
}

char *test_put_bytes(const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", test_tmpdir, name);
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0 || chmod(path, mode) < 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return path;
}

void test_die(const char *what, const char *path)
{
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	exit(2);
}

char *test_rooted(const char *root, const char *fmt, ...)
{
	char *rel, *p;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&rel, fmt, ap) < 0)
		abort();
	va_end(ap);
	p = xasprintf("%s/%s", root, rel);
	free(rel);
	return p;
}

void test_mkdirs(const char *path)
{
	_cleanup_free_ char *tmp = xstrdup(path);

	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			test_die("mkdir", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		test_die("mkdir", tmp);
}

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		test_die("write", path);
	close(fd);
}

/* Writes s to path and frees path. */
static void put_str(char *path, const char *s)
{
	put(path, s, strlen(s));
	free(path);
}

/* Makes the symlink path -> target and frees path. */
static void link_to(const char *target, char *path)
{
	if (symlink(target, path) < 0)
		test_die("symlink", path);
	free(path);
}

void test_pci_root(const char *root)
{
	_cleanup_free_ char *d = test_rooted(root, "sys/bus/pci/drivers");

	test_mkdirs(d);
	put_str(test_rooted(root, "sys/bus/pci/drivers_probe"), "");
}

static void pci_attrs(const char *root, const char *bdf, unsigned vendor, unsigned device, unsigned class,
		      bool multifunction)
{
	char buf[64 * 13 + 1] = "";
	uint8_t cfg[64] = { 0 };
	char *p;

	snprintf(buf, sizeof(buf), "0x%04x\n", vendor);
	put_str(test_rooted(root, "sys/bus/pci/devices/%s/vendor", bdf), buf);
	snprintf(buf, sizeof(buf), "0x%04x\n", device);
	put_str(test_rooted(root, "sys/bus/pci/devices/%s/device", bdf), buf);
	snprintf(buf, sizeof(buf), "0x%06x\n", class);
	put_str(test_rooted(root, "sys/bus/pci/devices/%s/class", bdf), buf);
	put_str(test_rooted(root, "sys/bus/pci/devices/%s/irq", bdf), "16\n");
	put_str(test_rooted(root, "sys/bus/pci/devices/%s/driver_override", bdf), "(null)\n");
	buf[0] = '\0';
	for (int i = 0; i < 13; i++)
		strcat(buf, "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	put_str(test_rooted(root, "sys/bus/pci/devices/%s/resource", bdf), buf);
	cfg[0x00] = vendor & 0xff, cfg[0x01] = (uint8_t)(vendor >> 8);
	cfg[0x02] = device & 0xff, cfg[0x03] = (uint8_t)(device >> 8);
	cfg[0x09] = class & 0xff, cfg[0x0a] = (class >> 8) & 0xff, cfg[0x0b] = (uint8_t)(class >> 16);
	cfg[0x0e] = (uint8_t)(((class >> 8) == 0x0604 ? 1 : 0) | (multifunction ? 0x80 : 0));
	p = test_rooted(root, "sys/bus/pci/devices/%s/config", bdf);
	put(p, cfg, sizeof(cfg));
	free(p);
}

void test_pci_device(const char *root, const char *bdf, unsigned vendor, unsigned device, unsigned class,
		     bool multifunction, const char *driver, int group)
{
	_cleanup_free_ char *dir = test_rooted(root, "sys/bus/pci/devices/%s", bdf);
	char tgt[256];

	test_mkdirs(dir);
	pci_attrs(root, bdf, vendor, device, class, multifunction);
	if (driver) {
		_cleanup_free_ char *drv = test_rooted(root, "sys/bus/pci/drivers/%s", driver);

		test_mkdirs(drv);
		snprintf(tgt, sizeof(tgt), "../../drivers/%s", driver);
		link_to(tgt, test_rooted(root, "sys/bus/pci/devices/%s/driver", bdf));
		snprintf(tgt, sizeof(tgt), "../../devices/%s", bdf);
		link_to(tgt, test_rooted(root, "sys/bus/pci/drivers/%s/%s", driver, bdf));
	}
	if (group >= 0) {
		_cleanup_free_ char *gdir = test_rooted(root, "sys/kernel/iommu_groups/%d/devices", group);

		test_mkdirs(gdir);
		snprintf(tgt, sizeof(tgt), "../../../../kernel/iommu_groups/%d", group);
		link_to(tgt, test_rooted(root, "sys/bus/pci/devices/%s/iommu_group", bdf));
		snprintf(tgt, sizeof(tgt), "../../../../bus/pci/devices/%s", bdf);
		link_to(tgt, test_rooted(root, "sys/kernel/iommu_groups/%d/devices/%s", group, bdf));
	}
}
