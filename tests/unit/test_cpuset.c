/* cpuset.c: CPU and node lists as the kernel and libvirt write them. */
#include <errno.h>
#include <stdlib.h>

#include "cpuset.h"
#include "test.h"

static const char *roundtrip(const char *in, char *buf, size_t len)
{
	struct cpuset s;

	if (cpuset_parse(in, &s) < 0)
		return "(error)";
	return cpuset_format(&s, buf, len);
}

static void test_parse_and_canonical_format(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "0-3,8,10-11", "0-3,8,10-11" },
		{ "8,0,1,2,3,11,10", "0-3,8,10-11" },
		{ "0-7,^3", "0-2,4-7" },
		{ "0-7,^0,^7", "1-6" },
		{ "^3,0-7", "0-7" },             /* items apply left to right, as in libvirt */
		{ " 0 - 1", "0-1" },             /* blanks around '-' too, as virBitmapParseInternal */
		{ " 1 - 3 , ^2 ,5 ,", "1,3,5" }, /* and one trailing comma */
		{ " 0 , 2 ,\t4 ", "0,2,4" },
		{ "5-5", "5" },
		{ "0", "0" },
		{ "4095", "4095" },
		{ "16383", "16383" }, /* libvirt's VIR_DOMAIN_CPUMASK_LEN */
		{ "16382-16383,0", "0,16382-16383" },
		{ "", "" }, /* the kernel's empty cpuset file */
		{ "  \n", "" },
		{ "1,3,5", "1,3,5" },
		{ "01,002", "1-2" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(roundtrip(cases[i].in, buf, sizeof(buf)), cases[i].out);
}

static void test_rejects_garbage(void)
{
	static const char *const einval[] = {
		"a", "1-",  "-1", "3-1", "1,,2", "1,,", ",1",  "1 2",      "1-2-3",  "^1-3",
		"^", "^^1", "+1", "0x1", "1.5",  "1;2", "1-a", "\xc3\xa9", "1,\n,2",
	};
	static const char *const erange[] = {
		"16384", "0-16384", "99999999999999999999999", "^16384", "1,50000",
	};
	struct cpuset s;

	for (size_t i = 0; i < sizeof(einval) / sizeof(einval[0]); i++) {
		int r = cpuset_parse(einval[i], &s);

		if (r != -EINVAL)
			fprintf(stderr, "'%s' -> %d\n", einval[i], r);
		CHECK(r == -EINVAL);
	}
	for (size_t i = 0; i < sizeof(erange) / sizeof(erange[0]); i++)
		CHECK(cpuset_parse(erange[i], &s) == -ERANGE);
	CHECK(cpuset_parse(NULL, &s) == -EINVAL);
}

static void test_failed_parse_leaves_output_alone(void)
{
	struct cpuset s;

	cpuset_clear(&s);
	cpuset_add(&s, 7);
	CHECK(cpuset_parse("1,bad", &s) == -EINVAL);
	CHECK(cpuset_has(&s, 7) && cpuset_count(&s) == 1);
}

static void test_set_operations(void)
{
	struct cpuset s;

	cpuset_clear(&s);
	CHECK(cpuset_empty(&s) && cpuset_count(&s) == 0);
	cpuset_add(&s, 0);
	cpuset_add(&s, 63);
	cpuset_add(&s, 64);
	cpuset_add(&s, 16383);
	cpuset_add(&s, 16384); /* out of range: ignored, never a write past the array */
	CHECK(cpuset_count(&s) == 4);
	CHECK(cpuset_has(&s, 63) && cpuset_has(&s, 64) && !cpuset_has(&s, 65));
	CHECK(!cpuset_has(&s, 16384) && !cpuset_has(&s, 100000));
	CHECK(!cpuset_empty(&s));
}

static void test_format_truncates_whole_items(void)
{
	struct cpuset s;
	char buf[8];

	CHECK(cpuset_parse("0-3,100-200,300", &s) == 0);
	/* "0-3,100-200" does not fit in 8: keep only complete items */
	CHECK_STR(cpuset_format(&s, buf, sizeof(buf)), "0-3");
	CHECK_STR(cpuset_format(&s, buf, 1), "");
	cpuset_clear(&s);
	CHECK_STR(cpuset_format(&s, buf, sizeof(buf)), "");
}

static void test_format_worst_case_fits(void)
{
	struct cpuset s;
	char *buf = malloc(CPUSET_MAX * 4);

	cpuset_clear(&s);
	for (unsigned c = 0; c < CPUSET_MAX; c++)
		if (c % 3 != 2)
			cpuset_add(&s, c);
	cpuset_format(&s, buf, CPUSET_MAX * 4);
	CHECK(strstr(buf, "4092-4093,4095") != NULL);
	free(buf);
}

static void test_print_json(void)
{
	struct cpuset s;
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	CHECK(cpuset_parse("3,0-1,^1,10-12", &s) == 0);
	cpuset_print_json(&s, f);
	cpuset_clear(&s);
	fputc(' ', f);
	cpuset_print_json(&s, f);
	fclose(f);
	CHECK_STR(out, "[0,3,10,11,12] []");
	free(out);
}

/* The set algebra and the kernel's hex mask form that [cpus] and [pin] share. */
static void test_algebra_and_masks(void)
{
	struct cpuset a, b, m;
	char *s;

	CHECK(cpuset_parse("0-7", &a) == 0 && cpuset_parse("2-3,6", &b) == 0);
	CHECK(cpuset_subset(&b, &a) && !cpuset_subset(&a, &b));
	cpuset_andnot(&a, &b);
	CHECK_STR(s = cpuset_to_list(&a), "0-1,4-5,7");
	free(s);
	cpuset_and(&a, &b);
	CHECK(cpuset_empty(&a) && cpuset_first(&a) == CPUSET_MAX);
	CHECK(cpuset_first(&b) == 2);
	CHECK(cpuset_parse_mask("ff", &m) == 0 && cpuset_parse("0-7", &a) == 0 && cpuset_equal(&m, &a));
	CHECK(cpuset_parse_mask("00000001,00000003", &m) == 0);
	CHECK_STR(s = cpuset_to_list(&m), "0-1,32");
	free(s);
	CHECK_STR(s = cpuset_to_mask(&m, 40), "01,00000003");
	free(s);
	CHECK(cpuset_parse("0-1", &a) == 0);
	CHECK_STR(s = cpuset_to_mask(&a, 4), "3");
	free(s);
	CHECK(cpuset_parse_mask("fg", &m) == -EINVAL);
}

int main(void)
{
	test_parse_and_canonical_format();
	test_rejects_garbage();
	test_failed_parse_leaves_output_alone();
	test_set_operations();
	test_format_truncates_whole_items();
	test_format_worst_case_fits();
	test_print_json();
	test_algebra_and_masks();
	return TEST_DONE();
}
