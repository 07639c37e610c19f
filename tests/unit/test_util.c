/* util.c: pct_escape / pct_unescape, the one %-escaping (journal fields and shared baseline names each
 * had their own encoder and decoder, and the two decoders disagreed on a malformed '%'). */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "util.h"

static void test_escape(void)
{
	_cleanup_free_ char *field = pct_escape("a\tb\nc 100%", "\t\n");
	_cleanup_free_ char *name = pct_escape("/sys/kernel/mm/hugepages/hugepages-2048kB:x.y", "/:.");
	_cleanup_free_ char *none = pct_escape("", "/");

	CHECK_STR(field, "a%09b%0ac 100%25");
	CHECK_STR(name, "%2fsys%2fkernel%2fmm%2fhugepages%2fhugepages-2048kB%3ax%2ey");
	CHECK_STR(none, "");
}

static void test_unescape(void)
{
	static const char *const cases[] = { "tab\there", "line\nbreak", "100% %25 %", "", "%0a%09", "/a:b.c" };
	char upper[] = "%2F%3a%2e", bad1[] = "50%", bad2[] = "%g0", bad3[] = "%0";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = pct_escape(cases[i], "\t\n/:.");

		CHECK(pct_unescape(e) == 0);
		CHECK_STR(e, cases[i]);
		free(e);
	}
	CHECK(pct_unescape(upper) == 0);
	CHECK_STR(upper, "/:.");
	CHECK(pct_unescape(bad1) == -EINVAL);
	CHECK(pct_unescape(bad2) == -EINVAL);
	CHECK(pct_unescape(bad3) == -EINVAL);
}

int main(void)
{
	test_escape();
	test_unescape();
	return TEST_DONE();
}
