/* The dispatcher this reads trees for: a bash hook that, for `VM OP SUBOP -`, runs qemu.d/VM/OP/SUBOP
 * when that is an executable file, else every executable file `find -L qemu.d/VM/OP/SUBOP -maxdepth 1
 * -type f -executable` lists, in find's order (the directory's order: it differs between file
 * systems, so only names that start with a number say an order), each through bash's eval, so a file
 * without #! runs as a bash script. hookd runs them in name order. */
#include "import_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"
#include "util.h"

const struct import_point_info import_points[N_IMPORT_POINTS] = {
	[IMPORT_PREPARE] = { "prepare/begin", "prepare", "prepare", "begin" },
	[IMPORT_STARTED] = { "started/begin", "started", "started", "begin" },
	[IMPORT_RELEASE] = { "release/end", "release", "release", "end" },
};

static void say(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hookd: %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *read_text(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *text = NULL;
	size_t len;

	if (fd < 0 || read_all_fd(fd, IMPORT_SCRIPT_MAX, &text, &len) < 0)
		return xstrdup("");
	return text;
}

void import_words_free(struct import_words *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->w[i]);
	ws->n = 0;
}

static void strip_noise(char *l)
{
	static const char *const noise[] = { " 2>/dev/null", " &>/dev/null", " >/dev/null", " > /dev/null",
					     " 2>&1",        " || true",     " || :",       " 1>/dev/null" };

	for (size_t i = 0; i < ARRAY_SIZE(noise); i++)
		for (char *p; (p = strstr(l, noise[i]));)
			memmove(p, p + strlen(noise[i]), strlen(p + strlen(noise[i])) + 1);
	if (strncmp(l, "sudo ", 5) == 0)
		memmove(l, l + 5, strlen(l + 5) + 1);
}

/* Splits on blanks; quotes group and are dropped; |, >, >> stand alone; an unquoted # ends it. */
void import_split_words(const char *line, struct import_words *ws)
{
	_cleanup_free_ char *l = xstrdup(line);
	char *w = xmalloc(strlen(line) + 2), q = 0;
	size_t n = 0;

	strip_noise(l);
	*ws = (struct import_words){ 0 };
	for (const char *p = l;; p++) {
		bool op = !q && (*p == '|' || *p == '>'), end = !*p || (!q && (*p == ' ' || *p == '\t' || op));

		if (!q && (*p == ';' || *p == '`' || (*p == '$' && p[1] == '(') || (*p == '&' && p[1] == '&') ||
			   (*p == '\\' && !p[1])))
			ws->compound = true;
		if (end && n && ws->n < ARRAY_SIZE(ws->w) - 1)
			ws->w[ws->n++] = strndup(w, n);
		if (end)
			n = 0;
		if (op && ws->n < ARRAY_SIZE(ws->w) - 1) {
			bool twice = p[1] == *p;

			ws->w[ws->n++] = twice ? strndup(p, 2) : strndup(p, 1);
			ws->compound |= *p == '|' && twice;
			p += twice;
		}
		if (!*p || (!q && *p == '#' && n == 0 && (p == l || p[-1] == ' ')))
			break;
		if (end || op)
			continue;
		if (!q && (*p == '"' || *p == '\''))
			q = *p;
		else if (q && *p == q)
			q = 0;
		else
			w[n++] = *p;
	}
	free(w);
}

/* "5", "2.5", "10s", "1m": whole seconds, rounded up; -1 when not a literal duration. */
static long sleep_seconds(const char *w)
{
	char *end;
	double d = strtod(w, &end);

	if (end == w || d < 0 || (*end && !strchr("smh", *end)) || (*end && end[1]))
		return -1;
	d *= *end == 'm' ? 60 : *end == 'h' ? 3600 : 1;
	return d > 86400 ? 86400 : (long)d + (d > (double)(long)d);
}

/* A `source` target as a path: $(dirname "$0") and ${0%/\*} are the script's directory. */
static char *source_target(const char *script, const char *w)
{
	static const char *const self_dir[] = { "$(dirname $0)", "$(dirname -- $0)", "${0%/*}",
						"$(dirname ${BASH_SOURCE[0]})", "$(dirname $BASH_SOURCE)" };
	_cleanup_free_ char *dir = xstrdup(script);
	char resolved[PATH_MAX];

	*strrchr(dir, '/') = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(self_dir); i++) {
		size_t l = strlen(self_dir[i]);

		if (strncmp(w, self_dir[i], l) == 0) {
			_cleanup_free_ char *p = xasprintf("%s%s", dir, w + l);

			return realpath(p, resolved) ? xstrdup(resolved) : NULL;
		}
	}
	return w[0] == '/' && realpath(w, resolved) ? xstrdup(resolved) : NULL;
}

/* Appends item (taken) to a ", "-separated list. */
static void append(char **list, char *item)
{
	char *joined = *list ? xasprintf("%s, %s", *list, item) : xstrdup(item);

	free(item);
	free(*list);
	*list = joined;
}

/* Marks the script of vm at target (a real path) as a helper sourced at where. */
static void mark_sourced(struct import_vm *vm, const struct import_script *by, const char *target, unsigned line)
{
	for (size_t p = 0; p < N_IMPORT_POINTS; p++)
		for (size_t i = 0; i < vm->n[p]; i++) {
			struct import_script *o = &vm->scripts[p][i];
			char real[PATH_MAX];

			if (o != by && !o->sourced_by && realpath(o->path, real) && strcmp(real, target) == 0)
				o->sourced_by = xasprintf("%s:%u", by->rel, line);
		}
}

/* Sleeps of one script, and the scripts of vm it sources (marked as helpers). */
static void read_lines(struct import_vm *vm, struct import_script *sc)
{
	unsigned line = 0;

	for (const char *l = sc->text; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		_cleanup_free_ char *text = strndup(l, strcspn(l, "\n"));
		struct import_words ws;
		const char *cmd, *arg;

		import_split_words(text, &ws);
		cmd = ws.n > 0 ? ws.w[0] : "", arg = ws.n > 1 ? ws.w[1] : "";
		line++;
		if (ws.n > 0 && strstr(text, vm->dir))
			say(sc->path,
			    "line %u names the VM's directory by its absolute path: hookd runs a copy of this "
			    "script, and import moves the imported scripts to %.*s.imported; point it at %s's "
			    "copy, or keep what it names in place",
			    line, (int)(strrchr(vm->dir, '/') - vm->dir), vm->dir, vm->name);
		if (strcmp(cmd, "sleep") == 0 && sleep_seconds(arg) >= 0) {
			sc->sleep_s += (unsigned)sleep_seconds(arg);
			append(&sc->sleeps, xasprintf("%u: sleep %s", line, arg));
		} else if ((strcmp(cmd, "source") == 0 || strcmp(cmd, ".") == 0) && arg[0]) {
			_cleanup_free_ char *target = source_target(sc->path, arg);

			if (target)
				mark_sourced(vm, sc, target, line);
		}
		import_words_free(&ws);
	}
}

static void add_script(struct import_vm *vm, enum import_point p, const char *path, const char *rel)
{
	struct import_script *sc;

	vm->scripts[p] = xrealloc(vm->scripts[p], (vm->n[p] + 1) * sizeof(*sc));
	sc = &vm->scripts[p][vm->n[p]++];
	*sc = (struct import_script){ .path = xstrdup(path), .rel = xstrdup(rel), .text = read_text(path) };
	sc->shebang = strncmp(sc->text, "#!", 2) == 0 || strncmp(sc->text, "\177ELF", 4) == 0;
}

/* One entry the dispatcher looks at: a step when it is an executable regular file. */
static void consider(struct import_vm *vm, enum import_point p, const char *path, const char *rel)
{
	struct stat st;

	if (stat(path, &st) < 0)
		say(path, "%s: not imported (the dispatcher cannot run it either)", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		say(path, "a directory: not imported (the dispatcher does not look inside)");
	else if (!S_ISREG(st.st_mode))
		say(path, "not a regular file: not imported (the dispatcher skips it too)");
	else if (access(path, X_OK) < 0)
		say(path, "not executable: not imported (the dispatcher skips it too; chmod +x it and import "
			  "again if it should run)");
	else
		add_script(vm, p, path, rel);
}

static void list_point(struct import_vm *vm, enum import_point p)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", vm->dir, import_points[p].dir);
	struct stat st;
	char **names;
	size_t n;

	if (stat(dir, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) { /* qemu.d/VM/prepare/begin is itself the script */
		consider(vm, p, dir, import_points[p].dir);
		return;
	}
	if (sysfs_list("", dir, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
		_cleanup_free_ char *rel = xasprintf("%s/%s", import_points[p].dir, names[i]);

		consider(vm, p, path, rel);
	}
	sysfs_list_free(names, n);
}

/* The dispatcher ran a directory's scripts in readdir order; hookd runs them in name order. */
static void warn_order(const struct import_vm *vm, enum import_point p)
{
	size_t steps = 0, unordered = 0;

	for (size_t i = 0; i < vm->n[p]; i++) {
		const char *name = strrchr(vm->scripts[p][i].rel, '/') + 1;

		steps += !vm->scripts[p][i].sourced_by;
		unordered += !vm->scripts[p][i].sourced_by && !(name[0] >= '0' && name[0] <= '9');
	}
	if (steps > 1 && unordered)
		say(vm->dir,
		    "%s: %zu of its %zu scripts have names that do not start with a number, so they do "
		    "not say an order: the dispatcher ran them in directory order (which differs between "
		    "file systems), hookd runs them in name order; rename them 10-..., 20-... if the order "
		    "matters",
		    import_points[p].dir, unordered, steps);
}

static bool known_point(const char *point)
{
	for (size_t p = 0; p < N_IMPORT_POINTS; p++)
		if (strcmp(point, import_points[p].dir) == 0)
			return true;
	return false;
}

/* Scripts at points hookd has no steps for are named, not silently dropped. */
static void warn_other_points(const char *vmdir)
{
	char **ops, **subs, link[PATH_MAX];
	size_t n_ops, n_subs;

	if (sysfs_list("", vmdir, &ops, &n_ops) < 0)
		return;
	for (size_t i = 0; i < n_ops; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", vmdir, ops[i]);
		ssize_t l = readlink(d, link, sizeof(link) - 1);

		if (l > 0 && strcmp(ops[i], "prepare") && strcmp(ops[i], "started") && strcmp(ops[i], "release")) {
			link[l] = '\0';
			say(d,
			    "a link to %s: not imported again; its scripts are imported where %s is (the "
			    "dispatcher ran them once more at %s)",
			    link, link, ops[i]);
			continue;
		}
		if (sysfs_list("", d, &subs, &n_subs) < 0)
			continue;
		for (size_t k = 0; k < n_subs; k++) {
			_cleanup_free_ char *point = xasprintf("%s/%s", ops[i], subs[k]);

			_cleanup_free_ char *full = xasprintf("%s/%s", d, subs[k]);

			if (!known_point(point))
				say(full,
				    "not imported: hookd runs [exec] commands only at prepare/begin, started/begin "
				    "and release/end; it stays in place, where a chained dispatcher (hookd install "
				    "--chain) still runs it");
		}
		sysfs_list_free(subs, n_subs);
	}
	sysfs_list_free(ops, n_ops);
}

void import_scan_vm(const char *vmdir, const char *name, struct import_vm *vm)
{
	*vm = (struct import_vm){ .dir = xstrdup(vmdir), .name = xstrdup(name) };
	warn_other_points(vmdir);
	for (enum import_point p = 0; p < N_IMPORT_POINTS; p++)
		list_point(vm, p);
	for (size_t p = 0; p < N_IMPORT_POINTS; p++)
		for (size_t i = 0; i < vm->n[p]; i++)
			read_lines(vm, &vm->scripts[p][i]);
	for (enum import_point p = 0; p < N_IMPORT_POINTS; p++) {
		for (size_t i = 0; i < vm->n[p]; i++)
			if (vm->scripts[p][i].sourced_by)
				say(vm->scripts[p][i].path,
				    "sourced by %s: copied as a helper, not imported as a step "
				    "(the dispatcher also ran it on its own)",
				    vm->scripts[p][i].sourced_by);
		warn_order(vm, p);
	}
}

size_t import_vm_steps(const struct import_vm *vm)
{
	size_t n = 0;

	for (size_t p = 0; p < N_IMPORT_POINTS; p++)
		for (size_t i = 0; i < vm->n[p]; i++)
			n += !vm->scripts[p][i].sourced_by;
	return n;
}

void import_vm_free(struct import_vm *vm)
{
	for (size_t p = 0; p < N_IMPORT_POINTS; p++) {
		for (size_t i = 0; i < vm->n[p]; i++) {
			struct import_script *sc = &vm->scripts[p][i];

			free(sc->path), free(sc->rel), free(sc->text), free(sc->sleeps), free(sc->sourced_by);
		}
		free(vm->scripts[p]);
	}
	free(vm->dir);
	free(vm->name);
}
