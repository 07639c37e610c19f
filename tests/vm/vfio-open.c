/* vfio-open: test helper for the QEMU guest. Proves that a VFIO group hookd prepared is
 * usable the way QEMU uses it: group viable, attached to a type1 container, device fd
 * obtainable, config space readable through VFIO.
 *   vfio-open GROUP BDF      exit 0 usable, 1 not (one line on stdout says why)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(const char *what)
{
	printf("%s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s GROUP BDF\n", argv[0]);
		return 2;
	}
	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		return fail("open /dev/vfio/vfio");
	char path[64];
	snprintf(path, sizeof path, "/dev/vfio/%s", argv[1]);
	int group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		return fail(path);
	struct vfio_group_status st = { .argsz = sizeof st };
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st))
		return fail("VFIO_GROUP_GET_STATUS");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		printf("group %s not viable (a member is bound to a host driver)\n", argv[1]);
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return fail("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU type1v2");
	int dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (dev < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");
	struct vfio_region_info ri = { .argsz = sizeof ri, .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t id[2] = { 0, 0 };
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri) || pread(dev, id, sizeof id, (off_t)ri.offset) != sizeof id)
		return fail("config space read");
	printf("group %s viable, %s vendor=%04x device=%04x via VFIO\n", argv[1], argv[2], id[0], id[1]);
	close(dev);
	close(group);
	close(container);
	return 0;
}
