/* frag: fragments a guest's memory for bench/hugepages-frag.sh (runs inside the QEMU guest only).
 *
 *   frag DEVICE TOTAL_MIB CHUNK_KIB
 *
 * Alternates CHUNK_KIB of page cache (read from DEVICE, a block device: clean, droppable cache)
 * with CHUNK_KIB of touched anonymous memory until TOTAL_MIB are used, then unmaps every other
 * anonymous chunk, so free memory lies in holes smaller than a huge page between cache pages
 * and anonymous pages. Prints "ready" and holds the rest until killed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: frag DEVICE TOTAL_MIB CHUNK_KIB\n");
		return 2;
	}
	size_t chunk = strtoul(argv[3], NULL, 0) * 1024, total = strtoul(argv[2], NULL, 0) << 20;
	size_t n = total / chunk / 2, i;
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	char *buf = malloc(chunk), **anon = calloc(n, sizeof(*anon));

	if (fd < 0 || !buf || !anon || chunk == 0) {
		perror("frag");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (read(fd, buf, chunk) <= 0 && lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, chunk) <= 0)
			break;
		anon[i] = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (anon[i] == MAP_FAILED) {
			anon[i] = NULL;
			break;
		}
		memset(anon[i], (int)i | 1, chunk);
	}
	for (size_t k = 0; k < i; k += 2)
		munmap(anon[k], chunk);
	printf("ready %zu chunks of %zu KiB cache + anon, every other anon chunk freed\n", i, chunk >> 10);
	fflush(stdout);
	pause();
	return 0;
}
