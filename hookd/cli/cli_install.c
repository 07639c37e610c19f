#include "cli_install.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_apparmor.h"
#include "sysfs.h"

/* Is path a symlink to our hook executable? */
static bool is_ours(const char *path, const char *hook)
{
	char a[PATH_MAX], b[PATH_MAX];

	return realpath(path, a) && realpath(hook, b) && strcmp(a, b) == 0;
}

/* Is path hookd 0.1.0's link (to <libexec>/hookd/qemu, which libvirtd's AppArmor profile denies)?
 * An upgrade removed or left that file; either way the link is ours to repoint. */
static bool is_legacy(const char *path, const char *legacy)
{
	char target[PATH_MAX];
	ssize_t n = legacy ? readlink(path, target, sizeof(target) - 1) : -1;

	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, legacy) == 0;
}

/* Appends `chain = PATH` to hookd.conf (creating it root-only writable), unless it is set already. */
static int record_chain(const struct hookd_conf *conf, const char *conf_path, const char *chained)
{
	FILE *f;

	if (conf->chain) {
		if (strcmp(conf->chain, chained) == 0)
			return 0;
		fprintf(stderr, "hookd: %s already chains %s; refusing to chain a second hook\n", conf_path,
			conf->chain);
		return -EEXIST;
	}
	f = fopen(conf_path, "a");
	if (!f) {
		fprintf(stderr, "hookd: cannot write %s: %s\n", conf_path, strerror(errno));
		return -errno;
	}
	fchmod(fileno(f), 0644);
	fprintf(f,
		"\n; the hook that was here before hookd: run after hookd's own steps (hookd install --chain)\nchain = %s\n",
		chained);
	return fclose(f) == 0 ? 0 : -EIO;
}

const char *const install_daemon_pidfiles[INSTALL_N_DAEMONS] = { "/run/libvirtd.pid", "/run/libvirt/virtqemud.pid" };

/* SIGHUP to libvirtd (or the modular virtqemud) so that it notices a new hook file. */
static int reload_libvirt(const struct hookd_conf *conf)
{
	const char *const *pidfiles = install_daemon_pidfiles;

	for (size_t i = 0; i < INSTALL_N_DAEMONS; i++) {
		_cleanup_free_ char *s = NULL;
		unsigned long long pid;

		if (sysfs_read(conf->root, pidfiles[i], &s) < 0 || parse_uint(s, &pid) < 0 || pid < 2)
			continue;
		if (strcmp(conf->root, "/") != 0) {
			printf("(root is %s: not signalling pid %llu)\n", conf->root, pid);
			return 0;
		}
		if (kill((pid_t)pid, SIGHUP) == 0) {
			printf("Sent SIGHUP to pid %llu (%s): the hook is active now.\n", pid, pidfiles[i]);
			return 0;
		}
	}
	printf("libvirtd does not seem to run: it will pick the hook up when it starts.\n");
	return 0;
}

static void describe_foreign(const char *path)
{
	char target[PATH_MAX], line[160] = "";
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	FILE *f;

	if (n >= 0) {
		target[n] = '\0';
		fprintf(stderr, "  %s is a symbolic link to %s\n", path, target);
		return;
	}
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) && line[0] == '#' && line[1] == '!')
		fprintf(stderr, "  %s is a script: %s", path, line);
	if (f)
		fclose(f);
}

/* A hook that is not hookd's: refused, or with --chain kept aside and recorded to run after hookd.
 * Returns 0 when path is free for hookd's link, else an exit status. */
static int keep_foreign(const struct hookd_conf *conf, const struct install_opts *o, const char *path)
{
	_cleanup_free_ char *kept = xasprintf("%s/qemu.before-hookd", o->hooks_dir);

	if (!o->chain) {
		fprintf(stderr, "hookd: %s is another hook; refusing to replace it.\n", path);
		describe_foreign(path);
		fprintf(stderr, "hookd can keep it and run it after its own steps, with the same arguments and input:\n"
				"  hookd install --chain\n");
		return 2;
	}
	if (access(kept, F_OK) == 0) {
		fprintf(stderr, "hookd: %s exists already; move it away first\n", kept);
		return 1;
	}
	if (record_chain(conf, o->conf_path, kept) < 0)
		return 1;
	if (rename(path, kept) < 0) {
		fprintf(stderr, "hookd: cannot move %s to %s: %s\n", path, kept, strerror(errno));
		return 1;
	}
	printf("Kept the previous hook as %s; hookd runs it after its own steps (chain = in %s).\n", kept,
	       o->conf_path);
	return 0;
}

int install_run(const struct hookd_conf *conf, const struct install_opts *o)
{
	_cleanup_free_ char *path = xasprintf("%s/qemu", o->hooks_dir);
	struct stat st;
	int r;

	if (access(o->hook, X_OK) < 0) {
		fprintf(stderr, "hookd: %s: %s (is hookd installed?)\n", o->hook, strerror(errno));
		return 1;
	}
	if (cli_aa_install_gate(conf, o->hook) != 0)
		return 2;
	if (lstat(path, &st) == 0) {
		if (is_ours(path, o->hook)) {
			printf("%s already runs hookd.\n", path);
			return o->reload ? reload_libvirt(conf) : 0;
		}
		if (is_legacy(path, o->legacy)) {
			if (unlink(path) < 0) {
				fprintf(stderr, "hookd: cannot replace %s: %s\n", path, strerror(errno));
				return 1;
			}
			printf("Replacing %s -> %s: libvirtd's AppArmor profile does not let it run that path.\n", path,
			       o->legacy);
		} else if ((r = keep_foreign(conf, o, path)) != 0) {
			return r;
		}
	} else if (mkdir(o->hooks_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "hookd: cannot create %s: %s\n", o->hooks_dir, strerror(errno));
		return 1;
	}
	if (symlink(o->hook, path) < 0) {
		fprintf(stderr, "hookd: cannot create %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("Installed %s -> %s\n", path, o->hook);
	if (o->reload)
		return reload_libvirt(conf);
	printf("libvirtd notices a new hook only when it starts or gets SIGHUP: run `hookd install --reload`\n"
	       "(or `systemctl reload libvirtd`) before starting a VM.\n");
	return 0;
}
