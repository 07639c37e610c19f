/* plan.c and the [vfio] planner: phases, rendering, and plans built against a small simulated root. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf.h"
#include "domain.h"
#include "fixture.h"
#include "plan.h"
#include "test.h"
#include "vmconfig.h"

/* Everything lives in test_tmpdir: the simulated root is <test_tmpdir>/root. Nothing points at the real /. */
static char *root; /* <test_tmpdir>/root */

/* The host: a GPU + HDMI audio behind a root port (all in group 1), and a few cases around it. */
static void sim_root(void)
{
	root = xasprintf("%s/root", test_tmpdir);
	test_pci_root(root);
	test_pci_device(root, "0000:00:01.0", 0x8086, 0x1901, 0x060400, false, "pcieport", 1);
	test_pci_device(root, "0000:01:00.0", 0x10de, 0x2204, 0x030000, true, "nvidia", 1);
	test_pci_device(root, "0000:01:00.1", 0x10de, 0x1aef, 0x040300, true, "snd_hda_intel", 1);
	test_pci_device(root, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, false, "e1000e", 2);
	/* A GPU whose audio function has its own group (ACS): companions=no is viable there. */
	test_pci_device(root, "0000:03:00.0", 0x10de, 0x2204, 0x030000, true, "nvidia", 3);
	test_pci_device(root, "0000:03:00.1", 0x10de, 0x1aef, 0x040300, true, "snd_hda_intel", 13);
	/* Group 4: a GPU sharing its group with a USB controller the host still uses. */
	test_pci_device(root, "0000:04:00.0", 0x1002, 0x73bf, 0x030000, false, "amdgpu", 4);
	test_pci_device(root, "0000:05:00.0", 0x1b21, 0x1242, 0x0c0330, false, "xhci_hcd", 4);
	/* Already on vfio-pci. */
	test_pci_device(root, "0000:06:00.0", 0x10de, 0x1c82, 0x030000, false, "vfio-pci", 6);
	/* No driver at all. */
	test_pci_device(root, "0000:07:00.0", 0x10de, 0x1c82, 0x030000, false, NULL, 7);
	/* Group 10: the other endpoints are unbound, on vfio-pci or on pci-stub: viable. */
	test_pci_device(root, "0000:0a:00.0", 0x10de, 0x2204, 0x030000, false, "nvidia", 10);
	test_pci_device(root, "0000:0b:00.0", 0x8086, 0x10d3, 0x020000, false, NULL, 10);
	test_pci_device(root, "0000:0c:00.0", 0x8086, 0x10d3, 0x020000, false, "vfio-pci", 10);
	test_pci_device(root, "0000:0d:00.0", 0x8086, 0x10d3, 0x020000, false, "pci-stub", 10);
	/* No IOMMU group (IOMMU off for it). */
	test_pci_device(root, "0000:0e:00.0", 0x10de, 0x2204, 0x030000, false, "nvidia", -1);
}

static const char DOMAIN_XML[] =
	"<domain type='kvm'>\n"
	"  <name>win11</name>\n"
	"  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>\n"
	"  <devices>\n"
	"    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
	"      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>\n"
	"    </hostdev>\n"
	"  </devices>\n"
	"</domain>\n";

static const char GPU3_XML[] =
	"<domain type='kvm'><name>gpu3</name><devices>"
	"<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x03' "
	"slot='0x00' function='0x0'/></source></hostdev></devices></domain>";

struct fixture {
	struct hookd_conf conf;
	struct domain *dom;
	struct action_ctx ctx;
};

static void fixture_init(struct fixture *f, const char *xml)
{
	_cleanup_free_ char *absent = xasprintf("%s/no-hookd.conf", test_tmpdir);
	struct err e = { "" };

	if (conf_load(absent, false, &f->conf, &e) < 0 || domain_parse(xml, strlen(xml), &f->dom, &e) < 0) {
		fprintf(stderr, "fixture: %s\n", e.msg);
		exit(2);
	}
	conf_set_root(&f->conf, root);
	f->ctx = (struct action_ctx){ .conf = &f->conf, .dom = f->dom, .vm = "win11", .describe = false };
}

static void fixture_free(struct fixture *f)
{
	domain_free(f->dom);
	conf_free(&f->conf);
}

/* Loads ini (written with mode 0644 into the temp dir) and builds the plan of phase. */
static int build(struct fixture *f, const char *ini, enum phase phase, struct plan **p, struct err *e)
{
	_cleanup_free_ char *path = test_put_file("vm-plan.ini", ini, 0644);
	struct vm_config *cfg = NULL;
	int r;

	e->msg[0] = '\0';
	*p = NULL;
	r = vmconfig_load(path, &cfg, e);
	if (r < 0) {
		fprintf(stderr, "vmconfig_load: %s\n", e->msg);
		return r;
	}
	r = plan_build(&f->ctx, cfg, phase, p, e);
	vmconfig_free(cfg);
	return r;
}

/* Checks st is "bind bdf" from drv (NULL: unbound), with exactly the rooted sysfs writes the kernel needs. */
static void check_bind(const struct step *st, const char *bdf, const char *drv)
{
	_cleanup_free_ char *ovr = xasprintf("%s/sys/bus/pci/devices/%s/driver_override <- vfio-pci", root, bdf);
	_cleanup_free_ char *unb = drv ? xasprintf("%s/sys/bus/pci/drivers/%s/unbind <- %s", root, drv, bdf) : NULL;
	_cleanup_free_ char *probe = xasprintf("%s/sys/bus/pci/drivers_probe <- %s", root, bdf);
	_cleanup_free_ char *desc = xasprintf("%s: %s -> vfio-pci", bdf, drv ? drv : "(no driver)");
	size_t k = 0;

	CHECK_STR(st->ops->name, "vfio");
	CHECK_STR(st->op, "bind");
	CHECK_STR(st->target, bdf);
	CHECK_STR(st->value, "vfio-pci");
	CHECK_STR(st->desc, desc);
	CHECK(st->revertible);
	CHECK(st->n_writes == (drv ? 3u : 2u));
	if (st->n_writes != (drv ? 3u : 2u))
		return;
	CHECK_STR(st->writes[k++], ovr);
	if (drv)
		CHECK_STR(st->writes[k++], unb);
	CHECK_STR(st->writes[k], probe);
}

static void check_load_module(const struct step *st, bool loaded)
{
	CHECK_STR(st->ops->name, "vfio");
	CHECK_STR(st->op, "load-module");
	CHECK_STR(st->target, "vfio-pci");
	CHECK_STR(st->value, "");
	CHECK(!st->revertible);
	CHECK(st->n_writes == 0);
	CHECK_STR(st->desc, loaded ? "load module vfio-pci through libkmod (already loaded: nothing to do)"
				   : "load module vfio-pci through libkmod");
}

static void test_phase_from_name(void)
{
	static const struct {
		const char *name;
		enum phase p;
	} known[] = {
		{ "prepare", PHASE_PREPARE }, { "started", PHASE_STARTED }, { "release", PHASE_RELEASE },
		{ "start", PHASE_NONE },      { "stopped", PHASE_NONE },    { "reconnect", PHASE_NONE },
		{ "migrate", PHASE_NONE },    { "restore", PHASE_NONE },    { "attach", PHASE_NONE },
	};
	static const char *const unknown[] = { "", "none", "Prepare", "begin", "end", "prepare ", "stop" };

	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		enum phase p = (enum phase) - 1;

		CHECK(phase_from_name(known[i].name, &p) == 0);
		CHECK(p == known[i].p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		enum phase p = PHASE_STARTED;

		CHECK(phase_from_name(unknown[i], &p) == -EINVAL);
		CHECK(p == PHASE_STARTED);
	}
	CHECK_STR(phase_name(PHASE_PREPARE), "prepare");
	CHECK_STR(phase_name(PHASE_STARTED), "started");
	CHECK_STR(phase_name(PHASE_RELEASE), "release");
	CHECK_STR(phase_name(PHASE_NONE), "none");
}

/* Renders the plan to a string with f (plan_print_text or plan_print_json). */
static char *render(void (*f)(const struct plan *, const char *, FILE *), const struct plan *p, const char *vm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = xopen_memstream(&buf, &len);

	f(p, vm, out);
	fclose(out);
	return buf;
}

static struct plan *hand_built_plan(void)
{
	const struct action_ops *vfio = action_find("vfio");
	struct plan *p = xcalloc(1, sizeof(*p));
	struct step *st;

	p->phase = PHASE_PREPARE;
	st = plan_add(p, vfio, "load-module", "vfio-pci", NULL, xstrdup("load module vfio-pci"));
	st->revertible = false;
	st = plan_add(p, vfio, "bind", "0000:01:00.0", "vfio-pci",
		      xstrdup("GPU \"Big\" C:\\gpu\nsecond line\ttab \x01"));
	step_add_write(st, "/sim/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci");
	step_add_write(st, "/sim/sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0");
	st = plan_add(p, vfio, "bind", "0000:01:00.1", "vfio-pci", xstrdup("audio"));
	step_add_write(st, "/sim/sys/bus/pci/drivers_probe", "a \"quoted\" \\ value");
	return p;
}

static void test_print_hand_built(void)
{
	struct plan *p = hand_built_plan();
	_cleanup_free_ char *text = render(plan_print_text, p, "win11");
	_cleanup_free_ char *json = render(plan_print_json, p, "win \"11\"");

	CHECK(p->n == 3);
	CHECK_STR(p->steps[0].value, "");
	CHECK_STR(text, "VM win11, phase prepare: 3 steps\n"
			"  1. [vfio] load module vfio-pci (kept on release)\n"
			"  2. [vfio] GPU \"Big\" C:\\gpu\nsecond line\ttab \x01\n"
			"       write /sim/sys/bus/pci/devices/0000:01:00.0/driver_override <- vfio-pci\n"
			"       write /sim/sys/bus/pci/drivers/nvidia/unbind <- 0000:01:00.0\n"
			"  3. [vfio] audio\n"
			"       write /sim/sys/bus/pci/drivers_probe <- a \"quoted\" \\ value\n"
			"On release these steps are undone in reverse order, from the journal.\n");
	CHECK_STR(json,
		  "{\"vm\": \"win \\\"11\\\"\", \"phase\": \"prepare\", \"steps\": ["
		  "{\"action\": \"vfio\", \"op\": \"load-module\", \"target\": \"vfio-pci\", \"value\": \"\", "
		  "\"description\": \"load module vfio-pci\", \"revert_on_release\": false, \"writes\": []}, "
		  "{\"action\": \"vfio\", \"op\": \"bind\", \"target\": \"0000:01:00.0\", \"value\": \"vfio-pci\", "
		  "\"description\": \"GPU \\\"Big\\\" C:\\\\gpu\\nsecond line\\ttab \\u0001\", "
		  "\"revert_on_release\": true, \"writes\": ["
		  "{\"path\": \"/sim/sys/bus/pci/devices/0000:01:00.0/driver_override\", \"value\": \"vfio-pci\"}, "
		  "{\"path\": \"/sim/sys/bus/pci/drivers/nvidia/unbind\", \"value\": \"0000:01:00.0\"}]}, "
		  "{\"action\": \"vfio\", \"op\": \"bind\", \"target\": \"0000:01:00.1\", \"value\": \"vfio-pci\", "
		  "\"description\": \"audio\", \"revert_on_release\": true, \"writes\": ["
		  "{\"path\": \"/sim/sys/bus/pci/drivers_probe\", \"value\": \"a \\\"quoted\\\" \\\\ value\"}]}]}\n");
	plan_free(p);

	/* An empty plan. */
	p = xcalloc(1, sizeof(*p));
	p->phase = PHASE_NONE;
	{
		_cleanup_free_ char *t = render(plan_print_text, p, "vm");
		_cleanup_free_ char *j = render(plan_print_json, p, "vm");

		CHECK_STR(t, "VM vm, phase none: 0 steps\n");
		CHECK_STR(j, "{\"vm\": \"vm\", \"phase\": \"none\", \"steps\": []}\n");
	}
	plan_free(p);
	plan_free(NULL);
}

/* A write path is as much a JSON string as a description: a root with '"' or '\' must stay valid JSON. */
static void test_json_escapes_paths(void)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	struct step *st = plan_add(p, action_find("vfio"), "bind", "0000:01:00.0", "vfio-pci", xstrdup("d"));
	_cleanup_free_ char *json = NULL;

	p->phase = PHASE_PREPARE;
	step_add_write(st, "/tmp/a \"b\" \\c/drivers_probe", "0000:01:00.0");
	json = render(plan_print_json, p, "vm");
	CHECK_CONTAINS(json, "{\"path\": \"/tmp/a \\\"b\\\" \\\\c/drivers_probe\", \"value\": \"0000:01:00.0\"}");
	plan_free(p);
}

static void test_vfio_auto_with_companions(void)
{
	struct fixture f;
	struct plan *p;
	struct err e;

	_cleanup_free_ char *drv = test_rooted(root, "sys/bus/pci/drivers/vfio-pci");
	_cleanup_free_ char *away = test_rooted(root, "sys/bus/pci/vfio-pci-unloaded");

	fixture_init(&f, DOMAIN_XML);
	/* vfio-pci not loaded (no driver directory): the step loads it. */
	if (rename(drv, away) < 0)
		test_die("rename", drv);
	CHECK(build(&f, "[vfio]\ndevices = auto\ncompanions = yes\n", PHASE_PREPARE, &p, &e) == 0);
	if (rename(away, drv) < 0)
		test_die("rename", away);
	if (!p) {
		fprintf(stderr, "plan_build: %s\n", e.msg);
		fixture_free(&f);
		return;
	}
	CHECK(p->phase == PHASE_PREPARE);
	CHECK(p->n == 3);
	if (p->n == 3) {
		check_load_module(&p->steps[0], false);
		check_bind(&p->steps[1], "0000:01:00.0", "nvidia");
		check_bind(&p->steps[2], "0000:01:00.1", "snd_hda_intel");
	}
	/* The text rendering of a built plan names every write under the root. */
	{
		_cleanup_free_ char *text = render(plan_print_text, p, "win11");
		_cleanup_free_ char *w =
			xasprintf("       write %s/sys/bus/pci/drivers/snd_hda_intel/unbind <- 0000:01:00.1\n", root);

		CHECK_CONTAINS(text, "VM win11, phase prepare: 3 steps\n");
		CHECK_CONTAINS(text, w);
	}
	plan_free(p);

	/* The defaults are auto + companions. */
	CHECK(build(&f, "[vfio]\n", PHASE_PREPARE, &p, &e) == 0);
	CHECK(p && p->n == 3);
	plan_free(p);

	/* The other phases have no [vfio] steps. */
	CHECK(build(&f, "[vfio]\n", PHASE_RELEASE, &p, &e) == 0);
	CHECK(p && p->n == 0 && p->phase == PHASE_RELEASE);
	plan_free(p);
	CHECK(build(&f, "[vfio]\n", PHASE_STARTED, &p, &e) == 0);
	CHECK(p && p->n == 0);
	plan_free(p);
	CHECK(build(&f, "[vfio]\n", PHASE_NONE, &p, &e) == 0);
	CHECK(p && p->n == 0);
	plan_free(p);

	/* No sections: nothing to do. */
	CHECK(build(&f, "; empty\n", PHASE_PREPARE, &p, &e) == 0);
	CHECK(p && p->n == 0);
	plan_free(p);

	/* vfio-pci loaded: the step says so. */
	CHECK(build(&f, "[vfio]\n", PHASE_PREPARE, &p, &e) == 0);
	if (p && p->n)
		check_load_module(&p->steps[0], true);
	plan_free(p);
	fixture_free(&f);
}

static void test_vfio_lists(void)
{
	struct fixture f;
	struct plan *p;
	struct err e;

	fixture_init(&f, GPU3_XML);

	/* companions = no: the hostdev alone; yes: with its audio function. */
	CHECK(build(&f, "[vfio]\ncompanions = no\n", PHASE_PREPARE, &p, &e) == 0);
	CHECK(p && p->n == 2);
	if (p && p->n == 2) {
		check_load_module(&p->steps[0], true);
		check_bind(&p->steps[1], "0000:03:00.0", "nvidia");
	}
	plan_free(p);
	CHECK(build(&f, "[vfio]\ncompanions = yes\n", PHASE_PREPARE, &p, &e) == 0);
	CHECK(p && p->n == 3);
	if (p && p->n == 3) {
		check_bind(&p->steps[1], "0000:03:00.0", "nvidia");
		check_bind(&p->steps[2], "0000:03:00.1", "snd_hda_intel");
	}
	plan_free(p);

	/* An explicit list, in its order; duplicates and the short form collapse. */
	CHECK(build(&f, "[vfio]\ndevices = 02:00.0, 0000:07:00.0 0000:02:00.0\ncompanions = off\n", PHASE_PREPARE, &p,
		    &e) == 0);
	CHECK(p && p->n == 3);
	if (p && p->n == 3) {
		check_bind(&p->steps[1], "0000:02:00.0", "e1000e");
		check_bind(&p->steps[2], "0000:07:00.0", NULL);
	}
	plan_free(p);

	/* Already on vfio-pci: a step that writes nothing. */
	CHECK(build(&f, "[vfio]\ndevices = 0000:06:00.0\n", PHASE_PREPARE, &p, &e) == 0);
	CHECK(p && p->n == 2);
	if (p && p->n == 2) {
		CHECK_STR(p->steps[1].op, "bind");
		CHECK_STR(p->steps[1].target, "0000:06:00.0");
		CHECK(p->steps[1].n_writes == 0);
		CHECK_STR(p->steps[1].desc, "0000:06:00.0: already on vfio-pci, nothing to do");
	}
	plan_free(p);

	/* Group 10's other endpoints are unbound, on vfio-pci or pci-stub: viable. */
	CHECK(build(&f, "[vfio]\ndevices = 0000:0a:00.0\n", PHASE_PREPARE, &p, &e) == 0);
	if (e.msg[0])
		fprintf(stderr, "group 10: %s\n", e.msg);
	CHECK(p && p->n == 2);
	if (p && p->n == 2)
		check_bind(&p->steps[1], "0000:0a:00.0", "nvidia");
	plan_free(p);
	fixture_free(&f);
}

/* A continuation line (indented) must add to devices= or be refused; never silently replace the list. */
static void test_vfio_devices_continuation(void)
{
	struct fixture f;
	struct plan *p;
	struct err e;
	int r;

	fixture_init(&f, DOMAIN_XML);
	r = build(&f, "[vfio]\ndevices = 0000:02:00.0\n    0000:07:00.0\ncompanions = no\n", PHASE_PREPARE, &p, &e);
	if (r == 0) {
		CHECK(p->n == 3);
		for (size_t i = 0; i < p->n; i++)
			fprintf(stderr, "continuation plan step %zu: %s %s\n", i, p->steps[i].op, p->steps[i].target);
		if (p->n == 3) {
			CHECK_STR(p->steps[1].target, "0000:02:00.0");
			CHECK_STR(p->steps[2].target, "0000:07:00.0");
		}
		plan_free(p);
	}
	fixture_free(&f);
}

static void test_vfio_refusals(void)
{
	static const char MISSING_XML[] =
		"<domain type='kvm'><name>w</name><devices>"
		"<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x09' slot='0x00' "
		"function='0x0'/></source></hostdev></devices></domain>";
	struct fixture f;
	struct plan *p;
	struct err e;
	_cleanup_free_ char *where = xasprintf("[vfio] (%s/vm-plan.ini:2): ", test_tmpdir);

	fixture_init(&f, DOMAIN_XML);

	/* companions=no leaves 01:00.1 (snd_hda_intel) in the GPU's group: not viable. */
	CHECK(build(&f, "\n[vfio]\ncompanions = no\n", PHASE_PREPARE, &p, &e) == -EBUSY);
	CHECK(p == NULL);
	CHECK(strncmp(e.msg, where, strlen(where)) == 0);
	CHECK_CONTAINS(e.msg, "IOMMU group 1 of 0000:01:00.0 is not viable: 0000:01:00.1");
	CHECK_CONTAINS(e.msg, "is bound to snd_hda_intel");

	/* A foreign endpoint bound to a host driver in the group. */
	CHECK(build(&f, "\n[vfio]\ndevices = 0000:04:00.0\n", PHASE_PREPARE, &p, &e) == -EBUSY);
	CHECK(p == NULL);
	CHECK(strncmp(e.msg, where, strlen(where)) == 0);
	CHECK_CONTAINS(e.msg, "IOMMU group 4 of 0000:04:00.0 is not viable: 0000:05:00.0");
	CHECK_CONTAINS(e.msg, "is bound to xhci_hcd");

	/* A listed device that is not there. */
	CHECK(build(&f, "\n[vfio]\ndevices = 0000:01:00.0 0000:09:00.0\n", PHASE_PREPARE, &p, &e) == -ENODEV);
	CHECK(p == NULL);
	CHECK(strncmp(e.msg, where, strlen(where)) == 0);
	CHECK_CONTAINS(e.msg, "0000:09:00.0: no such PCI device on this host");

	/* No IOMMU group. */
	CHECK(build(&f, "[vfio]\ndevices = 0000:0e:00.0\n", PHASE_PREPARE, &p, &e) == -ENODEV);
	CHECK_CONTAINS(e.msg, "0000:0e:00.0 has no IOMMU group");
	fixture_free(&f);

	/* A domain hostdev that is not there (devices = auto). */
	fixture_init(&f, MISSING_XML);
	CHECK(build(&f, "\n[vfio]\n", PHASE_PREPARE, &p, &e) == -ENODEV);
	CHECK(p == NULL);
	CHECK_CONTAINS(e.msg, "0000:09:00.0: no such PCI device on this host");
	fixture_free(&f);
}

int main(void)
{
	test_tmpdir_create("plan");
	sim_root();
	test_phase_from_name();
	test_print_hand_built();
	test_json_escapes_paths();
	test_vfio_auto_with_companions();
	test_vfio_lists();
	test_vfio_devices_continuation();
	test_vfio_refusals();
	test_tmpdir_remove();
	free(root);
	return TEST_DONE();
}
