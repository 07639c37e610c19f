/* fixture_fs: the file-writing helpers every sim-mkroot-* fixture generator shares.
 *
 * A generator names itself and its root (fx_init), builds paths below the root with
 * fx_path, and writes with fx_put/fx_write/fx_link/fx_mkdirs. Any failure ends the program
 * through fx_die ("<program>: message", exit 2): a fixture that cannot be written completely
 * must not be used. Test-only code: it writes under the root and nowhere else. */
#ifndef FIXTURE_FS_H
#define FIXTURE_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Call at the start of main with root NULL if the root is not known yet, and again once it is. */
void fx_init(const char *program, const char *root);
void fx_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* ROOT/<fmt...> in a static buffer, valid until the next call. */
const char *fx_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* mkdir -p, 0755. */
void fx_mkdirs(const char *path);
/* Writes the file (creating its parent directories) and gives it exactly mode. */
void fx_put(const char *path, mode_t mode, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fx_write(const char *path, mode_t mode, const void *data, size_t len);
void fx_link(const char *target, const char *path);

#endif
