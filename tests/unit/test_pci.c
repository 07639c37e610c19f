/* pci.c: hpci_with_companions, the one answer to "which devices does [vfio] move" ([vfio]'s plan and
 * doctor's group check asked it each their own way), and hpci_boot_vga. */
#include <errno.h>

#include "fixture.h"
#include "pci.h"
#include "test.h"

static char *root; /* <test_tmpdir>/root */

static struct pciaddr addr(const char *s)
{
	struct pciaddr a = { 0 };

	CHECK(pciaddr_parse(s, &a) == 0);
	return a;
}

/* The list as "a b c", for one comparison. */
static char *joined(const struct pciaddr_list *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = xopen_memstream(&buf, &len);

	for (size_t i = 0; i < l->n; i++) {
		char s[PCIADDR_STRLEN];

		fprintf(f, "%s%s", i ? " " : "", pciaddr_format(&l->v[i], s));
	}
	fclose(f);
	return buf;
}

static void test_with_companions(void)
{
	struct pciaddr devs[] = { addr("0000:03:00.0"), addr("0000:01:00.0"), addr("0000:03:00.0") };
	struct pciaddr missing[] = { addr("0000:01:00.0"), addr("0000:0b:00.0") };
	_cleanup_pciaddr_list_ struct pciaddr_list l = { 0 };
	_cleanup_free_ char *s = NULL;
	struct err e = { "" };

	/* each device, then its slot's other functions (not another slot's), each once */
	CHECK(hpci_with_companions(root, devs, 3, true, &l, &e) == 0);
	s = joined(&l);
	CHECK_STR(s, "0000:03:00.0 0000:03:00.1 0000:01:00.0 0000:01:00.1 0000:01:00.2");
	pciaddr_list_free(&l);
	free(s);
	/* companions = no: the devices alone */
	CHECK(hpci_with_companions(root, devs, 3, false, &l, &e) == 0);
	s = joined(&l);
	CHECK_STR(s, "0000:03:00.0 0000:01:00.0");
	pciaddr_list_free(&l);
	CHECK(hpci_with_companions(root, missing, 2, true, &l, &e) == -ENODEV);
	CHECK_STR(e.msg, "0000:0b:00.0: no such PCI device on this host (list them with `hookd devices`)");
}

/* hpci_boot_vga: the one reader of boot_vga (hookd devices, doctor and new each read it before). */
static void test_boot_vga(void)
{
	struct pciaddr gpu = addr("0000:01:00.0"), amd = addr("0000:03:00.0"), nic = addr("0000:02:00.0");
	_cleanup_free_ char *one = test_rooted(root, "/sys/bus/pci/devices/0000:01:00.0/boot_vga");
	_cleanup_free_ char *zero = test_rooted(root, "/sys/bus/pci/devices/0000:03:00.0/boot_vga");
	FILE *f;

	CHECK((f = fopen(one, "w")) && fputs("1\n", f) >= 0 && fclose(f) == 0);
	CHECK((f = fopen(zero, "w")) && fputs("0\n", f) >= 0 && fclose(f) == 0);
	CHECK(hpci_boot_vga(root, &gpu));
	CHECK(!hpci_boot_vga(root, &amd));
	CHECK(!hpci_boot_vga(root, &nic)); /* no boot_vga: not a VGA device */
}

int main(void)
{
	test_tmpdir_create("pci");
	root = xasprintf("%s/root", test_tmpdir);
	test_pci_root(root);
	test_pci_device(root, "0000:01:00.0", 0x10de, 0x2204, 0x030000, true, "nvidia", 1);
	test_pci_device(root, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, true, "snd_hda_intel", 1);
	test_pci_device(root, "0000:01:00.2", 0x10de, 0x1ada, 0x0c0330, true, "xhci_hcd", 1);
	test_pci_device(root, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, false, "e1000e", 2);
	test_pci_device(root, "0000:03:00.0", 0x1002, 0x73bf, 0x030000, true, "amdgpu", 3);
	test_pci_device(root, "0000:03:00.1", 0x1002, 0xab28, 0x040300, true, "snd_hda_intel", 3);
	test_with_companions();
	test_boot_vga();
	test_tmpdir_remove();
	free(root);
	return TEST_DONE();
}
