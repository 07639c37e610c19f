/* apparmor.c: the verdict on a hook under a written libvirtd profile, for the exec semantics the
 * stock profiles do not exercise (the sim tests run those): exact rule over glob, Px/Cx needing a
 * loaded profile, owner/other, kill mode, symlink loops, the report's fields and worst verdict. */
#include <stdlib.h>
#include <unistd.h>

#include "apparmor.h"
#include "fixture.h"
#include "test.h"
#include "util.h"

static const char profile_text[] = "@{OPT}=/opt\n"
				   "profile libvirtd /usr/sbin/libvirtd {\n"
				   "  /usr/sbin/* PUx,\n"
				   "  /usr/sbin/virtlogd pix,\n"
				   "  @{OPT}/px/* Px,\n"
				   "  /opt/pxn/* Px -> named,\n"
				   "  /opt/cx/* Cx -> kid,\n"
				   "  owner /opt/own/* ux,\n"
				   "  other /opt/other/* ux,\n"
				   "  /opt/denied/* ux,\n"
				   "  deny /opt/denied/* x,\n"
				   "  /etc/libvirt/hooks/** rmix,\n"
				   "  profile kid {\n"
				   "    /opt/** ux,\n"
				   "  }\n"
				   "}\n";

static char *root;

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *p = test_rooted(root, "%s", rel);
	_cleanup_free_ char *dir = xstrdup(p);

	*strrchr(dir, '/') = '\0';
	test_mkdirs(dir);
	free(test_put_bytes(p + strlen(test_tmpdir) + 1, text, strlen(text), 0755));
}

static void link_hook(const char *target)
{
	_cleanup_free_ char *p = test_rooted(root, "etc/libvirt/hooks/qemu");

	unlink(p);
	if (symlink(target, p) < 0)
		test_die("symlink", p);
}

/* The verdict of the first (or only) profile judging the hook linked to target. */
static enum hookd_aa_verdict verdict_for(const char *loaded, const char *target, struct hookd_aa_report *rep)
{
	put("sys/kernel/security/apparmor/profiles", loaded);
	link_hook(target);
	hookd_aa_check(root, "/etc/libvirt/hooks/qemu", rep);
	return rep->results[rep->worst].verdict;
}

static void test_exact_rule_wins_and_inherit_judges_worker(void)
{
	struct hookd_aa_report rep;

	/* the exact `virtlogd pix` wins over the glob of /usr/sbin: no profile, so ix, so the worker */
	CHECK(verdict_for("libvirtd (enforce)\n", "/usr/sbin/virtlogd", &rep) == HOOKD_AA_ALLOWED);
	CHECK_STR(rep.results[0].rule, "/usr/sbin/virtlogd pix,");
	CHECK(rep.results[0].rule_line == 4);
	CHECK_CONTAINS(rep.results[0].rule_file, "/etc/apparmor.d/usr.sbin.libvirtd");
	CHECK_CONTAINS(rep.results[0].message, "runs it inside the profile");
	CHECK_CONTAINS(rep.results[0].message, "hookd's worker /usr/sbin/hookd-apply unconfined");
	CHECK(rep.results[0].fix == NULL && rep.results[0].denied_path == NULL);
	CHECK_STR(rep.results[0].resolved, "/usr/sbin/virtlogd");
	hookd_aa_report_free(&rep);
	/* the same, with the profile itself loaded for virtlogd: px goes there, no worker judged */
	CHECK(verdict_for("libvirtd (enforce)\n/usr/sbin/virtlogd (enforce)\n", "/usr/sbin/virtlogd", &rep) ==
	      HOOKD_AA_ALLOWED);
	CHECK_CONTAINS(rep.results[0].message, "runs it under its own profile");
	hookd_aa_report_free(&rep);
	/* a hook run inside the profile with no hookd-apply beside it (a foreign hook): the front alone */
	CHECK(verdict_for("libvirtd (enforce)\n", "/etc/libvirt/hooks/dispatcher", &rep) == HOOKD_AA_ALLOWED);
	CHECK_CONTAINS(rep.results[0].message, "(there is no hookd-apply beside it to judge)");
	hookd_aa_report_free(&rep);
}

static void test_profile_transitions(void)
{
	struct hookd_aa_report rep;

	CHECK(verdict_for("libvirtd (enforce)\n", "/opt/px/q", &rep) == HOOKD_AA_DENIED);
	CHECK_CONTAINS(rep.results[0].message, "sends it to a profile of its own, and none is loaded");
	CHECK_STR(rep.results[0].denied_path, "/opt/px/q");
	hookd_aa_report_free(&rep);
	CHECK(verdict_for("libvirtd (enforce)\n/opt/px/q (enforce)\n", "/opt/px/q", &rep) == HOOKD_AA_ALLOWED);
	hookd_aa_report_free(&rep);
	CHECK(verdict_for("libvirtd (enforce)\n", "/opt/pxn/q", &rep) == HOOKD_AA_DENIED);
	hookd_aa_report_free(&rep);
	CHECK(verdict_for("libvirtd (enforce)\nnamed (enforce)\n", "/opt/pxn/q", &rep) == HOOKD_AA_ALLOWED);
	hookd_aa_report_free(&rep);
	CHECK(verdict_for("libvirtd (enforce)\n", "/opt/cx/q", &rep) == HOOKD_AA_DENIED);
	hookd_aa_report_free(&rep);
	CHECK(verdict_for("libvirtd (enforce)\nlibvirtd//kid (enforce)\n", "/opt/cx/q", &rep) == HOOKD_AA_ALLOWED);
	hookd_aa_report_free(&rep);
}

static void test_qualifiers_and_modes(void)
{
	struct hookd_aa_report rep;

	/* libvirtd runs as root and hookd's files are root's: owner rules apply, other rules do not */
	CHECK(verdict_for("libvirtd (enforce)\n", "/opt/own/q", &rep) == HOOKD_AA_ALLOWED);
	hookd_aa_report_free(&rep);
	CHECK(verdict_for("libvirtd (enforce)\n", "/opt/other/q", &rep) == HOOKD_AA_DENIED);
	hookd_aa_report_free(&rep);
	/* deny wins over the allow rule written before it; no local rule is offered */
	CHECK(verdict_for("libvirtd (kill)\n", "/opt/denied/q", &rep) == HOOKD_AA_DENIED);
	CHECK_STR(rep.results[0].rule, "deny /opt/denied/* x,");
	CHECK(rep.results[0].rule_line == 11);
	CHECK_CONTAINS(rep.results[0].fix, "no local rule can override a deny rule");
	CHECK(rep.results[0].fix && !strstr(rep.results[0].fix, "apparmor_parser"));
	hookd_aa_report_free(&rep);
	/* the local rule offered is for the refused path's directory, glob characters escaped */
	CHECK(verdict_for("libvirtd (enforce)\n", "/opt/we{ir}d*/q", &rep) == HOOKD_AA_DENIED);
	CHECK_CONTAINS(rep.results[0].fix,
		       "add the rule `/opt/we\\{ir\\}d\\*/* PUx,` to /etc/apparmor.d/local/usr.sbin.libvirtd");
	hookd_aa_report_free(&rep);
}

static void test_report(void)
{
	struct hookd_aa_report rep;

	/* two daemons: each judged, the worst one indexed */
	CHECK(verdict_for("libvirtd (enforce)\nvirtqemud (complain)\nlibvirtd//kid (enforce)\n", "/usr/sbin/hookd-qemu",
			  &rep) == HOOKD_AA_COMPLAIN);
	CHECK(rep.n == 2 && rep.worst == 1);
	CHECK(rep.results[0].verdict == HOOKD_AA_ALLOWED && strcmp(rep.results[1].profile, "virtqemud") == 0);
	CHECK_CONTAINS(rep.results[1].fix, "/etc/apparmor.d/local/usr.sbin.virtqemud");
	CHECK_STR(hookd_aa_verdict_name(rep.results[1].verdict), "complain");
	hookd_aa_report_free(&rep);
	/* a path-named profile the source does not define: cannot verify */
	CHECK(verdict_for("/usr/sbin/libvirtd (enforce)\n", "/usr/sbin/hookd-qemu", &rep) == HOOKD_AA_UNKNOWN);
	CHECK_CONTAINS(rep.results[0].message, "its source does not define it");
	hookd_aa_report_free(&rep);
	/* a symlink loop inside the root ends; the path is judged as it stands */
	put("opt/loop-dir/.keep", "");
	put("sys/kernel/security/apparmor/profiles", "libvirtd (enforce)\n");
	link_hook("/opt/loop");
	{
		_cleanup_free_ char *p = test_rooted(root, "opt/loop");

		if (symlink("/opt/loop", p) < 0)
			test_die("symlink", p);
	}
	hookd_aa_check(root, "/etc/libvirt/hooks/qemu", &rep);
	CHECK(rep.n == 1 && rep.results[0].verdict == HOOKD_AA_DENIED);
	hookd_aa_report_free(&rep);
	/* nothing loaded for libvirt, then no AppArmor at all */
	CHECK(verdict_for("/usr/bin/man (enforce)\n", "/opt/other/q", &rep) == HOOKD_AA_NOT_CONFINED);
	CHECK(rep.n == 1 && rep.results[0].profile == NULL);
	hookd_aa_report_free(&rep);
	{
		_cleanup_free_ char *p = test_rooted(root, "sys/kernel/security/apparmor/profiles");

		unlink(p);
	}
	hookd_aa_check(root, "/etc/libvirt/hooks/qemu", &rep);
	CHECK(rep.results[0].verdict == HOOKD_AA_NOT_CONFINED);
	CHECK_CONTAINS(rep.results[0].message, "AppArmor is not active");
	hookd_aa_report_free(&rep);
}

int main(void)
{
	test_tmpdir_create("apparmor");
	root = xasprintf("%s/root", test_tmpdir);
	put("etc/apparmor.d/usr.sbin.libvirtd", profile_text);
	put("etc/apparmor.d/usr.sbin.virtqemud", "profile virtqemud {\n}\n");
	put("etc/libvirt/hooks/.keep", "");
	put("usr/sbin/hookd-apply", "");
	test_exact_rule_wins_and_inherit_judges_worker();
	test_profile_transitions();
	test_qualifiers_and_modes();
	test_report();
	free(root);
	test_tmpdir_remove();
	return TEST_DONE();
}
