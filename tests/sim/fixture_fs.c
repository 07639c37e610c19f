/* fixture_fs: see fixture_fs.h. */
#include "fixture_fs.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *fx_program = "sim-fixture", *fx_root;

void fx_init(const char *program, const char *root)
{
	fx_program = program;
	fx_root = root;
}

void fx_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", fx_program);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

const char *fx_path(const char *fmt, ...)
{
	static char buf[PATH_MAX];
	char rel[PATH_MAX];
	va_list ap;

	if (!fx_root)
		fx_die("no root for %s", fmt);
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", fx_root, rel) >= sizeof(buf))
		fx_die("path too long: %s", rel);
	return buf;
}

void fx_mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		fx_die("path too long: %s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			fx_die("mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		fx_die("mkdir %s: %s", tmp, strerror(errno));
}

static FILE *open_file(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	FILE *f;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		fx_die("path too long: %s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		fx_mkdirs(dir);
	}
	f = fopen(path, "w");
	if (!f)
		fx_die("%s: %s", path, strerror(errno));
	return f;
}

static void close_file(FILE *f, const char *path, mode_t mode)
{
	if (ferror(f) || fchmod(fileno(f), mode) < 0 || fclose(f) != 0)
		fx_die("%s: %s", path, strerror(errno));
}

void fx_put(const char *path, mode_t mode, const char *fmt, ...)
{
	FILE *f = open_file(path);
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	close_file(f, path, mode);
}

void fx_write(const char *path, mode_t mode, const void *data, size_t len)
{
	FILE *f = open_file(path);

	fwrite(data, 1, len, f);
	close_file(f, path, mode);
}

void fx_link(const char *target, const char *path)
{
	if (symlink(target, path) < 0)
		fx_die("symlink %s -> %s: %s", path, target, strerror(errno));
}
