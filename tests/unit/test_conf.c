/* conf.c: hookd.conf keys, defaults, errors with file:line, ownership and mode checks, root handling. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf.h"
#include "fixture.h"
#include "test.h"

/* Loads text as hookd.conf; on success the caller frees *c. */
static int load_text(const char *text, struct hookd_conf *c, struct err *e)
{
	_cleanup_free_ char *path = test_put_file("conf-case.conf", text, 0644);

	e->msg[0] = '\0';
	return conf_load(path, true, c, e);
}

/* Expects text to be refused with a message starting "FILE:LINE: " and containing what. */
static void check_refused(const char *text, int line, const char *what)
{
	struct hookd_conf c;
	struct err e;
	_cleanup_free_ char *where = xasprintf("%s/conf-case.conf:%d: ", test_tmpdir, line);
	int r = load_text(text, &c, &e);

	CHECK(r == -EINVAL);
	if (r == 0) {
		fprintf(stderr, "accepted: %s", text);
		conf_free(&c);
		return;
	}
	CHECK(strncmp(e.msg, where, strlen(where)) == 0);
	if (strncmp(e.msg, where, strlen(where)) != 0)
		fprintf(stderr, "  message: %s\n  expected prefix: %s\n", e.msg, where);
	CHECK_CONTAINS(e.msg, what);
}

static void test_defaults_when_missing(void)
{
	struct hookd_conf c;
	struct err e = { "" };
	_cleanup_free_ char *path = xasprintf("%s/conf-absent.conf", test_tmpdir);

	CHECK(conf_load(path, false, &c, &e) == 0);
	CHECK(c.path == NULL);
	CHECK_STR(c.root, "/");
	CHECK_STR(c.hooks_dir, "/etc/hookd/hooks.d");
	CHECK_STR(c.state_dir, "/run/hookd");
	CHECK(c.timeout_ms == 5000);
	CHECK(!c.state_dir_set);
	conf_free(&c);

	/* must_exist: the missing file is an error naming it. */
	CHECK(conf_load(path, true, &c, &e) == -ENOENT);
	CHECK_CONTAINS(e.msg, path);
}

static void test_all_keys(void)
{
	struct hookd_conf c;
	struct err e;

	CHECK(load_text("; comment\n# another\n\nroot = /srv/sim\nhooks_dir = /srv/hooks\n"
			"state_dir = /srv/state\ntimeout = 2.5\nlog = stderr\n",
			&c, &e) == 0);
	CHECK_CONTAINS(c.path, "conf-case.conf");
	CHECK_STR(c.root, "/srv/sim");
	CHECK_STR(c.hooks_dir, "/srv/hooks");
	CHECK_STR(c.state_dir, "/srv/state");
	CHECK(c.state_dir_set);
	CHECK(c.timeout_ms == 2500);
	CHECK(c.log == LOG_TARGET_STDERR);
	conf_free(&c);

	/* An empty file is the defaults. */
	CHECK(load_text("", &c, &e) == 0);
	CHECK_STR(c.root, "/");
	CHECK_STR(c.state_dir, "/run/hookd");
	CHECK(c.timeout_ms == 5000);
	conf_free(&c);

	/* Without state_dir, it follows root. */
	CHECK(load_text("root = /srv/sim/\n", &c, &e) == 0);
	CHECK_STR(c.state_dir, "/srv/sim/run/hookd");
	CHECK(!c.state_dir_set);
	conf_free(&c);
}

static void test_log_and_timeout(void)
{
	static const struct {
		const char *text;
		unsigned ms;
	} ok[] = {
		{ "timeout = 5\n", 5000 },  { "timeout = 2.5\n", 2500 },   { "timeout = 500ms\n", 500 },
		{ "timeout = 3s\n", 3000 }, { "timeout = 600\n", 600000 }, { "timeout = 600000ms\n", 600000 },
		{ "timeout = 0.001\n", 1 }, { "timeout = 1ms\n", 1 },
	};
	static const char *const bad[] = {
		"timeout = 0\n",   "timeout = -1\n",   "timeout = 601\n", "timeout = 600001ms\n",
		"timeout = abc\n", "timeout = 5min\n", "timeout = 5 s\n", "timeout = nan\n",
		"timeout = inf\n", "timeout = 0ms\n",  "timeout =\n",
	};
	static const struct {
		const char *v;
		enum log_target t;
	} logs[] = { { "stderr", LOG_TARGET_STDERR }, { "syslog", LOG_TARGET_SYSLOG }, { "none", LOG_TARGET_NONE } };
	struct hookd_conf c;
	struct err e;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		CHECK(load_text(ok[i].text, &c, &e) == 0);
		if (c.timeout_ms != ok[i].ms)
			fprintf(stderr, "%s -> %u ms, expected %u\n", ok[i].text, c.timeout_ms, ok[i].ms);
		CHECK(c.timeout_ms == ok[i].ms);
		conf_free(&c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		check_refused(bad[i], 1, "timeout: expected seconds");
	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		char text[64];

		snprintf(text, sizeof(text), "log = %s\n", logs[i].v);
		CHECK(load_text(text, &c, &e) == 0);
		CHECK(c.log == logs[i].t);
		conf_free(&c);
	}
	check_refused("\nlog = journald\n", 2,
		      "log: expected syslog, stderr, none or an absolute file path, got 'journald'");
	check_refused("log = var/log/hookd.log\n", 1, "got 'var/log/hookd.log'");
	CHECK(load_text("log = /var/log/hookd.log\n", &c, &e) == 0);
	CHECK(c.log == LOG_TARGET_FILE);
	CHECK_STR(c.log_file, "/var/log/hookd.log");
	conf_free(&c);
}

/* A value that rounds to 0 ms would make every kernel wait fail at once: 0 < t must hold in ms. */
static void test_timeout_never_zero(void)
{
	static const char *const tiny[] = { "timeout = 0.0001\n", "timeout = 0.4ms\n", "timeout = 1e-9\n" };
	struct hookd_conf c;
	struct err e;

	for (size_t i = 0; i < ARRAY_SIZE(tiny); i++) {
		int r = load_text(tiny[i], &c, &e);

		if (r == 0) {
			if (c.timeout_ms == 0)
				fprintf(stderr, "%s accepted as timeout_ms 0\n", tiny[i]);
			CHECK(c.timeout_ms > 0);
			conf_free(&c);
		} else
			CHECK_CONTAINS(e.msg, "timeout");
	}
}

static void test_errors_name_file_and_line(void)
{
	check_refused("root = /x\n\nfrobnicate = 1\n", 3, "unknown key 'frobnicate'");
	check_refused("root = relative/dir\n", 1, "root must be an absolute path, got 'relative/dir'");
	check_refused("# c\nhooks_dir = hooks.d\n", 2, "hooks_dir must be an absolute path");
	check_refused("state_dir = run\n", 1, "state_dir must be an absolute path");
	check_refused("root = /x\nthis is not a key value line\n", 2, "syntax error");
	/* An indented line after a key is an inih continuation: it must not silently replace the value. */
	check_refused("root = /srv/a\n    /srv/b\n", 2, "");
	/* hookd.conf has no sections: a header is an error, whether or not keys follow it. */
	check_refused("root = /x\n[main]\ntimeout = 5\n", 2, "unexpected section");
	check_refused("root = /x\n  [main]\n", 2, "unexpected section");
}

static void test_file_checks(void)
{
	_cleanup_free_ char *ww = test_put_file("conf-world-writable.conf", "root = /x\n", 0666);
	_cleanup_free_ char *gw = test_put_file("conf-group-writable.conf", "root = /x\n", 0664);
	_cleanup_free_ char *foreign = test_put_file("conf-foreign.conf", "root = /x\n", 0644);
	_cleanup_free_ char *ok = test_put_file("conf-readonly.conf", "root = /x\n", 0444);
	struct hookd_conf c;
	struct err e = { "" };

	CHECK(conf_load(ww, true, &c, &e) == -EPERM);
	CHECK_CONTAINS(e.msg, ww);
	CHECK_CONTAINS(e.msg, "writable by group or others");
	CHECK(conf_load(gw, true, &c, &e) == -EPERM);
	CHECK_CONTAINS(e.msg, gw);
	CHECK_CONTAINS(e.msg, "writable by group or others");
	/* Missing-is-fine does not make a bad file fine. */
	CHECK(conf_load(ww, false, &c, &e) == -EPERM);

	CHECK(conf_load(ok, true, &c, &e) == 0);
	CHECK_STR(c.root, "/x");
	conf_free(&c);

	/* Owned by neither root nor us (only testable when we may chown). */
	if (chown(foreign, 65534, 65534) == 0 && geteuid() != 65534) {
		CHECK(conf_load(foreign, true, &c, &e) == -EPERM);
		CHECK_CONTAINS(e.msg, foreign);
		CHECK_CONTAINS(e.msg, "not owned by root");
	} else
		fprintf(stderr, "skipped: cannot chown a file to another user\n");

	/* A directory is not a config file. */
	CHECK(conf_load(test_tmpdir, true, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "not a regular file");
}

static void test_set_root(void)
{
	struct hookd_conf c;
	struct err e;
	_cleanup_free_ char *rooted = NULL;

	CHECK(load_text("hooks_dir = /h\n", &c, &e) == 0);
	conf_set_root(&c, "/tmp/simroot/");
	CHECK_STR(c.root, "/tmp/simroot/");
	CHECK_STR(c.state_dir, "/tmp/simroot/run/hookd");
	CHECK_STR(c.hooks_dir, "/h"); /* hooks_dir is not under root */
	rooted = conf_rooted(&c, "/sys/bus/pci");
	CHECK_STR(rooted, "/tmp/simroot/sys/bus/pci");
	conf_set_root(&c, "/");
	CHECK_STR(c.state_dir, "/run/hookd");
	conf_free(&c);

	/* A state_dir set in the file stays where it was put. */
	CHECK(load_text("state_dir = /var/lib/hookd\n", &c, &e) == 0);
	conf_set_root(&c, "/tmp/simroot");
	CHECK_STR(c.root, "/tmp/simroot");
	CHECK_STR(c.state_dir, "/var/lib/hookd");
	conf_free(&c);
}

static void test_vm_ini_path(void)
{
	static const char *const refused[] = { "", ".", "..", "a/b", "/etc/passwd", "../x", "x/" };
	struct hookd_conf c;
	struct err e;
	char *p;

	CHECK(load_text("hooks_dir = /etc/hookd/hooks.d\n", &c, &e) == 0);
	p = conf_vm_ini_path(&c, "win11");
	CHECK_STR(p, "/etc/hookd/hooks.d/win11.ini");
	free(p);
	p = conf_vm_ini_path(&c, "...");
	CHECK_STR(p, "/etc/hookd/hooks.d/....ini");
	free(p);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		p = conf_vm_ini_path(&c, refused[i]);
		if (p)
			fprintf(stderr, "vm name '%s' accepted: %s\n", refused[i], p);
		CHECK(p == NULL);
		free(p);
	}
	conf_free(&c);
}

/* hookd.conf is text: a NUL byte is refused with file:line, a leading UTF-8 BOM is fine; a FIFO is
 * refused without blocking the hook of every VM. */
static void test_text_and_type(void)
{
	static const char nul[] = "timeout = 2\nlog = none\0 or syslog\n";
	_cleanup_free_ char *p = test_put_bytes("conf-nul.conf", nul, sizeof(nul) - 1, 0644);
	_cleanup_free_ char *bom = test_put_file("conf-bom.conf", "\xEF\xBB\xBFroot = /x\n", 0644);
	_cleanup_free_ char *fifo = xasprintf("%s/conf-fifo.conf", test_tmpdir);
	struct hookd_conf c;
	struct err e;

	CHECK(conf_load(p, true, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "conf-nul.conf:2: refusing a NUL byte");
	CHECK(conf_load(bom, true, &c, &e) == 0);
	CHECK_STR(c.root, "/x");
	conf_free(&c);
	CHECK(mkfifo(fifo, 0644) == 0);
	alarm(20); /* before the fix this blocked forever: die instead of hanging the suite */
	CHECK(conf_load(fifo, false, &c, &e) == -EINVAL);
	alarm(0);
	CHECK_CONTAINS(e.msg, "refusing a FIFO");
}

/* `hookd --conf /etc/shadow check` must not print the file: its text appears in an error only when the
 * file is world-readable (anyone could read it anyway). */
static void test_secret_not_echoed(void)
{
	_cleanup_free_ char *shadow = test_put_file("conf-shadow", "root:$6$SECRETHASH:19000:0:99999:7:::\n", 0640);
	_cleanup_free_ char *open = test_put_file("conf-open.conf", "timeout = soon\n", 0644);
	struct hookd_conf c;
	struct err e;

	CHECK(conf_load(shadow, true, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "conf-shadow:1: ");
	CHECK(strstr(e.msg, "SECRETHASH") == NULL);
	CHECK_CONTAINS(e.msg, "not shown");
	CHECK(conf_load(open, true, &c, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "got 'soon'");
}

/* Every directory above a config file must be root's and not writable by others (unless sticky); a
 * symlink to it must be root's. */
static void test_directories(void)
{
	_cleanup_free_ char *dir = xasprintf("%s/open-dir", test_tmpdir), *in = NULL;
	_cleanup_free_ char *link = xasprintf("%s/link.conf", test_tmpdir);
	struct hookd_conf c;
	struct err e;

	CHECK(mkdir(dir, 0755) == 0);
	in = test_put_file("open-dir/x.conf", "root = /x\n", 0644);
	CHECK(conf_load(in, true, &c, &e) == 0);
	conf_free(&c);
	CHECK(chmod(dir, 0777) == 0);
	CHECK(conf_load(in, true, &c, &e) == -EPERM);
	CHECK_CONTAINS(e.msg, "can be changed by a user other than root");
	CHECK(chmod(dir, 01777) == 0); /* sticky, like /tmp: others cannot replace root's file */
	CHECK(conf_load(in, true, &c, &e) == 0);
	conf_free(&c);
	CHECK(chmod(dir, 0755) == 0);
	CHECK(symlink(in, link) == 0);
	CHECK(conf_load(link, true, &c, &e) == 0);
	conf_free(&c);
	if (lchown(link, 65534, 65534) == 0 && geteuid() != 65534) {
		CHECK(conf_load(link, true, &c, &e) == -EPERM);
		CHECK_CONTAINS(e.msg, "symlink not owned by root");
	}
}

static void test_vm_names(void)
{
	static const char *const good[] = { "win11", "a..b", "...", ".hidden", "w\xc3\xbcrfel", "x y" };
	static const char *const bad[] = { "", ".", "..", "a/b", "../evil", "/etc/passwd", "a\nb", "a\tb", "\x7f" };
	char longest[CONF_VM_NAME_MAX + 2];
	struct err e;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(conf_vm_name_check(good[i], &e) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK(conf_vm_name_check(bad[i], &e) == -EINVAL);
		CHECK(!strchr(e.msg, '\n') && !strchr(e.msg, '\t'));
	}
	memset(longest, 'a', sizeof(longest));
	longest[CONF_VM_NAME_MAX] = '\0';
	CHECK(conf_vm_name_check(longest, &e) == 0);
	longest[CONF_VM_NAME_MAX] = 'a';
	longest[CONF_VM_NAME_MAX + 1] = '\0';
	CHECK(conf_vm_name_check(longest, &e) == -EINVAL);
}

int main(void)
{
	test_tmpdir_create("conf");
	test_defaults_when_missing();
	test_all_keys();
	test_log_and_timeout();
	test_timeout_never_zero();
	test_errors_name_file_and_line();
	test_file_checks();
	test_set_root();
	test_vm_ini_path();
	test_text_and_type();
	test_secret_not_echoed();
	test_directories();
	test_vm_names();
	test_tmpdir_remove();
	return TEST_DONE();
}
