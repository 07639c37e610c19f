/* aapolicy.c: the exec rules of the stock libvirt profiles (tests/unit/data/apparmor holds Debian's
 * usr.sbin.libvirtd verbatim and upstream's usr.sbin.virtqemud), and the syntax around them. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "aapolicy.h"
#include "fixture.h"
#include "test.h"

static const struct aarule *find(const struct aapolicy *p, const char *pattern)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].pattern, pattern) == 0)
			return &p->rules[i];
	return NULL;
}

static void test_debian_libvirtd(void)
{
	struct aapolicy *p = NULL;
	const struct aarule *r;
	struct err e;

	CHECK(aapolicy_load(TEST_DATA_DIR, "/apparmor", "usr.sbin.libvirtd", "libvirtd", &p, &e) == 0);
	if (!p)
		return;
	CHECK(p->found);
	r = find(p, "/usr/sbin/*");
	CHECK(r && strcmp(r->perms, "PUx") == 0 && !r->deny);
	CHECK(r && r->line == 92 && strstr(r->file, "/apparmor/usr.sbin.libvirtd"));
	CHECK_STR(r ? r->text : NULL, "/usr/sbin/* PUx,");
	r = find(p, "/etc/libvirt/hooks/**");
	CHECK(r && strcmp(r->perms, "rmix") == 0);
	r = find(p, "/usr/sbin/virtlogd");
	CHECK(r && strcmp(r->perms, "pix") == 0);
	r = find(p, "/usr/lib/libvirt/*");
	CHECK(r && strcmp(r->perms, "PUxr") == 0);
	r = find(p, "/{usr/,}sbin/apparmor_parser");
	CHECK(r && r->deny && r->audit && strcmp(r->perms, "rwxl") == 0);
	CHECK_STR(r ? r->text : NULL, "audit deny /{usr/,}sbin/apparmor_parser rwxl,");
	r = find(p, "/usr/{lib,lib64,lib/qemu,libexec}/qemu-bridge-helper");
	CHECK(r && strcmp(r->perms, "Cx") == 0 && r->target && strcmp(r->target, "qemu_bridge_helper") == 0);
	/* no rule without x, none of the nested qemu_bridge_helper profile (its own rmix rule) */
	CHECK(!find(p, "/**") && !find(p, "/sys/kernel/security/apparmor/profiles"));
	for (size_t i = 0; i < p->n_rules; i++)
		CHECK(strcmp(p->rules[i].perms, "rmix") != 0 || strstr(p->rules[i].pattern, "hooks") ||
		      strstr(p->rules[i].pattern, "xen") || strstr(p->rules[i].pattern, "ld"));
	/* the abstraction's rules count (included inside the body), its variables resolve */
	CHECK(find(p, "/{usr/,}lib/@{multiarch}/ld{,32,-linux*}.so*") != NULL);
	CHECK(aaglob_match("/{usr/,}lib/@{multiarch}/ld{,32,-linux*}.so*", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
			   &p->vars));
	CHECK(aaglob_match("@{LIBVIRT}-x", "libvirt-x", &p->vars)); /* a quoted value */
	CHECK(aaglob_match("@{PROC}/1", "/proc/1", &p->vars));      /* tunables/global includes tunables/proc */
	/* abstractions/dbus is not in the fixture: reported, not fatal */
	CHECK(p->n_missing == 1 && strstr(p->missing[0], "abstractions/dbus"));
	aapolicy_free(p);
}

static void test_virtqemud_and_errors(void)
{
	struct aapolicy *p = NULL;
	struct err e;

	CHECK(aapolicy_load(TEST_DATA_DIR, "/apparmor", "usr.sbin.virtqemud", "virtqemud", &p, &e) == 0);
	CHECK(p && p->found && find(p, "/usr/libexec/*") && find(p, "/etc/libvirt/hooks/**"));
	aapolicy_free(p);
	p = NULL;
	/* the file exists but defines another profile */
	CHECK(aapolicy_load(TEST_DATA_DIR, "/apparmor", "usr.sbin.virtqemud", "libvirtd", &p, &e) == 0);
	CHECK(p && !p->found && p->n_rules == 0);
	aapolicy_free(p);
	p = NULL;
	CHECK(aapolicy_load(TEST_DATA_DIR, "/apparmor", "usr.sbin.nothing", "x", &p, &e) == -ENOENT);
	CHECK_CONTAINS(e.msg, "usr.sbin.nothing");
}

/* A written profile: the syntax corners that decide which rules are the main profile's. */
static void test_syntax(void)
{
	static const char text[] = "# comment /usr/bin/* ix,\n"
				   "abi <abi/3.0>,\n"
				   "include if exists <nothing/here>\n"
				   "@{D} = /opt/a /opt/b\n"
				   "@{D} += /opt/c\n"
				   "${B} = true\n"
				   "profile other /usr/bin/other {\n"
				   "  /other/* ix,\n"
				   "}\n"
				   "/usr/sbin/mine flags=(complain) {\n"
				   "  owner /own/* Px -> target,\n"
				   "  allow file ux /permfirst/*,   # perms before the path\n"
				   "  deny @{D}/x x,\n"
				   "  \"/quoted path/*\" ix,\n"
				   "  /multi/line\n"
				   "     Ux,\n"
				   "  /{a,b}/c ix, /two/per/line ix,\n"
				   "  ^hat {\n"
				   "    /in/hat ix,\n"
				   "  }\n"
				   "  profile child {\n"
				   "    /in/child ix,\n"
				   "    profile grandchild { /in/grandchild ix, }\n"
				   "  }\n"
				   "  /after/child ix,\n"
				   "  /no/exec rwm,\n"
				   "  mount options=(rw, move) /dev/ -> /x/,\n"
				   "}\n";
	_cleanup_free_ char *f = test_put_file("prof", text, 0644);
	struct aapolicy *p = NULL;
	const struct aarule *r;
	struct err e;

	(void)f; /* only its file is read */

	CHECK(aapolicy_load(test_tmpdir, "", "prof", "/usr/sbin/mine", &p, &e) == 0);
	if (!p)
		return;
	CHECK(p->found);
	CHECK(!find(p, "/usr/bin/*") && !find(p, "/other/*") && !find(p, "/in/hat") && !find(p, "/in/child"));
	CHECK(!find(p, "/in/grandchild") && !find(p, "/no/exec") && !find(p, "/x/"));
	r = find(p, "/own/*");
	CHECK(r && r->owner && r->target && strcmp(r->target, "target") == 0);
	r = find(p, "/permfirst/*");
	CHECK(r && strcmp(r->perms, "ux") == 0);
	r = find(p, "@{D}/x");
	CHECK(r && r->deny && aaglob_match(r->pattern, "/opt/c/x", &p->vars) &&
	      aaglob_match(r->pattern, "/opt/a/x", &p->vars));
	CHECK(find(p, "/quoted path/*") != NULL);
	r = find(p, "/multi/line");
	CHECK(r && r->line == 15 && strcmp(r->perms, "Ux") == 0);
	CHECK(find(p, "/{a,b}/c") && find(p, "/two/per/line") && find(p, "/after/child"));
	CHECK(p->n_missing == 0);
	aapolicy_free(p);
}

int main(void)
{
	test_tmpdir_create("aapolicy");
	test_debian_libvirtd();
	test_virtqemud_and_errors();
	test_syntax();
	test_tmpdir_remove();
	return TEST_DONE();
}
