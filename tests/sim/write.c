/* sim-write [--stdio] FILE VALUE: one open(2)+write(2)+close(2) of VALUE to FILE, as hookd does
 * (--stdio: fopen+fputs+fclose instead). Prints strerror and exits 1 when the write fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int stdio = argc == 4 && strcmp(argv[1], "--stdio") == 0;
	if (argc != 3 && !stdio) {
		fputs("usage: sim-write [--stdio] FILE VALUE\n", stderr);
		return 2;
	}
	const char *path = argv[argc - 2], *value = argv[argc - 1];
	if (stdio) {
		FILE *f = fopen(path, "w");
		if (!f || fputs(value, f) == EOF || fclose(f) == EOF) {
			fprintf(stderr, "sim-write: %s: %s\n", path, strerror(errno));
			return 1;
		}
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sim-write: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t len = strlen(value);
	if (write(fd, value, len) != (ssize_t)len) {
		fprintf(stderr, "sim-write: write %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	return close(fd) < 0;
}
