/* iommu_group_judge: the one IOMMU-group viability rule, on the cases that tell rules apart. */
#include <errno.h>
#include <stdint.h>

#include "action.h"
#include "fixture.h"
#include "iommu.h"
#include "test.h"

static char *root; /* <test_tmpdir>/root */

static struct pciaddr addr(const char *s)
{
	struct pciaddr a = { 0 };

	CHECK(pciaddr_parse(s, &a) == 0);
	return a;
}

/* Each group: a GPU (function 0 of its slot, on nvidia) plus the member that tells the rules apart. */
static void host(void)
{
	root = xasprintf("%s/root", test_tmpdir);
	test_pci_root(root);
	/* 1: an unbound device in another slot. */
	test_pci_device(root, "0000:01:00.0", 0x10de, 0x2204, 0x030000, false, "nvidia", 1);
	test_pci_device(root, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, false, NULL, 1);
	/* 2: the root port above the GPU (a bridge, on pcieport). */
	test_pci_device(root, "0000:00:01.0", 0x8086, 0x1901, 0x060400, false, "pcieport", 2);
	test_pci_device(root, "0000:03:00.0", 0x10de, 0x2204, 0x030000, true, "nvidia", 2);
	/* 3: the GPU's audio function, already on vfio-pci, not asked for. */
	test_pci_device(root, "0000:04:00.0", 0x10de, 0x2204, 0x030000, true, "nvidia", 3);
	test_pci_device(root, "0000:04:00.1", 0x10de, 0x1aef, 0x040300, true, "vfio-pci", 3);
	/* 4: a device in another slot on pci-stub. */
	test_pci_device(root, "0000:05:00.0", 0x10de, 0x2204, 0x030000, false, "nvidia", 4);
	test_pci_device(root, "0000:06:00.0", 0x8086, 0x10d3, 0x020000, false, "pci-stub", 4);
	/* 5: a device in another slot on vfio-pci that another VM holds. */
	test_pci_device(root, "0000:07:00.0", 0x10de, 0x2204, 0x030000, false, "nvidia", 5);
	test_pci_device(root, "0000:08:00.0", 0x8086, 0x10d3, 0x020000, false, "vfio-pci", 5);
	/* 6: a device in another slot the host uses. */
	test_pci_device(root, "0000:09:00.0", 0x10de, 0x2204, 0x030000, false, "nvidia", 6);
	test_pci_device(root, "0000:0a:00.0", 0x1b21, 0x1242, 0x0c0330, false, "xhci_hcd", 6);
}

/* Judges group for devs (addresses), returns the verdict; *blocker is the first blocker's address. */
static size_t judge(unsigned group, const char *dev, const struct held_step *others, size_t n_others, char *blocker,
		    enum iommu_member_state *state)
{
	struct pciaddr a = addr(dev);
	struct iommu_verdict v;
	struct err e = { "" };
	const struct iommu_member *m;
	size_t n;

	blocker[0] = '\0';
	if (iommu_group_judge(root, group, &a, 1, others, n_others, &v, &e) < 0) {
		fprintf(stderr, "iommu_group_judge: %s\n", e.msg);
		CHECK(0);
		return SIZE_MAX;
	}
	m = iommu_first_blocker(&v);
	if (m) {
		pciaddr_format(&m->addr, blocker);
		*state = m->state;
	}
	n = v.n_blockers;
	CHECK(v.n == 2 && v.group == group);
	iommu_verdict_free(&v);
	return n;
}

static void test_distinguishing_cases(void)
{
	const struct held_step others[] = {
		{ "vm-b", "/nonexistent/b.journal", { "vfio", "bind", "0000:08:00.0", "vfio-pci", "e1000e;", true } },
	};
	enum iommu_member_state st = IOMMU_MEMBER_OURS;
	char b[PCIADDR_STRLEN];

	/* The kernel lets vfio share a group with unbound devices, whatever their slot. */
	CHECK(judge(1, "0000:01:00.0", others, 1, b, &st) == 0);
	/* ... with bridges, */
	CHECK(judge(2, "0000:03:00.0", others, 1, b, &st) == 0);
	/* ... with functions already on vfio-pci, */
	CHECK(judge(3, "0000:04:00.0", others, 1, b, &st) == 0);
	/* ... and with pci-stub. */
	CHECK(judge(4, "0000:05:00.0", others, 1, b, &st) == 0);
	/* libvirt refuses a group a member of which another VM holds, */
	CHECK(judge(5, "0000:07:00.0", others, 1, b, &st) == 1);
	CHECK_STR(b, "0000:08:00.0");
	CHECK(st == IOMMU_MEMBER_OTHER_VM);
	/* ... but the same group without that VM is viable. */
	CHECK(judge(5, "0000:07:00.0", NULL, 0, b, &st) == 0);
	/* A host driver in another slot blocks. */
	CHECK(judge(6, "0000:09:00.0", others, 1, b, &st) == 1);
	CHECK_STR(b, "0000:0a:00.0");
	CHECK(st == IOMMU_MEMBER_HOST);
}

static void test_members_and_holder(void)
{
	const struct held_step others[] = {
		{ "vm-b", "/nonexistent/b.journal", { "vfio", "bind", "0000:08:00.0", "vfio-pci", "", false } },
	};
	struct pciaddr a = addr("0000:07:00.0"), both[] = { addr("0000:07:00.0"), addr("0000:08:00.0") };
	struct iommu_verdict v;
	struct err e = { "" };

	CHECK(iommu_group_judge(root, 5, &a, 1, others, 1, &v, &e) == 0);
	CHECK(v.n == 2);
	if (v.n == 2) {
		CHECK(v.members[0].state == IOMMU_MEMBER_OURS);
		CHECK_STR(v.members[0].driver, "nvidia");
		CHECK(v.members[1].state == IOMMU_MEMBER_OTHER_VM);
		CHECK_STR(v.members[1].held_by, "vm-b"); /* an intent record holds it too */
	}
	iommu_verdict_free(&v);
	/* A device asked for that another VM holds blocks too: a device goes to one VM at a time. */
	CHECK(iommu_group_judge(root, 5, both, 2, others, 1, &v, &e) == 0);
	CHECK(v.n_blockers == 1);
	CHECK(v.n == 2 && v.members[1].state == IOMMU_MEMBER_OTHER_VM);
	iommu_verdict_free(&v);
	CHECK(iommu_group_judge(root, 99, &a, 1, NULL, 0, &v, &e) == -ENOENT);
	CHECK_CONTAINS(e.msg, "cannot list IOMMU group 99");
}

int main(void)
{
	test_tmpdir_create("iommu");
	host();
	test_distinguishing_cases();
	test_members_and_holder();
	test_tmpdir_remove();
	free(root);
	return TEST_DONE();
}
