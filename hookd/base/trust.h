/* What hookd trusts: it runs as root, so a file it reads, runs or keeps its state in must be one that
 * only root could have written or replaced. One rule for hookd.conf, the INI files, hooks_dir, the
 * chained hook, state_dir and everything in it. */
#ifndef HOOKD_TRUST_H
#define HOOKD_TRUST_H

#include <sys/stat.h>

#include "util.h"

/* Owned by root (or by the user running hookd: a user's read-only `hookd plan` may use their own
 * files), not writable by group or others, and of the file type `type` (S_IFREG, S_IFDIR). */
int trust_stat(const struct stat *st, const char *path, mode_t type, struct err *e);
int trust_fd(int fd, const char *path, mode_t type, struct err *e);
/* Every directory on the way to path (after resolving symlinks, and the directory the name itself is
 * in) is one only root can change: owned by root, not writable by group or others unless sticky
 * (/tmp). A symlink at path itself must be root's too. */
int trust_dirs(const char *path, struct err *e);
/* A program hookd runs as root (the chained hook): a regular file (through symlinks), trust_stat and
 * trust_dirs. */
int trust_program(const char *path, struct err *e);
/* A directory hookd keeps state in: not a symlink, trust_stat, trust_dirs. -ENOENT without a message
 * when it does not exist. */
int trust_state_dir(const char *dir, struct err *e);
/* A file in a trusted state directory, opened without following a symlink and checked with trust_fd.
 * flags are open(2)'s; O_CREAT creates it 0600. -ENOENT without a message when it does not exist. */
int trust_open_state(const char *path, int flags, int *out, struct err *e);
/* Replaces path, a file in a trusted state directory, with data, atomically and durably: path.tmp
 * created afresh (never through a symlink), written whole, fsync'ed, renamed over path, and the
 * directory fsync'ed. On failure path is as it was and no temp file is left. */
int trust_replace_state(const char *path, const void *data, size_t len, struct err *e);
/* The same with the file's mode (an INI: 0644); trust_replace_state is this with 0600. The one atomic
 * replace: journals, shared baselines, `hookd edit`'s INI. */
int trust_replace_file(const char *path, const void *data, size_t len, mode_t mode, struct err *e);
/* fsyncs the directory holding path, after a rename or unlink in it. */
int trust_sync_dir_of(const char *path);

#endif
