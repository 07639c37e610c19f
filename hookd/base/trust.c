#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

int trust_stat(const struct stat *st, const char *path, mode_t type, struct err *e)
{
	if ((st->st_mode & S_IFMT) != type)
		return err_set(e, -EINVAL, "%s: not a %s", path, type == S_IFDIR ? "directory" : "regular file");
	if (!trusted_owner(st->st_uid))
		return err_set(e, -EPERM, "%s: refusing a %s not owned by root (hookd runs as root; chown root %s)",
			       path, type == S_IFDIR ? "directory" : "file", path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, -EPERM, "%s: refusing a %s writable by group or others (chmod go-w %s)", path,
			       type == S_IFDIR ? "directory" : "file", path);
	return 0;
}

int trust_fd(int fd, const char *path, mode_t type, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	return trust_stat(&st, path, type, e);
}

/* dir and every directory above it: owned by root (or us), not writable by others unless sticky. */
static int trust_chain(const char *dir, const char *path, struct err *e)
{
	_cleanup_free_ char *p = realpath(dir, NULL);
	struct stat st;
	char *slash;

	if (!p)
		return err_set(e, -errno, "%s: %s", dir, strerror(errno));
	for (;;) {
		if (stat(p[0] ? p : "/", &st) < 0)
			return err_set(e, -errno, "%s: %s", p[0] ? p : "/", strerror(errno));
		if (!trusted_owner(st.st_uid) || ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
			return err_set(
				e, -EPERM,
				"%s: refusing it: directory %s can be changed by a user other than root (chown root, chmod go-w)",
				path, p[0] ? p : "/");
		slash = strrchr(p, '/');
		if (!slash || !p[0])
			return 0;
		*slash = '\0';
	}
}

int trust_dirs(const char *path, struct err *e)
{
	_cleanup_free_ char *copy = xstrdup(path), *real = NULL;
	struct stat st;
	int r = trust_chain(dirname(copy), path, e);

	if (r < 0 || lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
		return r; /* a missing path is for the caller's open() to report */
	if (!trusted_owner(st.st_uid))
		return err_set(e, -EPERM, "%s: refusing a symlink not owned by root", path);
	real = realpath(path, NULL);
	if (!real)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	free(copy);
	copy = xstrdup(real);
	return trust_chain(dirname(copy), path, e);
}

int trust_program(const char *path, struct err *e)
{
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	r = trust_stat(&st, path, S_IFREG, e);
	return r < 0 ? r : trust_dirs(path, e);
}

int trust_state_dir(const char *dir, struct err *e)
{
	struct stat st;
	int r;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? -ENOENT : err_set(e, -errno, "%s: %s", dir, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return err_set(e, -EPERM, "state directory %s: refusing a symlink", dir);
	r = trust_stat(&st, dir, S_IFDIR, e);
	if (r < 0)
		return err_prefix(e, r, "state directory ");
	return trust_dirs(dir, e);
}

int trust_open_state(const char *path, int flags, int *out, struct err *e)
{
	_cleanup_close_ int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	int r;

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		if (errno == ELOOP)
			return err_set(e, -ELOOP, "%s: refusing a symlink in the state directory", path);
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	r = trust_fd(fd, path, S_IFREG, e);
	if (r < 0)
		return r;
	*out = fd;
	fd = -1;
	return 0;
}

/* Creates path.tmp afresh for writing (a stale one is removed first), with mode and, when hookd runs as
 * root, owned by root:root (a setgid directory does not lend it its group): the first half of an
 * atomic replace. Sets *tmp (caller frees). */
static int create_tmp(const char *path, mode_t mode, char **tmp, int *out, struct err *e)
{
	char *t = xasprintf("%s.tmp", path);
	int r;

	/* O_EXCL never opens what is there, symlink or not; what is there can only be ours, left by a kill */
	if ((unlink(t) < 0 && errno != ENOENT) ||
	    (*out = open(t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		r = err_set(e, -errno, "%s: %s", t, strerror(errno));
		free(t);
		return r;
	}
	if ((geteuid() == 0 && fchown(*out, 0, 0) < 0) || fchmod(*out, mode) < 0) {
		r = err_set(e, -errno, "%s: %s", t, strerror(errno));
		close(*out);
		unlink(t);
		free(t);
		return r;
	}
	*tmp = t;
	return 0;
}

int trust_sync_dir_of(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	_cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

static int write_whole(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		data += n, len -= (size_t)n;
	}
	return 0;
}

int trust_replace_state(const char *path, const void *data, size_t len, struct err *e)
{
	return trust_replace_file(path, data, len, 0600, e);
}

int trust_replace_file(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	_cleanup_free_ char *tmp = NULL;
	int fd = -1, r = create_tmp(path, mode, &tmp, &fd, e);

	if (r < 0)
		return r;
	r = write_whole(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return err_set(e, r, "cannot write %s: %s", path, strerror(-r));
	}
	(void)trust_sync_dir_of(path); /* the rename is done; a failed directory sync cannot undo it */
	return 0;
}
