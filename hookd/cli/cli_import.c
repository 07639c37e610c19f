/* One migration path from a qemu.d script tree to hookd, so that every script runs exactly once:
 * the VM's tree is copied into hookd's own place, <hooks_dir>/VM.d (root-owned, not writable by
 * group or others, checked by `hookd check` like the INI file), the INI runs the copies, and the
 * originals of the imported scripts move to DIR.imported/VM, out of the dispatcher's reach, so a
 * chained dispatcher (hookd install --chain) does not run them again. Each script is one named
 * [exec] section with the arguments the dispatcher gave (VM OP SUBOP -), in name order (the
 * dispatcher's was the directory's, see import_scan.c). Release scripts are listed first and in
 * reverse: release undoes sections bottom to top, so they run in name order, after a failed prepare
 * too, as libvirt's release call ran them. */
#include "cli_import.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "import_native.h"
#include "import_scan.h"
#include "spawn_prog.h"
#include "sysfs.h"

/* inih refuses longer lines (conf.c); keep a margin. */
#define LINE_MAX_INI 190
/* What an imported step may take: the dispatcher had no limit, libvirt has none, but the domain
 * stays locked while the hook runs, so hookd bounds it: a minute for what scripts do besides
 * sleeping (unloading drivers, stopping a display manager), plus twice what they sleep. */
#define IMPORT_TIMEOUT_BASE_S 60u
#define IMPORT_TIMEOUT_MAX_S 3600u

/* Where one script goes: its section label and the path of its copy. */
struct placed {
	const struct import_script *sc;
	enum import_point point;
	char *label;    /* "prepare/begin/10-x.sh", made safe for a section header and unique */
	char *copy_rel; /* relative to VM.d: the original's, or a safe name when that cannot stand in an INI line */
	char *argv_line;
};

struct import_job {
	struct import_vm vm;
	struct import_native *native;
	bool native_mode;   /* --native: the native sections, and [exec] steps only for what they do not do */
	char *ini, *copies; /* <hooks_dir>/VM.ini, <hooks_dir>/VM.d */
	struct placed *pl;
	size_t n_pl;
};

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._+-/@,=%", c);
}

/* Can s stand in an INI value as a quoted word? inih cuts at " ;" and at line ends. */
static bool ini_safe(const char *s)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ';')
			return false;
	return true;
}

/* A name made of label characters only, unique among the n placed so far (by a ~N suffix). */
static char *unique_safe(const struct placed *pl, size_t n, bool label, const char *name, size_t max)
{
	_cleanup_free_ char *base = strndup(name, max);

	for (char *c = base; *c; c++)
		if (!label_char(*c) || (!label && *c == '/'))
			*c = '_';
	for (unsigned k = 1;; k++) {
		char *cand = k == 1 ? xstrdup(base) : xasprintf("%s~%u", base, k);
		bool taken = false;

		for (size_t i = 0; i < n && !taken; i++)
			taken = strcmp(label ? pl[i].label : pl[i].copy_rel, cand) == 0;
		if (!taken)
			return cand;
		free(cand);
	}
}

static char *step_argv_line(const struct import_job *j, const struct placed *p)
{
	const struct import_point_info *pt = &import_points[p->point];
	_cleanup_free_ char *path = xasprintf("%s/%s", j->copies, p->copy_rel);
	char *argv[] = { path, j->vm.name, (char *)pt->op, (char *)pt->subop, (char *)"-", NULL };
	_cleanup_free_ char *joined = spawn_argv_join(argv);

	return xasprintf("%s = %s", pt->key, joined);
}

/* Labels and copy names for every step; -EINVAL (said) when the VM's own name or hooks_dir leave no
 * room for an INI line. */
static int place_steps(struct import_job *j)
{
	for (enum import_point p = 0; p < N_IMPORT_POINTS; p++)
		for (size_t i = 0; i < j->vm.n[p]; i++) {
			const struct import_script *sc = &j->vm.scripts[p][i];
			struct placed *pl;

			if (sc->sourced_by)
				continue;
			j->pl = xrealloc(j->pl, (j->n_pl + 1) * sizeof(*j->pl));
			pl = &j->pl[j->n_pl];
			*pl = (struct placed){ .sc = sc,
					       .point = p,
					       .label = unique_safe(j->pl, j->n_pl, true, sc->rel, 100) };
			pl->copy_rel = xstrdup(sc->rel);
			pl->argv_line = step_argv_line(j, pl);
			if (!ini_safe(sc->rel) || strlen(pl->argv_line) > LINE_MAX_INI) {
				const char *name = strrchr(sc->rel, '/');
				_cleanup_free_ char *safe =
					unique_safe(j->pl, j->n_pl, false, name ? name + 1 : sc->rel, 40);

				free(pl->copy_rel), free(pl->argv_line);
				pl->copy_rel = name ? xasprintf("%.*s/%s", (int)(name - sc->rel), sc->rel, safe)
						    : xstrdup(safe);
				pl->argv_line = step_argv_line(j, pl);
				fprintf(stderr, "hookd: %s: its name cannot stand in an INI line: its copy is %s/%s\n",
					sc->path, j->copies, pl->copy_rel);
			}
			j->n_pl++;
			if (strlen(pl->argv_line) > LINE_MAX_INI || !ini_safe(j->vm.name)) {
				fprintf(stderr,
					"hookd: %s: the VM name or %s is too long or holds ';' or a control "
					"character: no INI line can name the scripts; not imported\n",
					j->vm.dir, j->copies);
				return -EINVAL;
			}
		}
	return 0;
}

/* A comment, wrapped at white space under the line limit, control characters shown as '?'. */
static void put_comment(FILE *f, const char *text)
{
	_cleanup_free_ char *t = xstrdup(text);
	char *s = t;

	for (char *c = t; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?';
	while (*s) {
		size_t n = strlen(s);

		if (n > 96) {
			n = 96;
			while (n > 40 && s[n] != ' ')
				n--;
		}
		fprintf(f, "; %.*s\n", (int)n, s);
		s += n;
		s += strspn(s, " ");
	}
}

static unsigned step_timeout(const struct import_script *sc)
{
	unsigned t = IMPORT_TIMEOUT_BASE_S + 2 * sc->sleep_s;

	return t > IMPORT_TIMEOUT_MAX_S ? IMPORT_TIMEOUT_MAX_S : t;
}

static void put_section(FILE *f, const struct placed *p)
{
	const struct import_script *sc = p->sc;
	unsigned t = step_timeout(sc);
	_cleanup_free_ char *from = xasprintf("\n[exec %s] runs the copy of %s", p->label, sc->path);

	fputc('\n', f);
	put_comment(f, from + 1);
	if (!sc->shebang)
		put_comment(f, "It has no #! line: the dispatcher's bash ran it as a bash script, so its copy "
			       "starts with #!/bin/bash.");
	if (sc->sleeps) {
		_cleanup_free_ char *why = xasprintf("timeout = %u: it sleeps %u s in all (line %s); the dispatcher "
						     "waited for it without a limit, hookd gives it %u s more than "
						     "that to finish.",
						     t, sc->sleep_s, sc->sleeps, t - sc->sleep_s);
		put_comment(f, why);
	}
	fprintf(f, "[exec %s]\n%s\ntimeout = %u\n", p->label, p->argv_line, t);
}

/* The [exec] sections of point (release: first and in reverse), in --native mode only those of
 * scripts with lines no native section does. */
static void put_sections(FILE *f, const struct import_job *j, bool release, enum import_point only)
{
	for (size_t k = 0; k < j->n_pl; k++) {
		const struct placed *p = &j->pl[release ? j->n_pl - 1 - k : k];

		if ((release ? p->point == IMPORT_RELEASE : p->point == only) &&
		    (!j->native_mode || import_native_keeps(j->native, p->sc)))
			put_section(f, p);
	}
}

static void put_ini(FILE *f, const struct import_job *j)
{
	_cleanup_free_ char *head = xasprintf(
		"Imported by `hookd import%s` from %s: each script that the dispatcher ran is a copy in %s, run "
		"with the same arguments and the domain XML on stdin. Order: hookd runs a directory's scripts in "
		"name order; the dispatcher ran them in directory order (find's), which only names starting with "
		"a number make the same. Release scripts come first, in reverse: release undoes sections bottom "
		"to top. Timeouts: the dispatcher had none; every imported step has one (timeout = below), "
		"a minute plus twice what the script sleeps. `hookd plan %s` shows the steps.%s",
		j->native_mode ? " --native" : "", j->vm.dir, j->copies, j->vm.name,
		j->native_mode ? " --native: the native sections below do what the scripts' recognised lines did "
				 "(each key names them, file:line); in the copies those lines are `:` no-ops, and a "
				 "script left with nothing else to do has no [exec] section. On prepare the [exec] "
				 "steps of prepare/begin run first, then the native sections; release undoes them in "
				 "reverse, then runs the release scripts. Check that this order suits the scripts."
			       : "");

	put_comment(f, head);
	put_sections(f, j, true, IMPORT_RELEASE);
	put_sections(f, j, false, IMPORT_PREPARE);
	if (j->native_mode)
		import_native_put(f, j->native, "");
	put_sections(f, j, false, IMPORT_STARTED);
	if (!j->native_mode) {
		fputs("\n", f);
		put_comment(f, "---- What `hookd import --native` writes instead: native sections for the lines it "
			       "recognised in the scripts, each citing them (file:line). Lines it cannot map stay in "
			       "[exec] steps.");
		if (!import_native_put(f, j->native, "; "))
			put_comment(f, "(no line was recognised)");
	}
}

/* dst (mode, replaced) gets prefix (may be NULL) and then nt bytes of text. */
static int write_bytes(const char *dst, mode_t mode, const char *prefix, const char *text, size_t nt)
{
	_cleanup_close_ int out = -1;
	size_t np = prefix ? strlen(prefix) : 0;

	(void)unlink(dst);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (out < 0 || fchmod(out, mode) < 0)
		return -errno;
	if ((np && write(out, prefix, np) != (ssize_t)np) || (nt && write(out, text, nt) != (ssize_t)nt))
		return -EIO;
	return fsync(out) < 0 ? -errno : 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode, const char *prefix)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if (in < 0)
		return -errno;
	r = read_all_fd(in, 64u << 20, &text, &len);
	return r < 0 ? r : write_bytes(dst, mode, prefix, text, len);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Copies the regular files and directories of src into dst (created), modes without group/other
 * write; links to directories are not followed (a stopped -> release link is imported at release). */
static int copy_tree(const char *src, const char *dst, int depth)
{
	char **names;
	size_t n;
	int r = 0;

	if (depth > 8)
		return 0;
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (sysfs_list("", src, &names, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *s = xasprintf("%s/%s", src, names[i]), *d = xasprintf("%s/%s", dst, names[i]);
		struct stat st, lst;

		if (stat(s, &st) < 0 || lstat(s, &lst) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && !S_ISLNK(lst.st_mode))
			r = copy_tree(s, d, depth + 1);
		else if (S_ISREG(st.st_mode))
			r = copy_file(s, d, st.st_mode & 0755, NULL);
	}
	sysfs_list_free(names, n);
	return r;
}

static void remove_tree(const char *path)
{
	(void)nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* <hooks_dir>/VM.d: the VM's tree, each step under its placed name, a #!/bin/bash line added where
 * the dispatcher's bash fallback ran it. Built beside and renamed into place. */
static int make_copies(const struct import_job *j)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new", j->copies), *old = xasprintf("%s.old", j->copies);
	int r;

	remove_tree(tmp);
	r = copy_tree(j->vm.dir, tmp, 0);
	for (size_t i = 0; i < j->n_pl && r == 0; i++) {
		const struct placed *p = &j->pl[i];
		_cleanup_free_ char *at = xasprintf("%s/%s", tmp, p->sc->rel),
				    *to = xasprintf("%s/%s", tmp, p->copy_rel);

		_cleanup_free_ char *rest = j->native_mode ? import_native_rest(j->native, p->sc) : NULL;

		if (rest)
			r = write_bytes(to, 0755, p->sc->shebang ? NULL : "#!/bin/bash\n", rest, strlen(rest));
		else if (!p->sc->shebang)
			r = copy_file(p->sc->path, to, 0755, "#!/bin/bash\n");
		else if (strcmp(at, to) != 0 && rename(at, to) < 0)
			r = -errno;
		if (r == 0 && strcmp(at, to) != 0)
			(void)unlink(at);
	}
	if (r == 0) {
		remove_tree(old);
		if ((rename(j->copies, old) < 0 && errno != ENOENT) || rename(tmp, j->copies) < 0)
			r = -errno;
		remove_tree(old);
	}
	if (r < 0) {
		fprintf(stderr, "hookd: cannot copy %s to %s: %s\n", j->vm.dir, j->copies, strerror(-r));
		remove_tree(tmp);
	}
	return r;
}

static int mkdir_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*s = '/';
			return -errno;
		}
		*s = '/';
	}
	return 0;
}

/* The imported originals go to DIR.imported/VM/..., so that no dispatcher runs them besides hookd.
 * All or none: a failure moves back what moved. The files that stay (helpers the scripts source,
 * scripts at other points) are copied beside them, so that DIR.imported can be imported again. */
static int move_originals(const struct import_job *j, const char *dir)
{
	size_t i;
	int r = 0;

	for (i = 0; i < j->n_pl && r == 0; i++) {
		_cleanup_free_ char *to = xasprintf("%s.imported/%s/%s", dir, j->vm.name, j->pl[i].sc->rel);

		if (mkdir_parents(to) < 0 || rename(j->pl[i].sc->path, to) < 0) {
			r = -errno;
			fprintf(stderr, "hookd: cannot move %s to %s: %s\n", j->pl[i].sc->path, to, strerror(errno));
		}
	}
	if (r < 0)
		while (i-- > 1) {
			_cleanup_free_ char *to = xasprintf("%s.imported/%s/%s", dir, j->vm.name, j->pl[i - 1].sc->rel);

			(void)rename(to, j->pl[i - 1].sc->path);
		}
	if (r == 0) {
		_cleanup_free_ char *to = xasprintf("%s.imported/%s", dir, j->vm.name);

		(void)copy_tree(j->vm.dir, to, 0);
	}
	return r;
}

/* DIR.imported, where an earlier import moved the originals: importing again from there (--native
 * --force, say) moves nothing, since no dispatcher looks there. */
static bool imported_dir(const char *dir)
{
	size_t n = strlen(dir);

	return n > 9 && strcmp(dir + n - 9, ".imported") == 0;
}

static int write_ini(const struct import_job *j, const char *dir)
{
	_cleanup_free_ char *tmp = xasprintf("%s.new", j->ini);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int r;

	if (!f) {
		fprintf(stderr, "hookd: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	(void)fchmod(fd, 0644);
	put_ini(f, j);
	r = fflush(f) == 0 && fsync(fd) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = make_copies(j);
	if (r == 0 && !imported_dir(dir))
		r = move_originals(j, dir);
	if (r == 0 && rename(tmp, j->ini) < 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "hookd: %s: not imported: %s\n", j->vm.dir, strerror(-r));
		unlink(tmp);
		return 1;
	}
	printf("%s: %zu script%s copied to %s and run by %s", j->vm.name, j->n_pl, j->n_pl == 1 ? "" : "s", j->copies,
	       j->ini);
	if (!imported_dir(dir))
		printf("; the originals moved to %s.imported/%s", dir, j->vm.name);
	putchar('\n');
	return 0;
}

enum { IMPORT_SKIPPED = -1 };

/* Imports one VM directory: an exit status, or IMPORT_SKIPPED when it has no scripts to import. */
static int import_vm(const struct hookd_conf *conf, const struct import_opts *o, const char *dir, const char *vm)
{
	_cleanup_free_ char *rel = xasprintf("%s/%s", dir, vm);
	struct import_job j = { .ini = conf_vm_ini_path(conf, vm) };
	char vmdir[PATH_MAX];
	int code = 0;

	if (!j.ini || !realpath(rel, vmdir)) {
		fprintf(stderr, "hookd: %s: %s\n", rel, j.ini ? strerror(errno) : "not a usable VM name");
		free(j.ini);
		return 2;
	}
	j.copies = xasprintf("%s/%s.d", conf->hooks_dir, vm);
	import_scan_vm(vmdir, vm, &j.vm);
	j.native = import_native_new(&j.vm);
	j.native_mode = o->native;
	if (import_vm_steps(&j.vm) == 0) {
		fprintf(stderr, "hookd: %s: no scripts under prepare/begin, started/begin or release/end: skipped\n",
			vmdir);
		code = IMPORT_SKIPPED;
	} else if (place_steps(&j) < 0) {
		code = 2;
	} else if (o->to_stdout) {
		printf("; ---- %s (--stdout: nothing written; without it the scripts are copied to %s)\n", j.ini,
		       j.copies);
		put_ini(stdout, &j);
	} else if (access(j.ini, F_OK) == 0 && !o->force) {
		fprintf(stderr, "hookd: %s exists; not replacing it (--force replaces, --stdout prints)\n", j.ini);
		code = 2;
	} else {
		code = write_ini(&j, dir);
	}
	for (size_t i = 0; i < j.n_pl; i++)
		free(j.pl[i].label), free(j.pl[i].copy_rel), free(j.pl[i].argv_line);
	free(j.pl);
	import_vm_free(&j.vm);
	import_native_free(j.native);
	free(j.ini);
	free(j.copies);
	return code;
}

int import_run(const struct hookd_conf *conf, const struct import_opts *o)
{
	char dir[PATH_MAX], **vms;
	size_t n;
	int worst = 0, done = 0, skipped = 0;

	if (!realpath(o->dir, dir) || sysfs_list("", dir, &vms, &n) < 0) {
		fprintf(stderr, "hookd: %s: %s\n", o->dir, strerror(errno));
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *vmdir = xasprintf("%s/%s", dir, vms[i]);
		struct stat st;
		int r;

		if ((o->only_vm && strcmp(o->only_vm, vms[i]) != 0) || stat(vmdir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		r = import_vm(conf, o, dir, vms[i]);
		skipped += r == IMPORT_SKIPPED;
		done += r == 0;
		worst = r > worst ? r : worst;
	}
	sysfs_list_free(vms, n);
	if (!done && !worst) {
		fprintf(stderr, "hookd: %s in %s%s%s\n", skipped ? "no scripts to import" : "no VM directory", dir,
			o->only_vm ? " for " : "", o->only_vm ? o->only_vm : "");
		return 2;
	}
	return worst;
}
