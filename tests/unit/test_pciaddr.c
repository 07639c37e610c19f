/* pciaddr.c: PCI addresses as sysfs and lspci write them. */
#include <errno.h>

#include "pciaddr.h"
#include "test.h"

static const char *roundtrip(const char *in, char *buf)
{
	struct pciaddr a;

	if (pciaddr_parse(in, &a) < 0)
		return "(error)";
	return pciaddr_format(&a, buf);
}

static void test_accepts_both_forms_any_case(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "0000:01:00.0", "0000:01:00.0" },
		{ "01:00.1", "0000:01:00.1" },
		{ "0000:0A:1F.7", "0000:0a:1f.7" },
		{ "ffff:ff:1f.7", "ffff:ff:1f.7" },
		{ "FFFF:FF:1F.7", "ffff:ff:1f.7" },
		{ "10000:00:00.0", "10000:00:00.0" }, /* Intel VMD domains, as sysfs names them */
		{ "FFFFFFFF:01:00.0", "ffffffff:01:00.0" },
		{ "100000000:00:00.0", "(error)" },
		{ "1:2:3.4", "0001:02:03.4" },
		{ "a:0.0", "0000:0a:00.0" },
		{ "0000:c1:00.3", "0000:c1:00.3" },
	};
	char buf[PCIADDR_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(roundtrip(cases[i].in, buf), cases[i].out);
}

static void test_rejects_out_of_range_and_junk(void)
{
	static const char *const bad[] = {
		"",
		"0000:01:00.8",
		"0000:01:20.0",
		"0000:100:00.0",
		"00000:01:00.0",
		"0000:001:00.0",
		"0000:01:000.0",
		"0000:01:00.00",
		"0000:01:00.0 ",
		" 0000:01:00.0",
		"0000:01:00.0\n",
		"0000:01:00",
		"0000:01.00.0",
		"0000:01:00:0",
		"0:0:01:00.0",
		"01:00.",
		":01:00.0",
		"0000::00.0",
		"0x00:01:00.0",
		"0000:01:00.-1",
		"0000:01:+0.0",
		"g000:01:00.0",
		"01:00.0.1",
		"0000:01:00.0x",
		"01",
	};
	struct pciaddr a = { 9, 9, 9, 9 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pciaddr_parse(bad[i], &a);

		if (r != -EINVAL)
			fprintf(stderr, "'%s' accepted\n", bad[i]);
		CHECK(r == -EINVAL);
	}
	CHECK(pciaddr_parse(NULL, &a) == -EINVAL);
	/* a failed parse does not touch the output */
	CHECK(a.domain == 9 && a.bus == 9 && a.slot == 9 && a.function == 9);
}

static void test_compare(void)
{
	struct pciaddr gpu, audio, other;

	CHECK(pciaddr_parse("0000:01:00.0", &gpu) == 0);
	CHECK(pciaddr_parse("01:00.1", &audio) == 0);
	CHECK(pciaddr_parse("0001:01:00.0", &other) == 0);
	CHECK(pciaddr_same_slot(&gpu, &audio));
	CHECK(!pciaddr_equal(&gpu, &audio));
	CHECK(!pciaddr_same_slot(&gpu, &other));
	CHECK(!pciaddr_equal(&gpu, &other));
	audio.function = 0;
	CHECK(pciaddr_equal(&gpu, &audio));
}

/* pciaddr_list, the one list of addresses ([vfio] devices/force, the devices a plan moves, doctor's). */
static void test_list(void)
{
	_cleanup_pciaddr_list_ struct pciaddr_list l = { 0 };
	struct pciaddr a, b;
	char buf[PCIADDR_STRLEN];
	struct err e = { "" };

	CHECK(pciaddr_list_parse("0000:01:00.0, 01:00.1\t0000:01:00.0,,", &l, &e) == 0);
	CHECK(l.n == 2); /* the repeated address once, in first-seen order */
	CHECK_STR(pciaddr_format(&l.v[0], buf), "0000:01:00.0");
	CHECK_STR(pciaddr_format(&l.v[1], buf), "0000:01:00.1");
	CHECK(pciaddr_parse("0000:01:00.1", &a) == 0 && pciaddr_list_has(&l, &a));
	CHECK(pciaddr_parse("0000:02:00.0", &b) == 0 && !pciaddr_list_has(&l, &b));
	pciaddr_list_add(&l, &a);
	pciaddr_list_add(&l, &b);
	CHECK(l.n == 3 && pciaddr_equal(&l.v[2], &b));
	/* a parse replaces what the list held */
	CHECK(pciaddr_list_parse("03:00.0", &l, &e) == 0 && l.n == 1);
	CHECK(pciaddr_list_parse("0000:01:00.0 gpu", &l, &e) == -EINVAL);
	CHECK_STR(e.msg, "'gpu' is not a PCI address (expected dddd:bb:ss.f, e.g. 0000:01:00.0)");
	CHECK(pciaddr_list_parse(" , ", &l, &e) == 0 && l.n == 0);
}

int main(void)
{
	test_accepts_both_forms_any_case();
	test_rejects_out_of_range_and_junk();
	test_compare();
	test_list();
	return TEST_DONE();
}
