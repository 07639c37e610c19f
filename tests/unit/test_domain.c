/* domain.c: what hookd reads from libvirt domain XML, and what it refuses. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "domain.h"
#include "test.h"

static char *read_fixture(const char *name, size_t *len)
{
	char path[4096];
	char *buf = NULL;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	r = read_all_fd(fd, 1 << 20, &buf, len);
	close(fd);
	if (r < 0)
		exit(2);
	return buf;
}

/* Parses with stderr redirected, and checks libxml2 printed nothing there. */
static int parse_quiet(const char *xml, size_t len, struct domain **d, struct err *e)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), r;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	e->msg[0] = '\0';
	*d = NULL;
	r = domain_parse(xml, len, d, e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fseek(tmp, 0, SEEK_END);
	if (ftell(tmp) != 0)
		fprintf(stderr, "parse wrote %ld bytes to stderr\n", ftell(tmp));
	CHECK(ftell(tmp) == 0);
	fclose(tmp);
	return r;
}

static struct domain *parse_ok(const char *xml)
{
	struct domain *d;
	struct err e;
	int r = parse_quiet(xml, strlen(xml), &d, &e);

	if (r < 0)
		fprintf(stderr, "unexpected error: %s\n", e.msg);
	CHECK(r == 0 && d);
	return r == 0 ? d : NULL;
}

/* Parses a document that must fail; returns the message (static buffer). */
static const char *parse_fail(const char *xml)
{
	static struct err e;
	struct domain *d;
	int r = parse_quiet(xml, strlen(xml), &d, &e);

	CHECK(r == -EINVAL);
	CHECK(d == NULL);
	if (r == 0)
		domain_free(d);
	return e.msg;
}

/* Parses the data file name, which must parse; returns the domain, or NULL if it did not. */
static struct domain *parse_data_file(const char *name)
{
	size_t len;
	char *xml = read_fixture(name, &len);
	struct domain *d = NULL;
	struct err e;
	int r = parse_quiet(xml, len, &d, &e);

	if (r < 0)
		fprintf(stderr, "%s: %s\n", name, e.msg);
	CHECK(r == 0);
	free(xml);
	return d;
}

static char *json_of(const struct domain *d)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	domain_print_json(d, f);
	fclose(f);
	return s;
}

static void test_win11_gpu_vm_values(void)
{
	struct domain *d = parse_data_file("win11-gpu.xml");
	char a[PCIADDR_STRLEN];

	if (!d)
		return;
	CHECK_STR(d->name, "win11");
	CHECK_STR(d->uuid, "5c3e2a8b-1f4d-4e6a-9b7c-0d2e4f6a8b1c");
	CHECK(d->has_vcpus && d->vcpus == 8);
	CHECK(d->has_memory && d->memory_kib == 16ULL * 1024 * 1024);
	/* the USB hostdev (a keyboard receiver) is not ours */
	CHECK(d->n_hostdevs == 2);
	if (d->n_hostdevs == 2) {
		CHECK_STR(pciaddr_format(&d->hostdevs[0].address, a), "0000:01:00.0");
		CHECK_STR(pciaddr_format(&d->hostdevs[1].address, a), "0000:01:00.1");
		CHECK(d->hostdevs[0].managed && d->hostdevs[1].managed);
	}
	CHECK(d->n_vcpupins == 8);
	if (d->n_vcpupins == 8) {
		CHECK(d->vcpupins[1].vcpu == 1 && cpuset_has(&d->vcpupins[1].cpus, 10));
		CHECK(cpuset_count(&d->vcpupins[1].cpus) == 1);
		CHECK(d->vcpupins[6].vcpu == 6 && cpuset_count(&d->vcpupins[6].cpus) == 2);
		CHECK(cpuset_has(&d->vcpupins[6].cpus, 5) && !cpuset_has(&d->vcpupins[6].cpus, 6));
	}
	CHECK(d->has_emulatorpin && cpuset_count(&d->emulatorpin) == 4);
	CHECK(cpuset_has(&d->emulatorpin, 9) && !cpuset_has(&d->emulatorpin, 2));
	CHECK(d->has_hugepages && d->n_hugepages == 1);
	if (d->n_hugepages == 1) {
		CHECK(d->hugepages[0].has_size && d->hugepages[0].size_kib == 1048576);
		CHECK(cpuset_count(&d->hugepages[0].nodes) == 1 && cpuset_has(&d->hugepages[0].nodes, 0));
	}
	CHECK(d->has_numatune && cpuset_count(&d->numatune_nodes) == 1);
	domain_free(d);
}

static void test_win11_json_is_exact(void)
{
	struct domain *d = parse_data_file("win11-gpu.xml");
	char *json;

	if (!d)
		return;
	json = json_of(d);
	CHECK_STR(json, "{\"name\":\"win11\",\"uuid\":\"5c3e2a8b-1f4d-4e6a-9b7c-0d2e4f6a8b1c\",\"vcpus\":8,"
			"\"memory_kib\":16777216,\"hostdevs\":[{\"address\":\"0000:01:00.0\",\"managed\":true},"
			"{\"address\":\"0000:01:00.1\",\"managed\":true}],\"vcpupin\":[{\"vcpu\":0,\"cpus\":[2]},"
			"{\"vcpu\":1,\"cpus\":[10]},{\"vcpu\":2,\"cpus\":[3]},{\"vcpu\":3,\"cpus\":[11]},"
			"{\"vcpu\":4,\"cpus\":[4]},{\"vcpu\":5,\"cpus\":[12]},{\"vcpu\":6,\"cpus\":[5,7]},"
			"{\"vcpu\":7,\"cpus\":[13,14,15]}],\"emulatorpin\":[0,1,8,9],"
			"\"hugepages\":[{\"size_kib\":1048576,\"nodes\":[0]}],\"numatune_nodes\":[0]}\n");
	free(json);
	domain_free(d);
}

static void test_bare_hugepages_json_has_nulls(void)
{
	struct domain *d = parse_data_file("bare-hugepages.xml");
	char *json;

	if (!d)
		return;
	CHECK(d->has_hugepages && d->n_hugepages == 1 && !d->hugepages[0].has_size);
	CHECK(cpuset_empty(&d->hugepages[0].nodes));
	CHECK(d->n_hostdevs == 1 && !d->hostdevs[0].managed);
	/* 4096 MB are decimal: 4096 * 10^6 bytes */
	CHECK(d->memory_kib == 4000000);
	json = json_of(d);
	CHECK_STR(json, "{\"name\":\"bare\",\"uuid\":null,\"vcpus\":null,\"memory_kib\":4000000,"
			"\"hostdevs\":[{\"address\":\"0000:0a:1f.7\",\"managed\":false}],\"vcpupin\":[],"
			"\"emulatorpin\":null,\"hugepages\":[{\"size_kib\":null,\"nodes\":[]}],"
			"\"numatune_nodes\":null}\n");
	free(json);
	domain_free(d);
}

static void test_minimal_json_has_empty_lists(void)
{
	struct domain *d = parse_ok("<domain><name>m</name></domain>");
	char *json;

	if (!d)
		return;
	json = json_of(d);
	CHECK_STR(json, "{\"name\":\"m\",\"uuid\":null,\"vcpus\":null,\"memory_kib\":null,\"hostdevs\":[],"
			"\"vcpupin\":[],\"emulatorpin\":null,\"hugepages\":[],\"numatune_nodes\":null}\n");
	free(json);
	domain_free(d);
}

static void test_usb_mdev_scsi_and_interface_hostdevs_do_not_count(void)
{
	struct domain *d = parse_data_file("other-hostdevs.xml");

	if (!d)
		return;
	CHECK(d->n_hostdevs == 0);
	/* 1 GiB + 1 byte rounds up to the next KiB, as libvirt does */
	CHECK(d->memory_kib == 1048577);
	domain_free(d);
}

/* Returns the memory in KiB, or -1 with the message in msg. */
static long long memory_kib(const char *value, const char *unit, char *msg, size_t msglen)
{
	char xml[512];
	struct domain *d;
	struct err e;
	long long kib = -1;

	if (unit)
		snprintf(xml, sizeof(xml), "<domain><name>u</name>\n<memory unit='%s'>%s</memory></domain>", unit,
			 value);
	else
		snprintf(xml, sizeof(xml), "<domain><name>u</name>\n<memory>%s</memory></domain>", value);
	if (parse_quiet(xml, strlen(xml), &d, &e) == 0) {
		kib = (long long)d->memory_kib;
		domain_free(d);
	} else {
		snprintf(msg, msglen, "%s", e.msg);
	}
	return kib;
}

static void test_memory_units_follow_libvirt(void)
{
	static const struct {
		const char *value, *unit;
		long long kib;
	} ok[] = {
		{ "8388608", NULL, 8388608 },
		{ " 1024 ", "KiB", 1024 },
		{ "1024", "k", 1024 },
		{ "1000", "KB", 977 },
		{ "16", "GiB", 16777216 },
		{ "16", "G", 16777216 },
		{ "2", "gib", 2097152 },
		{ "1", "GB", 976563 },
		{ "512", "MiB", 524288 },
		{ "500", "MB", 488282 },
		{ "1", "M", 1024 },
		{ "1", "TiB", 1073741824 },
		{ "1", "TB", 976562500 },
		{ "1073741824", "bytes", 1048576 },
		{ "1", "b", 1 },
		{ "2048", "byte", 2 },
		{ "+4", "", 4 },
		{ "4", "", 4 },
		{ "1", "PiB", 1099511627776LL },
		{ "1", "E", 1125899906842624LL },
	};
	static const struct {
		const char *value, *unit, *msg;
	} bad[] = {
		{ "16", "GiBs", "line 2: <memory>: unknown unit='GiBs'" },
		{ "16", "Q", "unknown unit='Q'" },
		{ "-1", NULL, "line 2: <memory>: memory '-1' is not a number" },
		{ "1.5", "G", "is not a number" },
		{ "", NULL, "is not a number" },
		{ "0x10", NULL, "is not a number" },
		{ "8", "E", "too large" },
		{ "8388608", "TiB", "too large" },
		{ "99999999999999999999999", NULL, "is not a number" },
		{ "0", "G", "line 2: <memory>: memory size is 0" },
	};
	char msg[1024];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		long long kib = memory_kib(ok[i].value, ok[i].unit, msg, sizeof(msg));

		if (kib != ok[i].kib)
			fprintf(stderr, "memory %s %s: got %lld, want %lld\n", ok[i].value,
				ok[i].unit ? ok[i].unit : "(none)", kib, ok[i].kib);
		CHECK(kib == ok[i].kib);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		msg[0] = '\0';
		CHECK(memory_kib(bad[i].value, bad[i].unit, msg, sizeof(msg)) == -1);
		CHECK_CONTAINS(msg, bad[i].msg);
	}
}

static void test_page_sizes_and_nodesets(void)
{
	struct domain *d = parse_ok("<domain><name>p</name><memoryBacking><hugepages>"
				    "<page size='2048'/><page size='2' unit='MiB' nodeset='0-1'/>"
				    "<page size='1' unit='GB' nodeset='2'/></hugepages></memoryBacking></domain>");

	if (!d)
		return;
	CHECK(d->n_hugepages == 3);
	if (d->n_hugepages == 3) {
		CHECK(d->hugepages[0].size_kib == 2048 && cpuset_empty(&d->hugepages[0].nodes));
		CHECK(d->hugepages[1].size_kib == 2048 && cpuset_count(&d->hugepages[1].nodes) == 2);
		CHECK(d->hugepages[2].size_kib == 976563);
	}
	domain_free(d);
	CHECK_CONTAINS(parse_fail("<domain><name>p</name><memoryBacking><hugepages>\n"
				  "<page unit='G'/></hugepages></memoryBacking></domain>"),
		       "line 2: <page>: missing size=");
	CHECK_CONTAINS(parse_fail("<domain><name>p</name><memoryBacking><hugepages>\n\n"
				  "<page size='0'/></hugepages></memoryBacking></domain>"),
		       "line 3: <page>: page size can't be zero");
	CHECK_CONTAINS(parse_fail("<domain><name>p</name><memoryBacking><hugepages>\n"
				  "<page size='1' unit='G' nodeset='x'/></hugepages></memoryBacking></domain>"),
		       "line 2: <page>: nodeset='x' is not a valid list");
}

static void test_malformed_xml_is_a_clear_error(void)
{
	size_t len;
	char *xml = read_fixture("win11-gpu.xml", &len);
	struct domain *d;
	struct err e;
	char nul[] = "<domain><name>a\0b</name></domain>";

	/* cut inside a <vcpupin> tag on line 24 */
	CHECK(parse_quiet(xml, 800, &d, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "line 24: malformed XML: ");
	CHECK(parse_quiet(xml, 1, &d, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "line 1: malformed XML");
	free(xml);
	CHECK(parse_quiet("", 0, &d, &e) == -EINVAL);
	CHECK_STR(e.msg, "the domain XML is empty");
	CHECK(parse_quiet(NULL, 0, &d, &e) == -EINVAL);
	CHECK(parse_quiet(nul, sizeof(nul) - 1, &d, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "line 1: malformed XML");
	CHECK_CONTAINS(parse_fail("   \n\n  "), "malformed XML");
	CHECK_CONTAINS(parse_fail("hello"), "line 1: malformed XML");
	CHECK_CONTAINS(parse_fail("<domain>\n<name>x</name>\n</domian>"), "line 3: malformed XML");
	CHECK_CONTAINS(parse_fail("<domain><name>x</name></domain><domain/>"), "malformed XML");
	CHECK_CONTAINS(parse_fail("<domain>\n<name a='1' a='2'>x</name></domain>"), "line 2: malformed XML");
}

static void test_wrong_root_and_missing_name(void)
{
	CHECK_STR(parse_fail("<?xml version='1.0'?>\n<network><name>default</name></network>"),
		  "line 2: <network>: the root element must be <domain>");
	CHECK_STR(parse_fail("<domain type='kvm'>\n  <uuid>5c3e2a8b-1f4d-4e6a-9b7c-0d2e4f6a8b1c</uuid>\n</domain>"),
		  "line 1: <domain>: no <name>");
	CHECK_STR(parse_fail("<domain type='kvm'>\n  <name></name>\n</domain>"), "line 2: <name>: empty name");
	CHECK_STR(parse_fail("<domain>\n<name/>\n</domain>"), "line 2: <name>: empty name");
	/* the name becomes a file name */
	CHECK_CONTAINS(parse_fail("<domain>\n<name>../../etc/x</name></domain>"),
		       "line 2: <name>: name '../../etc/x' contains '/'");
	/* a namespaced <domain> is not libvirt's */
	CHECK_CONTAINS(parse_fail("<x:domain xmlns:x='urn:x'><name>a</name></x:domain>"),
		       "the root element must be <domain>");
}

static void test_uuid_is_checked_and_canonical(void)
{
	struct domain *d = parse_ok("<domain><name>u</name><uuid> 5C3E2A8B1F4D4E6A9B7C0D2E4F6A8B1C </uuid></domain>");

	if (d)
		CHECK_STR(d->uuid, "5c3e2a8b-1f4d-4e6a-9b7c-0d2e4f6a8b1c");
	domain_free(d);
	d = parse_ok("<domain><name>u</name><uuid></uuid></domain>");
	if (d)
		CHECK(d->uuid == NULL);
	domain_free(d);
	CHECK_STR(parse_fail("<domain><name>u</name>\n<uuid>../../etc/passwd</uuid></domain>"),
		  "line 2: <uuid>: '../../etc/passwd' is not a UUID");
	CHECK_CONTAINS(parse_fail(
			       "<domain><name>u</name>\n<uuid>5c3e2a8b-1f4d-4e6a-9b7c-0d2e4f6a8b1c0</uuid></domain>"),
		       "is not a UUID");
}

static const char *entity_doc(char *buf, size_t len, const char *decl, const char *body)
{
	snprintf(buf, len, "<?xml version='1.0'?>\n<!DOCTYPE domain [\n%s\n]>\n<domain>\n%s\n</domain>\n", decl, body);
	return buf;
}

static void test_entities_are_never_expanded_or_fetched(void)
{
	char decl[8192], xml[16384];
	struct domain *d;
	const char *msg;

	snprintf(decl, sizeof(decl), "<!ENTITY xxe SYSTEM \"file://%s/secret.txt\">", TEST_DATA_DIR);
	msg = parse_fail(entity_doc(xml, sizeof(xml), decl, "<name>&xxe;</name>"));
	CHECK_STR(msg, "line 6: <name>: entity references are not allowed");
	msg = parse_fail(entity_doc(xml, sizeof(xml), decl, "<name>n</name><uuid>&xxe;</uuid>"));
	CHECK_CONTAINS(msg, "entity references are not allowed");
	/* an entity where hookd does not look does no harm, and stays unexpanded */
	d = parse_ok(entity_doc(xml, sizeof(xml), decl, "<name>n</name><description>&xxe;</description>"));
	if (d)
		CHECK_STR(d->name, "n");
	domain_free(d);
	/* internal entities are refused too, in text and in attributes */
	msg = parse_fail(entity_doc(xml, sizeof(xml), "<!ENTITY n 'win11'>", "<name>&n;</name>"));
	CHECK_CONTAINS(msg, "entity references are not allowed");
	msg = parse_fail(entity_doc(xml, sizeof(xml), "<!ENTITY b '0x01'>",
				    "<name>n</name><devices><hostdev mode='subsystem' type='pci'><source>\n"
				    "<address bus='&b;' slot='0' function='0'/></source></hostdev></devices>"));
	CHECK_STR(msg, "line 7: <address>: bus=: entity references are not allowed");
	/* DTD default attributes are not applied, and an external DTD is not loaded */
	d = parse_ok(entity_doc(xml, sizeof(xml), "<!ATTLIST hostdev managed CDATA 'yes'>",
				"<name>n</name><devices><hostdev mode='subsystem' type='pci'><source>"
				"<address bus='1' slot='0' function='0'/></source></hostdev></devices>"));
	if (d)
		CHECK(d->n_hostdevs == 1 && !d->hostdevs[0].managed);
	domain_free(d);
	snprintf(xml, sizeof(xml),
		 "<!DOCTYPE domain SYSTEM \"file://%s/external-dtd.dtd\">\n<domain><name>n</name><devices>"
		 "<hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' function='0'/>"
		 "</source></hostdev></devices></domain>",
		 TEST_DATA_DIR);
	d = parse_ok(xml);
	if (d)
		CHECK(d->n_hostdevs == 1 && !d->hostdevs[0].managed);
	domain_free(d);
	snprintf(xml, sizeof(xml),
		 "<!DOCTYPE domain SYSTEM \"file://%s/external-dtd.dtd\">\n<domain><name>&vmname;</name></domain>",
		 TEST_DATA_DIR);
	CHECK_CONTAINS(parse_fail(xml), "line 2");
}

static void test_billion_laughs_fails_fast(void)
{
	static const char xml[] =
		"<?xml version='1.0'?>\n<!DOCTYPE domain [\n<!ENTITY a 'lollollollollollollollollollol'>\n"
		"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>\n"
		"<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>\n<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'>\n"
		"<!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>\n<!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'>\n"
		"<!ENTITY h '&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;'>\n<!ENTITY i '&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;'>\n]>\n"
		"<domain><name>&i;</name><description a='&i;'>&i;</description></domain>\n";
	long long t0 = now_ms();
	const char *msg = parse_fail(xml);

	CHECK_CONTAINS(msg, "malformed XML: Detected an entity reference loop");
	CHECK(now_ms() - t0 < 2000);
}

static void test_huge_and_deep_input_is_refused(void)
{
	size_t big = XML_MAX + 1;
	char *xml = malloc(big);
	struct domain *d;
	struct err e;
	int r;

	memset(xml, ' ', big);
	memcpy(xml, "<domain><name>x</name>", 22);
	CHECK(parse_quiet(xml, big, &d, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "too large");
	/* big but under the cap: parsed, not refused */
	{
		size_t n = 32u << 20;
		char *p = xml;

		p += sprintf(p, "<domain><name>x</name><description>");
		memset(p, 'a', n);
		p += n;
		p += sprintf(p, "</description></domain>");
		r = parse_quiet(xml, (size_t)(p - xml), &d, &e);
		CHECK(r == 0);
		if (r == 0)
			CHECK_STR(d->name, "x");
		domain_free(d);
	}
	/* truncated at the cap: an error naming the line */
	memset(xml, '\n', big);
	memcpy(xml, "<domain><name>x</name><description>", 35);
	CHECK(parse_quiet(xml, big - 1, &d, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "malformed XML");
	/* nesting deeper than libxml2's limit: an error, not a stack overflow */
	{
		char *p = xml;

		p += sprintf(p, "<domain><name>x</name>");
		for (int i = 0; i < 100000; i++)
			p += sprintf(p, "<a>");
		r = parse_quiet(xml, (size_t)(p - xml), &d, &e);
		CHECK(r == -EINVAL);
		CHECK_CONTAINS(e.msg, "malformed XML");
	}
	free(xml);
}

static const char *hostdev_doc(char *buf, size_t len, const char *hostdev_attrs, const char *addr_attrs)
{
	snprintf(buf, len,
		 "<domain>\n<name>h</name>\n<devices>\n<hostdev %s>\n<source>\n<address %s/>\n</source>\n"
		 "</hostdev>\n</devices>\n</domain>\n",
		 hostdev_attrs, addr_attrs);
	return buf;
}

static void test_hostdev_addresses_as_libvirt_reads_them(void)
{
	static const struct {
		const char *attrs, *want;
	} ok[] = {
		{ "domain='0x0000' bus='0x01' slot='0x00' function='0x1'", "0000:01:00.1" },
		{ "bus='0x0A' slot='0x1F' function='0x7'", "0000:0a:1f.7" },
		{ "domain='0xffff' bus='255' slot='31' function='7'", "ffff:ff:1f.7" },
		{ "domain='1' bus='10' slot='2' function='0'", "0001:0a:02.0" },
		{ "bus='010' slot='0' function='0'", "0000:08:00.0" },     /* strtoul base 0, as libvirt */
		{ "bus=' 1' slot='+0x2' function=' +3'", "0000:01:02.3" }, /* virStrToLong_uip: blanks, '+' */
	};
	static const struct {
		const char *attrs, *msg;
	} bad[] = {
		{ "bus='0x100' slot='0' function='0'", "line 6: <address>: bad bus='0x100' (limit 0xff)" },
		{ "bus='1' slot='0x20' function='0'", "line 6: <address>: bad slot='0x20' (limit 0x1f)" },
		{ "bus='1' slot='0' function='8'", "line 6: <address>: bad function='8' (limit 0x7)" },
		{ "domain='0x100000000' bus='1' slot='0' function='0'", "bad domain='0x100000000' (limit 0xffffffff)" },
		{ "bus='zz' slot='0' function='0'", "bad bus='zz'" },
		{ "bus='' slot='0' function='0'", "bad bus=''" },
		{ "bus='-1' slot='0' function='0'", "bad bus='-1'" },
		{ "bus='1 ' slot='0' function='0'", "bad bus='1 '" },
		{ "bus='- 1' slot='0' function='0'", "bad bus='- 1'" },
		{ "bus='1' slot='0' function='0x0 junk'", "bad function='0x0 junk'" },
		{ "bus='08' slot='0' function='0'", "bad bus='08'" },
		{ "bus='0x99999999999999999999' slot='0' function='0'", "bad bus=" },
		{ "function='1'", "line 6: <address>: PCI address 0000:00:00.1 is empty (domain, bus and slot all 0)" },
	};
	char xml[1024], a[PCIADDR_STRLEN];
	struct domain *d;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		d = parse_ok(hostdev_doc(xml, sizeof(xml), "mode='subsystem' type='pci'", ok[i].attrs));
		if (!d)
			continue;
		CHECK(d->n_hostdevs == 1);
		if (d->n_hostdevs == 1)
			CHECK_STR(pciaddr_format(&d->hostdevs[0].address, a), ok[i].want);
		domain_free(d);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_CONTAINS(parse_fail(hostdev_doc(xml, sizeof(xml), "mode='subsystem' type='pci'", bad[i].attrs)),
			       bad[i].msg);
}

static void test_hostdev_mode_type_and_managed(void)
{
	const char *addr = "bus='1' slot='0' function='0'";
	char xml[1024];
	struct domain *d;

	/* libvirt's default mode is subsystem */
	d = parse_ok(hostdev_doc(xml, sizeof(xml), "type='pci' managed='yes'", addr));
	if (d)
		CHECK(d->n_hostdevs == 1 && d->hostdevs[0].managed);
	domain_free(d);
	d = parse_ok(hostdev_doc(xml, sizeof(xml), "mode='subsystem' type='pci' managed='no'", addr));
	if (d)
		CHECK(d->n_hostdevs == 1 && !d->hostdevs[0].managed);
	domain_free(d);
	d = parse_ok(hostdev_doc(xml, sizeof(xml), "mode='capabilities' type='net'", addr));
	if (d)
		CHECK(d->n_hostdevs == 0);
	domain_free(d);
	CHECK_STR(parse_fail(hostdev_doc(xml, sizeof(xml), "mode='subsystem' type='pci' managed='true'", addr)),
		  "line 4: <hostdev>: bad managed='true' (yes or no)");
	CHECK_STR(parse_fail("<domain><name>h</name><devices>\n<hostdev mode='subsystem' type='pci'>"
			     "<source/></hostdev></devices></domain>"),
		  "line 2: <hostdev>: PCI hostdev without <source><address>");
}

static void test_vcpu_and_pins(void)
{
	struct domain *d;

	CHECK_STR(parse_fail("<domain><name>v</name>\n<vcpu>eight</vcpu></domain>"),
		  "line 2: <vcpu>: 'eight' is not a vCPU count");
	CHECK_CONTAINS(parse_fail("<domain><name>v</name>\n<vcpu>0</vcpu></domain>"), "line 2: <vcpu>");
	CHECK_STR(parse_fail("<domain><name>v</name><vcpu>4</vcpu><cputune>\n"
			     "<vcpupin vcpu='0' cpuset='1-'/></cputune></domain>"),
		  "line 2: <vcpupin>: cpuset='1-' is not a valid list");
	CHECK_STR(parse_fail("<domain><name>v</name><vcpu>4</vcpu><cputune>\n\n"
			     "<vcpupin vcpu='0' cpuset='16384'/></cputune></domain>"),
		  "line 3: <vcpupin>: cpuset='16384': number out of range (limit 16383)");
	CHECK_STR(parse_fail("<domain><name>v</name><cputune><vcpupin vcpu='0' cpuset='1'/>\n"
			     "<vcpupin vcpu='0' cpuset='2'/></cputune></domain>"),
		  "line 2: <vcpupin>: duplicate vcpupin for vcpu 0");
	CHECK_STR(parse_fail("<domain><name>v</name><cputune>\n<vcpupin cpuset='2'/></cputune></domain>"),
		  "line 2: <vcpupin>: missing vcpu=");
	CHECK_STR(parse_fail("<domain><name>v</name><cputune>\n<emulatorpin/></cputune></domain>"),
		  "line 2: <emulatorpin>: missing cpuset=");
	CHECK_STR(parse_fail("<domain><name>v</name><cputune>\n<emulatorpin cpuset='1,^1'/></cputune></domain>"),
		  "line 2: <emulatorpin>: cpuset='1,^1' is empty");
	d = parse_ok("<domain><name>v</name><cputune><emulatorpin cpuset=' 0 , 2-3 '/></cputune></domain>");
	if (d)
		CHECK(d->has_emulatorpin && cpuset_count(&d->emulatorpin) == 3);
	domain_free(d);
}

static void test_numatune(void)
{
	struct domain *d = parse_ok("<domain><name>n</name><numatune><memory mode='strict' placement='auto'/>"
				    "</numatune></domain>");

	if (d)
		CHECK(!d->has_numatune);
	domain_free(d);
	d = parse_ok("<domain><name>n</name><numatune><memory mode='interleave' nodeset='0-1,3'/></numatune></domain>");
	if (d)
		CHECK(d->has_numatune && cpuset_count(&d->numatune_nodes) == 3);
	domain_free(d);
	d = parse_ok("<domain><name>n</name><numatune><memory mode='strict' placement='static' nodeset='0-1,3'/>"
		     "</numatune></domain>");
	if (d)
		CHECK(d->has_numatune && cpuset_count(&d->numatune_nodes) == 3);
	domain_free(d);
	CHECK_STR(parse_fail("<domain><name>n</name><numatune>\n<memory nodeset='a'/></numatune></domain>"),
		  "line 2: <memory>: nodeset='a' is not a valid list");
}

static void test_json_escapes_strings(void)
{
	struct domain *d;
	char *json;

	/* &#1; is not allowed in XML 1.0: libxml2 refuses it before we see it */
	CHECK_CONTAINS(parse_fail("<domain><name>a&#1;</name></domain>"), "malformed XML");
	d = parse_ok("<domain><name>a&quot;b\\c&#9;d \xc3\xa9</name></domain>");
	if (!d)
		return;
	json = json_of(d);
	CHECK_CONTAINS(json, "{\"name\":\"a\\\"b\\\\c\\td \xc3\xa9\",");
	free(json);
	domain_free(d);
}

static void test_text_summary(void)
{
	struct domain *d = parse_data_file("win11-gpu.xml");
	char *s = NULL;
	size_t len;
	FILE *f;

	if (!d)
		return;
	f = open_memstream(&s, &len);
	domain_print_text(d, f);
	fclose(f);
	CHECK_CONTAINS(s, "name:        win11\n");
	CHECK_CONTAINS(s, "0000:01:00.0 (managed) 0000:01:00.1 (managed)\n");
	CHECK_CONTAINS(s, "vcpu 6 on CPUs 5,7\n");
	CHECK_CONTAINS(s, "emulatorpin: CPUs 0-1,8-9\n");
	CHECK_CONTAINS(s, "hugepages:   1048576 KiB pages on nodes 0\n");
	free(s);
	domain_free(d);
}

/* ---- one case per class where hookd used to read the XML differently from libvirt ---- */

/* CPU ids up to 16383 (VIR_DOMAIN_CPUMASK_LEN); libvirt's own test pins to "0,16383". */
static void test_class_cpu_ids_up_to_16383(void)
{
	struct domain *d =
		parse_ok("<domain><name>c</name><vcpu>2</vcpu><cputune>"
			 "<vcpupin vcpu='0' cpuset='0,16383'/><emulatorpin cpuset='16383'/></cputune></domain>");
	char *json;

	if (!d)
		return;
	json = json_of(d);
	CHECK_CONTAINS(json, "\"vcpupin\":[{\"vcpu\":0,\"cpus\":[0,16383]}],\"emulatorpin\":[16383]");
	free(json);
	domain_free(d);
}

/* PCI domains above 0xffff (Intel VMD: 10000 and up), printed as sysfs names them. */
static void test_class_pci_domain_above_ffff(void)
{
	char xml[1024];
	struct domain *d = parse_ok(hostdev_doc(xml, sizeof(xml), "mode='subsystem' type='pci'",
						"domain='0x10000' bus='0x01' slot='0' function='0'"));
	char *json;

	if (!d)
		return;
	json = json_of(d);
	CHECK_CONTAINS(json, "\"hostdevs\":[{\"address\":\"10000:01:00.0\",\"managed\":false}]");
	free(json);
	domain_free(d);
}

/* placement='auto': numad chooses, libvirt ignores the nodeset. */
static void test_class_numatune_auto_ignores_nodeset(void)
{
	struct domain *d = parse_ok("<domain><name>n</name><numatune>"
				    "<memory mode='strict' placement='auto' nodeset='1'/></numatune></domain>");
	char *json;

	if (!d)
		return;
	json = json_of(d);
	CHECK_CONTAINS(json, "\"numatune_nodes\":null}");
	free(json);
	domain_free(d);
}

/* Blanks around numbers and separators and a trailing comma in cpusets; blanks and '+' before
 * numbers in attributes. */
static void test_class_blanks_and_plus_signs(void)
{
	struct domain *d = parse_ok("<domain><name>s</name><vcpu> 4 </vcpu><cputune>"
				    "<vcpupin vcpu=' +1' cpuset=' 1 - 3 , ^2 ,5 ,'/></cputune></domain>");

	if (!d)
		return;
	CHECK(d->n_vcpupins == 1);
	if (d->n_vcpupins == 1) {
		char *list = cpuset_to_list(&d->vcpupins[0].cpus);

		CHECK(d->vcpupins[0].vcpu == 1);
		CHECK_STR(list, "1,3,5");
		free(list);
	}
	domain_free(d);
}

/* Every <cputune> and every <devices> counts, not only the first. */
static void test_class_every_cputune_and_devices(void)
{
	struct domain *d = parse_ok(
		"<domain><name>m</name><vcpu>2</vcpu>"
		"<cputune><vcpupin vcpu='0' cpuset='2'/></cputune><cputune><vcpupin vcpu='1' cpuset='3'/></cputune>"
		"<devices><hostdev type='pci'><source><address bus='1' slot='0' function='0'/></source></hostdev></devices>"
		"<devices><hostdev type='pci'><source><address bus='2' slot='0' function='0'/></source></hostdev></devices>"
		"</domain>");
	char a[PCIADDR_STRLEN];

	if (!d)
		return;
	CHECK(d->n_vcpupins == 2);
	CHECK(d->n_hostdevs == 2);
	if (d->n_hostdevs == 2)
		CHECK_STR(pciaddr_format(&d->hostdevs[1].address, a), "0000:02:00.0");
	domain_free(d);
}

/* Missing domain/bus/slot/function attributes are 0. */
static void test_class_missing_address_attributes_are_zero(void)
{
	char xml[1024], a[PCIADDR_STRLEN];
	struct domain *d = parse_ok(hostdev_doc(xml, sizeof(xml), "type='pci'", "bus='3'"));

	if (!d)
		return;
	CHECK(d->n_hostdevs == 1);
	if (d->n_hostdevs == 1)
		CHECK_STR(pciaddr_format(&d->hostdevs[0].address, a), "0000:03:00.0");
	domain_free(d);
}

/* UUIDs with blanks (around, or between byte pairs) or upper case are normalised, as virUUIDParse. */
static void test_class_uuid_blanks_and_case(void)
{
	struct domain *d =
		parse_ok("<domain><name>u</name><uuid> C7A5FDBD CDAF 9455 926A D65C16DB1809 </uuid></domain>");

	if (d)
		CHECK_STR(d->uuid, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
	domain_free(d);
	CHECK_CONTAINS(parse_fail("<domain><name>u</name><uuid>c7a5fdbd-cdaf-9455-926a-d65c16db180 9</uuid></domain>"),
		       "is not a UUID");
}

/* A pin for a vCPU beyond <vcpu> (none means 1) is dropped with a warning, not a refusal. */
static void test_class_pin_beyond_vcpus_is_dropped_with_a_warning(void)
{
	struct domain *d = parse_ok("<domain><name>w</name><vcpu>2</vcpu><cputune>\n"
				    "<vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='4' cpuset='2'/></cputune></domain>");

	if (d) {
		CHECK(d->n_vcpupins == 1 && d->vcpupins[0].vcpu == 0);
		CHECK(d->n_warnings == 1);
		if (d->n_warnings == 1)
			CHECK_STR(d->warnings[0], "line 2: <vcpupin vcpu='4'> ignored: the domain has 2 vCPUs");
	}
	domain_free(d);
	d = parse_ok("<domain><name>w</name><cputune><vcpupin vcpu='1' cpuset='1'/></cputune></domain>");
	if (d)
		CHECK(d->n_vcpupins == 0 && d->n_warnings == 1);
	domain_free(d);
}

/* vcpupin entries are listed by vCPU, as libvirt writes them. */
static void test_class_pins_sorted_by_vcpu(void)
{
	struct domain *d = parse_ok("<domain><name>o</name><vcpu>3</vcpu><cputune><vcpupin vcpu='2' cpuset='4'/>"
				    "<vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune></domain>");
	char *json;

	if (!d)
		return;
	json = json_of(d);
	CHECK_CONTAINS(json,
		       "\"vcpupin\":[{\"vcpu\":0,\"cpus\":[2]},{\"vcpu\":1,\"cpus\":[3]},{\"vcpu\":2,\"cpus\":[4]}]");
	free(json);
	domain_free(d);
}

/* A hostdev mode or type libvirt does not know is reported, not skipped. */
static void test_class_unknown_hostdev_type_is_an_error(void)
{
	const char *addr = "bus='1' slot='0' function='0'";
	char xml[1024];

	CHECK_STR(parse_fail(hostdev_doc(xml, sizeof(xml), "mode='subsystem' type='pcie'", addr)),
		  "line 4: <hostdev>: unknown subsystem type='pcie'");
	CHECK_STR(parse_fail(hostdev_doc(xml, sizeof(xml), "mode='subsys' type='pci'", addr)),
		  "line 4: <hostdev>: unknown mode='subsys' (subsystem or capabilities)");
	CHECK_STR(parse_fail(hostdev_doc(xml, sizeof(xml), "mode='subsystem'", addr)),
		  "line 4: <hostdev>: missing type=");
}

/* Two page sizes on overlapping nodesets, or both without one, are refused. */
static void test_class_hugepage_nodesets_overlap_or_missing(void)
{
	CHECK_STR(parse_fail("<domain><name>h</name><memoryBacking>\n<hugepages><page size='2048' nodeset='0-1'/>"
			     "<page size='1' unit='G' nodeset='1'/></hugepages></memoryBacking></domain>"),
		  "line 2: <hugepages>: the nodesets of pages of 2048 KiB and 1048576 KiB intersect");
	CHECK_STR(parse_fail("<domain><name>h</name><memoryBacking>\n<hugepages><page size='2048'/>"
			     "<page size='1' unit='G'/></hugepages></memoryBacking></domain>"),
		  "line 2: <hugepages>: pages of 2048 KiB and 1048576 KiB both without nodeset=");
}

/* <memory>0</memory> and current= above <vcpu> are refused with the line. */
static void test_class_zero_memory_and_current_above_vcpus(void)
{
	CHECK_STR(parse_fail("<domain><name>z</name>\n<memory unit='KiB'>0</memory></domain>"),
		  "line 2: <memory>: memory size is 0");
	CHECK_STR(parse_fail("<domain><name>z</name>\n<vcpu current='5'>4</vcpu></domain>"),
		  "line 2: <vcpu>: current='5' is more than the 4 vCPUs");
}

int main(void)
{
	test_win11_gpu_vm_values();
	test_win11_json_is_exact();
	test_bare_hugepages_json_has_nulls();
	test_minimal_json_has_empty_lists();
	test_usb_mdev_scsi_and_interface_hostdevs_do_not_count();
	test_memory_units_follow_libvirt();
	test_page_sizes_and_nodesets();
	test_malformed_xml_is_a_clear_error();
	test_wrong_root_and_missing_name();
	test_uuid_is_checked_and_canonical();
	test_entities_are_never_expanded_or_fetched();
	test_billion_laughs_fails_fast();
	test_huge_and_deep_input_is_refused();
	test_hostdev_addresses_as_libvirt_reads_them();
	test_hostdev_mode_type_and_managed();
	test_vcpu_and_pins();
	test_numatune();
	test_json_escapes_strings();
	test_text_summary();
	test_class_cpu_ids_up_to_16383();
	test_class_pci_domain_above_ffff();
	test_class_numatune_auto_ignores_nodeset();
	test_class_blanks_and_plus_signs();
	test_class_every_cputune_and_devices();
	test_class_missing_address_attributes_are_zero();
	test_class_uuid_blanks_and_case();
	test_class_pin_beyond_vcpus_is_dropped_with_a_warning();
	test_class_pins_sorted_by_vcpu();
	test_class_unknown_hostdev_type_is_an_error();
	test_class_hugepage_nodesets_overlap_or_missing();
	test_class_zero_memory_and_current_above_vcpus();
	return TEST_DONE();
}
