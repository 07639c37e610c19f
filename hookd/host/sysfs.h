/* Every kernel-facing file operation, always under the root prefix (hookd.conf `root`). */
#ifndef HOOKD_SYSFS_H
#define HOOKD_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* A rooted path: "<root><abs>", abs given printf-style and starting with '/'. Caller frees. */
char *sysfs_path(const char *root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sysfs_exists(const char *root, const char *abs);
/* Reads a small attribute file, trailing white space removed. */
int sysfs_read(const char *root, const char *abs, char **out);
/* Reads a file's bytes as they are (PCI config space): *len of them, up to max. */
int sysfs_read_bin(const char *root, const char *abs, size_t max, char **out, size_t *len);
/* The first number after field in a meminfo-style file ("MemTotal:", "Hugepagesize:"). */
int sysfs_meminfo_field(const char *root, const char *file, const char *field, unsigned long long *out);
/* One write(2) of value, as the kernel expects for attributes; -errno of the write on failure. */
int sysfs_write(const char *root, const char *abs, const char *value);
/* sysfs_write of a decimal number, saying which file refused which value. */
int sysfs_write_uint(const char *root, const char *abs, unsigned long long v, struct err *e);
/* Like sysfs_write, but done by a child process that is abandoned after timeout_ms (-ETIMEDOUT):
 * some writes (unbind of a driver spinning in remove) can block in the kernel for ever. */
int sysfs_write_bounded(const char *root, const char *abs, const char *value, unsigned timeout_ms);
/* A symlink's target as stored (e.g. "/dev/dri/card0" for /proc/PID/fd/N); -errno when unreadable. */
int sysfs_readlink(const char *root, const char *abs, char **target);
/* The last component of a symlink's target ("nvidia" for .../driver); -ENOENT when absent. */
int sysfs_link_name(const char *root, const char *abs, char **out);
/* Whether two paths (links followed) are the same file: /sys/class/drm/card0/device and a PCI device. */
bool sysfs_same_file(const char *root, const char *a, const char *b);
/* Sorted names in a directory (without . and ..). */
int sysfs_list(const char *root, const char *abs, char ***names, size_t *n);
void sysfs_list_free(char **names, size_t n);
/* Operations that do not go through files (module load/unload syscalls, sched_setaffinity) act on
 * the running kernel. They are allowed when root is "/", or when the test simulator, which
 * intercepts them, is loaded (it exports hookd_simkernel_intercepts) and HOOKD_SIM_ROOT names exactly
 * this root. Anything else
 * is refused: a simulated root must never change this machine. */
bool sysfs_kernel_calls_allowed(const char *root);
/* Waits until abs exists (want) or is gone (!want), within timeout_ms; -ETIMEDOUT otherwise. */
int sysfs_wait_exists(const char *root, const char *abs, bool want, unsigned timeout_ms);
/* Polls cond(arg) until true or timeout_ms passes, with short growing intervals (no fixed sleep). */
int sysfs_wait(bool (*cond)(void *arg), void *arg, unsigned timeout_ms);

#endif
