/* Shared fixtures for the unit tests: see fixture.h. */
#include <errno.h>
#include <ftw.h>
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
	char *path = xasprintf("%s/%s", test_tmpdir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) < 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return path;
}
