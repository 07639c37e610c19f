/* vmconfig.c: a VM's INI file -> ordered sections bound to actions; every error names file:line. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fixture.h"
#include "test.h"
#include "vmconfig.h"

static int load_text(const char *text, struct vm_config **c, struct err *e)
{
	_cleanup_free_ char *path = test_put_file("vm-case.ini", text, 0644);

	e->msg[0] = '\0';
	*c = NULL;
	return vmconfig_load(path, c, e);
}

/* Loads text, expects it accepted with one [vfio] section whose header is on header_line. */
static void check_accepted(const char *text, unsigned header_line)
{
	struct vm_config *c;
	struct err e;
	int r = load_text(text, &c, &e);

	CHECK(r == 0);
	if (r < 0) {
		fprintf(stderr, "refused (%s): %s\n", e.msg, text);
		return;
	}
	CHECK(c->n_sections == 1);
	if (c->n_sections == 1) {
		CHECK_STR(c->sections[0].ops->name, "vfio");
		CHECK(c->sections[0].line == header_line);
		CHECK(c->sections[0].data != NULL);
	}
	CHECK_CONTAINS(c->path, "vm-case.ini");
	vmconfig_free(c);
}

/* Expects text refused: -EINVAL, message starting "FILE:LINE: " and containing what. */
static void check_refused(const char *text, unsigned line, const char *what)
{
	struct vm_config *c;
	struct err e;
	_cleanup_free_ char *where = xasprintf("%s/vm-case.ini:%u: ", test_tmpdir, line);
	int r = load_text(text, &c, &e);

	CHECK(r == -EINVAL);
	if (r == 0) {
		fprintf(stderr, "accepted: %s\n", text);
		vmconfig_free(c);
		return;
	}
	CHECK(c == NULL);
	if (strncmp(e.msg, where, strlen(where)) != 0)
		fprintf(stderr, "  message: %s\n  expected prefix: %s\n", e.msg, where);
	CHECK(strncmp(e.msg, where, strlen(where)) == 0);
	CHECK_CONTAINS(e.msg, what);
}

static void test_accepts(void)
{
	static const char *const bools[] = { "yes", "no", "true", "false", "on", "off", "1", "0" };

	check_accepted("[vfio]\ndevices = auto\ncompanions = yes\n", 1);
	check_accepted("; a VM with a GPU\n# and its audio function\n\n[vfio]\n", 4);
	check_accepted("[vfio] ; trailing comment\ndevices = auto ; every hostdev\n", 1);
	check_accepted("  [vfio]\n  devices=0000:01:00.0\n", 1);
	check_accepted("[vfio]\ndevices = 0000:01:00.0 0000:01:00.1,0000:02:00.0, 01:00.3\n", 1);
	check_accepted("\n\n[ vfio ]\n", 3);
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
		char text[64];

		snprintf(text, sizeof(text), "[vfio]\ncompanions = %s\n", bools[i]);
		check_accepted(text, 1);
	}
	/* A file with no sections plans nothing, and is fine. */
	{
		struct vm_config *c;
		struct err e;

		CHECK(load_text("; nothing to do for this VM\n", &c, &e) == 0);
		CHECK(c && c->n_sections == 0);
		vmconfig_free(c);
		CHECK(load_text("", &c, &e) == 0);
		CHECK(c && c->n_sections == 0);
		vmconfig_free(c);
	}
}

static void test_refuses(void)
{
	check_refused("[vfio]\ndevices = auto\n\n[gpu]\n", 4, "unknown section [gpu] (known: [vfio]");
	/* [exec NAME] may repeat (one per imported script); other sections take no name */
	check_refused("[vfio gpu]\ndevices = auto\n", 1, "[vfio] appears once and takes no name (got 'gpu')");
	check_refused("[exec a]\nprepare = /bin/true\n[exec a]\nprepare = /bin/true\n", 3,
		      "duplicate section [exec a] (first at line 1)");
	check_refused("[exec]\nprepare = /bin/true\n[exec]\nprepare = /bin/true\n", 3, "name each one: [exec NAME]");
	check_refused("[exec a:b]\nprepare = /bin/true\n", 1, "may not be empty or contain ':'");
	{
		struct vm_config *c;
		struct err e;

		CHECK(load_text("[exec one]\nprepare = /bin/true\n[exec two]\nprepare = /bin/true\n", &c, &e) == 0);
		if (c) {
			CHECK(c->n_sections == 2);
			CHECK_STR(c->sections[0].label, "one");
			CHECK_STR(c->sections[1].label, "two");
			vmconfig_free(c);
		}
	}
	check_refused("[vfio]\ndevices = auto\n[vfio]\n", 3, "duplicate section [vfio] (first at line 1)");
	check_refused("\n[vfio]\n[ vfio ]\n", 3, "first at line 2");
	check_refused("[vfio]\ndevices = auto\nbogus = 1\n", 3, "unknown key 'bogus' in [vfio]");
	check_refused("[vfio]\ndevices = 0000:01:00.0, 01:0g:00.0\n", 2, "'01:0g:00.0' is not a PCI address");
	check_refused("[vfio]\ndevices = gpu\n", 2, "[vfio] devices: 'gpu' is not a PCI address");
	check_refused("[vfio]\ndevices =\n", 2, "expected 'auto' or a list of PCI addresses");
	check_refused("[vfio]\ndevices = , ,\n", 2, "expected 'auto' or a list of PCI addresses");
	check_refused("[vfio]\n\ncompanions = maybe\n", 3, "[vfio] companions: expected yes or no, got 'maybe'");
	check_refused("devices = auto\n[vfio]\n", 1, "'devices' outside of any section");
	check_refused("# comment\n\ncompanions = yes\n", 3, "outside of any section");
	check_refused("[vfio]\ndevices auto\n", 2, "syntax error");
	check_refused("[vfio\ndevices = auto\n", 1, "unterminated section header");
	/* An indented line after a key is an inih continuation: it must not silently replace the value. */
	check_refused("[vfio]\ndevices = 0000:01:00.0\n    0000:02:00.0\n", 3, "");
}

/* Loads len bytes (NUL bytes and all) as vm-case.ini. */
static int load_bytes(const char *data, size_t len, struct vm_config **c, struct err *e)
{
	_cleanup_free_ char *path = test_put_bytes("vm-case.ini", data, len, 0644);

	e->msg[0] = '\0';
	*c = NULL;
	return vmconfig_load(path, c, e);
}

/* A NUL byte hid the rest of its line from inih (a key after column 199 of a comment line), a UTF-8
 * BOM made the first header a key. */
static void test_nul_and_bom(void)
{
	_cleanup_free_ char *where = xasprintf("%s/vm-case.ini:3: refusing a NUL byte", test_tmpdir);
	char hidden[400];
	struct vm_config *c;
	struct err e;
	static const char value[] = "[vfio]\ndevices = auto\0 junk\n";
	int n = snprintf(hidden, sizeof(hidden), "[exec a]\nprepare = /bin/true\n; note%c%*s\nrelease = /bin/false\n",
			 0, 200, "");

	CHECK(load_bytes(hidden, (size_t)n, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, where);
	vmconfig_free(c);
	CHECK(load_bytes(value, sizeof(value) - 1, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "vm-case.ini:2: refusing a NUL byte");
	vmconfig_free(c);
	check_accepted("\xEF\xBB\xBF[vfio]\ndevices = auto\n", 1);
	check_refused("devices = auto\n\xEF\xBB\xBF[vfio]\n", 1, "outside of any section"); /* only a leading one */
}

/* Loading is linear (a duplicate among 30000 sections is found at once; bench/ has the figures) and
 * bounded: a file over CONF_FILE_MAX is refused before it is read. */
static void test_size(void)
{
	size_t cap = CONF_FILE_MAX + 4096, len = 0;
	_cleanup_free_ char *big = xmalloc(cap);
	struct vm_config *c;
	struct err e;

	for (unsigned i = 0; i < 30000; i++)
		len += (size_t)sprintf(big + len, "[exec s%u]\nprepare = /bin/true\n", i);
	CHECK(load_bytes(big, len, &c, &e) == 0);
	CHECK(c && c->n_sections == 30000);
	vmconfig_free(c);
	len += (size_t)sprintf(big + len, "[exec s7]\n");
	CHECK(load_bytes(big, len, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, ":60001: duplicate section [exec s7] (first at line 15)");
	memset(big, ';', cap);
	CHECK(load_bytes(big, CONF_FILE_MAX + 1, &c, &e) == -EFBIG);
	CHECK_CONTAINS(e.msg, "refusing a config file of 1048577 bytes (at most 1048576)");
	vmconfig_free(c);
}

/* A FIFO (or any non-regular file) is refused before it is opened: it never blocks. */
static void test_fifo(void)
{
	_cleanup_free_ char *path = xasprintf("%s/vm-fifo.ini", test_tmpdir);
	struct vm_config *c = NULL;
	struct err e;

	CHECK(mkfifo(path, 0644) == 0);
	alarm(20); /* before the fix this open blocked forever: die instead of hanging the suite */
	CHECK(vmconfig_load(path, &c, &e) == -EINVAL);
	alarm(0);
	CHECK_CONTAINS(e.msg, "refusing a FIFO: not a regular file");
	vmconfig_free(c);
}

static void test_missing_and_permissions(void)
{
	_cleanup_free_ char *missing = xasprintf("%s/vm-absent.ini", test_tmpdir);
	_cleanup_free_ char *ww = test_put_file("vm-world-writable.ini", "[vfio]\n", 0666);
	_cleanup_free_ char *gw = test_put_file("vm-group-writable.ini", "[vfio]\n", 0620);
	_cleanup_free_ char *foreign = test_put_file("vm-foreign.ini", "[vfio]\n", 0644);
	struct vm_config *c = NULL;
	struct err e;

	e.msg[0] = '\0';
	CHECK(vmconfig_load(missing, &c, &e) == -ENOENT);
	CHECK(e.msg[0] == '\0');
	CHECK(c == NULL);

	CHECK(vmconfig_load(ww, &c, &e) == -EPERM);
	CHECK_CONTAINS(e.msg, ww);
	CHECK_CONTAINS(e.msg, "writable by group or others");
	CHECK(vmconfig_load(gw, &c, &e) == -EPERM);
	CHECK_CONTAINS(e.msg, gw);
	CHECK(c == NULL);

	if (chown(foreign, 65534, 65534) == 0 && geteuid() != 65534) {
		CHECK(vmconfig_load(foreign, &c, &e) == -EPERM);
		CHECK_CONTAINS(e.msg, foreign);
		CHECK_CONTAINS(e.msg, "not owned by root");
	} else
		fprintf(stderr, "skipped: cannot chown a file to another user\n");

	CHECK(vmconfig_load(test_tmpdir, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "not a regular file");
}

/* inih (Debian's build) reads lines into a 200-byte buffer: a longer line is refused as one line,
 * with its own number, never cut in two and half-parsed. 14 addresses still fit. */
static void test_long_lines(void)
{
	char text[1024] = "[vfio]\ndevices =";
	struct vm_config *c;
	struct err e;
	int r;

	for (unsigned i = 1; i <= 14; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " 0000:%02x:00.0", i);
	strcat(text, "\ncompanions = no\n");
	r = load_text(text, &c, &e);
	if (r < 0)
		fprintf(stderr, "a 14-address devices= line was refused: %s\n", e.msg);
	CHECK(r == 0);
	if (r == 0) {
		CHECK(c->n_sections == 1);
		vmconfig_free(c);
	}

	check_refused("[vfio]\ndevices = 0000:01:00.0 0000:01:00.1 0000:02:00.0 0000:02:00.1 0000:03:00.0 "
		      "0000:03:00.1 0000:04:00.0 0000:04:00.1 0000:05:00.0 0000:05:00.1 0000:06:00.0 "
		      "0000:06:00.1 0000:07:00.0 0000:07:00.1 0000:08:00.0 0000:08:00.1 bad\n",
		      2, "line longer than 198 characters");
}

int main(void)
{
	test_tmpdir_create("vmconfig");
	test_accepts();
	test_refuses();
	test_missing_and_permissions();
	test_long_lines();
	test_nul_and_bom();
	test_size();
	test_fifo();
	test_tmpdir_remove();
	return TEST_DONE();
}
