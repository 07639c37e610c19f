/* A minimal test harness: CHECK() records failures and keeps going; main returns non-zero on any. */
#ifndef HOOKD_TEST_H
#define HOOKD_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		test_checks++;                                                                   \
		if (!(cond)) {                                                                   \
			test_failures++;                                                         \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                                                    \
	do {                                                                                               \
		const char *a_ = (a), *b_ = (b);                                                           \
		test_checks++;                                                                             \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
			test_failures++;                                                                   \
			fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                   \
		}                                                                                          \
	} while (0)

/* hay (may be NULL: a failure) contains needle. */
#define CHECK_CONTAINS(hay, needle)                                                                    \
	do {                                                                                           \
		const char *h_ = (hay), *n_ = (needle);                                                \
		test_checks++;                                                                         \
		if (!h_ || !strstr(h_, n_)) {                                                          \
			test_failures++;                                                               \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
				h_ ? h_ : "(null)", n_);                                               \
		}                                                                                      \
	} while (0)

#define TEST_DONE() (fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures), test_failures ? 1 : 0)

#endif
