/* aaglob.c: AppArmor path globs, on the exact rules of the stock libvirt profiles and the corners of
 * apparmor_parser's syntax (parser_regex.c). */
#include <stdlib.h>

#include "aaglob.h"
#include "test.h"
#include "util.h"

struct gcase {
	const char *pattern, *path;
	bool want;
};

static void run(const struct gcase *c, size_t n, const struct aaglob_vars *vars)
{
	for (size_t i = 0; i < n; i++) {
		bool got = aaglob_match(c[i].pattern, c[i].path, vars);

		if (got != c[i].want)
			fprintf(stderr, "'%s' vs '%s': got %d\n", c[i].pattern, c[i].path, got);
		CHECK(got == c[i].want);
	}
}

/* The exec rules of Debian's usr.sbin.libvirtd and upstream's usr.sbin.virtqemud. */
static void test_stock_rules(void)
{
	static const struct gcase c[] = {
		{ "/usr/sbin/* PUx", "/usr/sbin/hookd-qemu", false }, /* the perms are not part of the glob */
		{ "/usr/sbin/*", "/usr/sbin/hookd-qemu", true },
		{ "/usr/sbin/*", "/usr/sbin/hookd-apply", true },
		{ "/usr/sbin/*", "/usr/libexec/hookd/qemu", false },
		{ "/usr/sbin/*", "/usr/sbin/sub/x", false }, /* one * never crosses a '/' */
		{ "/usr/sbin/*", "/usr/sbin/", false },      /* a whole-component * takes a character */
		{ "/usr/sbin/*", "/usr/sbin", false },
		{ "/sbin/*", "/usr/sbin/hookd-qemu", false },
		{ "/usr/libexec/*", "/usr/libexec/hookd/qemu", false }, /* virtqemud: @libexecdir@ then a star */
		{ "/usr/libexec/*", "/usr/libexec/qemu", true },
		{ "/usr/lib/libvirt/*", "/usr/lib/libvirt/hookd", true },
		{ "/etc/libvirt/hooks/**", "/etc/libvirt/hooks/qemu", true },
		{ "/etc/libvirt/hooks/**", "/etc/libvirt/hooks/qemu.d/win11/prepare/begin/x", true },
		{ "/etc/libvirt/hooks/**", "/etc/libvirt/hooks/", false },
		{ "/etc/libvirt/hooks/**", "/etc/libvirt/hooksx", false },
		{ "/{usr/,}lib/udev/scsi_id", "/lib/udev/scsi_id", true },
		{ "/{usr/,}lib/udev/scsi_id", "/usr/lib/udev/scsi_id", true },
		{ "/{usr/,}lib/udev/scsi_id", "/usr/usr/lib/udev/scsi_id", false },
		{ "/{usr/,}sbin/apparmor_parser", "/usr/sbin/apparmor_parser", true },
		{ "/{usr/,}sbin/apparmor_parser", "/sbin/apparmor_parser", true },
		{ "/usr/{lib,lib64,libexec}/xen/bin/*", "/usr/libexec/xen/bin/qemu", true },
		{ "/usr/{lib,lib64,libexec}/xen/bin/*", "/usr/libexec/hookd/qemu", false },
		{ "/usr/{lib,libexec}/xen-*/bin/pygrub", "/usr/lib/xen-4.17/bin/pygrub", true },
		{ "/usr/{lib,lib64,lib/qemu,libexec}/qemu-bridge-helper", "/usr/lib/qemu/qemu-bridge-helper", true },
		{ "/var/lib/libvirt/virtd*", "/var/lib/libvirt/virtd", true }, /* not a whole component: may be empty */
		{ "/var/lib/libvirt/virtd*", "/var/lib/libvirt/virtdXYZ", true },
		{ "/var/lib/libvirt/virtd*", "/var/lib/libvirt/virtd/x", false },
		{ "/sys/kernel/security/apparmor/.*", "/sys/kernel/security/apparmor/.load", true },
		{ "/sys/kernel/security/apparmor/.*", "/sys/kernel/security/apparmor/profiles", false },
		{ "/**", "/usr/libexec/hookd/qemu", true },
		{ "/**", "/", false },
		{ "/usr/sbin/virtlogd", "/usr/sbin/virtlogd", true },
		{ "/usr/sbin/virtlogd", "/usr/sbin/virtlogd2", false },
	};

	run(c, ARRAY_SIZE(c), NULL);
}

static void test_syntax(void)
{
	static const struct gcase c[] = {
		{ "/a/?", "/a/b", true },
		{ "/a/?", "/a/bc", false },
		{ "/a?b", "/a/b", false }, /* ? never matches '/' */
		{ "/a/[abc]x", "/a/bx", true },
		{ "/a/[abc]x", "/a/dx", false },
		{ "/a/[^abc]x", "/a/dx", true },
		{ "/a/[^abc]x", "/a/ax", false },
		{ "/a/[0-9a-f]*", "/a/7e-rest", true },
		{ "/a/[0-9a-f]*", "/a/g", false },
		{ "/a/[abc", "/a/a", false },           /* an unclosed class matches nothing */
		{ "/a/{b,c{d,e}}/f", "/a/ce/f", true }, /* nested alternation */
		{ "/a/{b,c{d,e}}/f", "/a/cf/f", false },
		{ "/a/{b,c{d,e}}/f", "/a/b/f", true },
		{ "/a/{,x/}b", "/a/b", true },
		{ "/a/{,x/}b", "/a/x/b", true },
		{ "/a/{b,c", "/a/b", false }, /* unclosed */
		{ "/a/\\*", "/a/*", true },   /* escaped glob characters are literal */
		{ "/a/\\*", "/a/b", false },
		{ "/a/\\{b,c\\}", "/a/{b,c}", true },
		{ "/a//b", "/a/b", true }, /* repeated slashes fold */
		{ "/a/**/z", "/a/b/c/z", true },
		{ "/a/**/z", "/a/z", false }, /* a whole-component ** takes a character */
		{ "/a/**z", "/a/z", true },
		{ "/a/***", "/a/b/c", true },
		{ "/a/*/c", "/a/b/c", true },
		{ "/a/*/c", "/a//c", false },
		{ "/a/*.so*", "/a/ld.so.2", true },
	};

	run(c, ARRAY_SIZE(c), NULL);
	CHECK(aaglob_is_literal("/usr/sbin/virtlogd"));
	CHECK(aaglob_is_literal("/a/\\*"));
	CHECK(!aaglob_is_literal("/usr/sbin/*"));
	CHECK(!aaglob_is_literal("/{usr/,}sbin/x"));
	CHECK(!aaglob_is_literal("@{PROC}/x"));
	CHECK(!aaglob_is_literal("/a/[ab]"));
}

static void test_variables(void)
{
	struct aaglob_vars vars = { 0 };
	static const struct gcase c[] = {
		{ "@{PROC}/*/status", "/proc/12/status", true },
		{ "@{HOME}/bin/*", "/home/ann/bin/x", true },
		{ "@{HOME}/bin/*", "/root/bin/x", true },  /* second value of a list */
		{ "@{HOME}/bin/*", "/home/bin/x", false }, /* @{HOMEDIRS} then a star: needs a user */
		{ "@{HOME}/bin/*", "/srv/bin/x", false },
		{ "@{run}/x", "/var/run/x", true }, /* a value added with += */
		{ "@{UNKNOWN}/x", "/x", false },    /* an unknown variable matches nothing */
		{ "/usr/lib/@{multiarch}/ld.so", "/usr/lib/x86_64-linux-gnu/ld.so", true },
		{ "@{loop}/x", "/x", false }, /* self-reference is bounded */
	};

	aaglob_vars_add(&vars, "PROC", "/proc/");
	aaglob_vars_add(&vars, "HOMEDIRS", "/home/");
	aaglob_vars_add(&vars, "HOME", "@{HOMEDIRS}/*/");
	aaglob_vars_add(&vars, "HOME", "/root/");
	aaglob_vars_add(&vars, "run", "/run/");
	aaglob_vars_add(&vars, "run", "/var/run/");
	aaglob_vars_add(&vars, "multiarch", "*-linux-gnu*");
	aaglob_vars_add(&vars, "loop", "@{loop}");
	run(c, ARRAY_SIZE(c), &vars);
	aaglob_vars_free(&vars);
}

int main(void)
{
	test_stock_rules();
	test_syntax();
	test_variables();
	return TEST_DONE();
}
