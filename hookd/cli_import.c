/* The scripts keep running exactly as the bash dispatcher ran them: each with the argv it gave
 * (VM OP SUBOP -), in the same order. Each script is one named [exec] section, so a user can replace
 * them with native sections one at a time. Release scripts are listed first and in reverse: release
 * undoes sections bottom to top, so they run in their original (alphabetical) order, after a failed
 * prepare too, as libvirt's release call ran them before. */
#include "cli_import.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "sysfs.h"

/* The lifecycle points hookd can run [exec] commands at, as the dispatcher's directories name them. */
static const struct {
	const char *dir, *key, *op, *subop;
} phases[] = {
	{ "prepare/begin", "prepare", "prepare", "begin" },
	{ "started/begin", "started", "started", "begin" },
	{ "release/end", "release", "release", "end" },
};

struct scripts {
	char **names;
	size_t n;
};

/* Executable regular files of dir, sorted as the dispatcher's glob sorts them (C locale). */
static void list_scripts(const char *dir, struct scripts *out)
{
	char **names;
	size_t n, k = 0;

	out->names = NULL;
	out->n = 0;
	if (sysfs_list("", dir, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
		struct stat st;

		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			names[k++] = names[i];
		else
			free(names[i]);
	}
	out->names = names;
	out->n = k;
}

/* One argv word for [exec]: quoted when it holds white space or quotes. */
static void put_word(FILE *f, const char *w)
{
	if (!w[strcspn(w, " \t'\"")])
		fputs(w, f);
	else if (!strchr(w, '\''))
		fprintf(f, "'%s'", w);
	else
		fprintf(f, "\"%s\"", w);
}

static void put_section(FILE *f, const char *vmdir, const char *vm, size_t phase, const char *name)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/%s", vmdir, phases[phase].dir, name);

	_cleanup_free_ char *label = xasprintf("%s/%s", phases[phase].dir, name);

	for (char *c = label; *c; c++)
		if (*c == ':' || *c == ']')
			*c = '-'; /* a section name may not hold them; the command keeps the real path */
	fprintf(f, "\n[exec %s]\n%s = ", label, phases[phase].key);
	put_word(f, path);
	fputc(' ', f);
	put_word(f, vm);
	fprintf(f, " %s %s -\n", phases[phase].op, phases[phase].subop);
}

/* Writes the INI for one VM directory; warns about scripts at points hookd does not run. */
static int import_vm(const struct hookd_conf *conf, const struct import_opts *o, const char *vm)
{
	char vmdir[PATH_MAX];
	_cleanup_free_ char *rel = xasprintf("%s/%s", o->dir, vm), *ini = conf_vm_ini_path(conf, vm);
	struct scripts s[ARRAY_SIZE(phases)];
	size_t total = 0;
	FILE *f;

	if (!ini || !realpath(rel, vmdir))
		return 2;
	for (size_t p = 0; p < ARRAY_SIZE(phases); p++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", vmdir, phases[p].dir);

		list_scripts(d, &s[p]);
		total += s[p].n;
	}
	if (total == 0) {
		fprintf(stderr, "hookd: %s: no scripts under prepare/begin, started/begin or release/end\n", vmdir);
		return 2;
	}
	if (o->to_stdout) {
		f = stdout;
		printf("; ---- %s\n", ini);
	} else if (access(ini, F_OK) == 0 && !o->force) {
		fprintf(stderr, "hookd: %s exists; not replacing it (--force replaces, --stdout prints)\n", ini);
		return 2;
	} else {
		int fd = open(ini, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!f) {
			fprintf(stderr, "hookd: cannot write %s: %s\n", ini, strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		fchmod(fd, 0644);
	}
	fprintf(f, "; Imported by `hookd import` from %s: the same scripts, with the same arguments, in the\n"
		   "; same order. Replace them with native sections one by one; `hookd plan %s` shows the steps.\n"
		   "; Release scripts come first, in reverse: release undoes sections bottom to top.\n",
		vmdir, vm);
	for (size_t i = s[2].n; i-- > 0;)
		put_section(f, vmdir, vm, 2, s[2].names[i]);
	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < s[p].n; i++)
			put_section(f, vmdir, vm, p, s[p].names[i]);
	for (size_t p = 0; p < ARRAY_SIZE(phases); p++)
		sysfs_list_free(s[p].names, s[p].n);
	if (f != stdout && fclose(f) != 0) {
		fprintf(stderr, "hookd: cannot write %s: %s\n", ini, strerror(errno));
		return 1;
	}
	if (f != stdout)
		printf("%s: %zu script%s imported into %s\n", vm, total, total == 1 ? "" : "s", ini);
	return 0;
}

/* Scripts at points hookd has no steps for are named, not silently dropped. */
static void warn_skipped(const char *vmdir)
{
	char **ops, **subs;
	size_t n_ops, n_subs;

	if (sysfs_list("", vmdir, &ops, &n_ops) < 0)
		return;
	for (size_t i = 0; i < n_ops; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", vmdir, ops[i]);

		if (sysfs_list("", d, &subs, &n_subs) < 0)
			continue;
		for (size_t k = 0; k < n_subs; k++) {
			_cleanup_free_ char *point = xasprintf("%s/%s", ops[i], subs[k]);
			bool known = false;

			for (size_t p = 0; p < ARRAY_SIZE(phases); p++)
				known |= strcmp(point, phases[p].dir) == 0;
			if (!known)
				fprintf(stderr, "hookd: %s/%s: not imported (hookd runs [exec] commands only at prepare/begin, started/begin and release/end)\n",
					vmdir, point);
		}
		sysfs_list_free(subs, n_subs);
	}
	sysfs_list_free(ops, n_ops);
}

int import_run(const struct hookd_conf *conf, const struct import_opts *o)
{
	char **vms;
	size_t n;
	int worst = 0, done = 0;

	if (sysfs_list("", o->dir, &vms, &n) < 0) {
		fprintf(stderr, "hookd: %s: %s\n", o->dir, strerror(errno));
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *vmdir = xasprintf("%s/%s", o->dir, vms[i]);
		struct stat st;
		int r;

		if ((o->only_vm && strcmp(o->only_vm, vms[i]) != 0) || stat(vmdir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		warn_skipped(vmdir);
		r = import_vm(conf, o, vms[i]);
		worst = r > worst ? r : worst;
		done += r == 0;
	}
	sysfs_list_free(vms, n);
	if (!done && !worst) {
		fprintf(stderr, "hookd: no VM directory%s%s in %s\n", o->only_vm ? " named " : "",
			o->only_vm ? o->only_vm : "", o->dir);
		return 2;
	}
	return worst;
}
