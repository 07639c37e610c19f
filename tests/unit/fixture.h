/* Shared fixtures for the unit tests: one temp directory per test program, files written into it. */
#ifndef HOOKD_TEST_FIXTURE_H
#define HOOKD_TEST_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

/* The temp directory, "/tmp/hookd-test-NAME-XXXXXX" once test_tmpdir_create(NAME) has run. */
extern char test_tmpdir[];

/* Creates test_tmpdir for the test called name; exits with status 2 if it cannot. */
void test_tmpdir_create(const char *name);

/* Removes test_tmpdir and everything under it (complains on stderr, does not fail the test). */
void test_tmpdir_remove(void);

/* Writes name in test_tmpdir with mode (chmod'ed: the umask does not decide); returns its path,
 * which the caller frees. Exits with status 2 if it cannot. */
char *test_put_file(const char *name, const char *text, mode_t mode);

/* Like test_put_file, for text with NUL bytes: writes len bytes of data. */
char *test_put_bytes(const char *name, const char *data, size_t len, mode_t mode);

/* Prints what failed on path with errno and exits with status 2 (a broken fixture, not a failure). */
void test_die(const char *what, const char *path) __attribute__((noreturn));
/* "<root>/<fmt...>", for the caller to free. */
char *test_rooted(const char *root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void test_mkdirs(const char *path);

/* A simulated PCI sysfs under root: the drivers directory and drivers_probe. */
void test_pci_root(const char *root);
/* A PCI function as sysfs shows it, with enough (config, resource, irq) for libpci to enumerate it;
 * bound to driver (NULL: unbound), in IOMMU group `group` (-1: none). */
void test_pci_device(const char *root, const char *bdf, unsigned vendor, unsigned device, unsigned class,
		     bool multifunction, const char *driver, int group);

#endif
