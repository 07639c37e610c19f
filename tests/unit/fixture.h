/* Shared fixtures for the unit tests: one temp directory per test program, files written into it. */
#ifndef HOOKD_TEST_FIXTURE_H
#define HOOKD_TEST_FIXTURE_H

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

#endif
