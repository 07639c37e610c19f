/* hookd edit VM: like visudo, for a VM's INI. The editor works on a copy beside the INI; the copy
 * replaces the INI (atomically, root's, 0644) only once it passes check; on an error the user sees
 * file:line and chooses to edit again or to abandon. An INI that does not pass check is never put in place. */
#include "cli_edit.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "engine.h"
#include "journal.h"
#include "phase.h"
#include "spawn_prog.h"
#include "trust.h"
#include "vmconfig.h"

extern char **environ;

static int copy_file(const char *from, int to_fd)
{
	_cleanup_close_ int fd = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = fd < 0 ? -errno : read_all_fd(fd, 1 << 20, &buf, &len);

	if (r < 0)
		return r;
	return write(to_fd, buf, len) == (ssize_t)len ? 0 : -EIO;
}

/* $VISUAL, else $EDITOR, else vi, on path. Not spawn_run: an editor is interactive, so it keeps the
 * terminal (stdin, stdout, the foreground process group) and has no timeout. Returns its exit code. */
static int run_editor(const char *path, struct err *e)
{
	const char *ed = getenv("VISUAL") && getenv("VISUAL")[0] ? getenv("VISUAL") : getenv("EDITOR");
	char **argv = NULL, **full;
	_cleanup_free_ char *prog = NULL;
	size_t n = 0;
	pid_t pid;
	int r, status;

	r = spawn_argv_split(ed && ed[0] ? ed : "vi", &argv, e);
	if (r < 0)
		return r;
	while (argv[n])
		n++;
	r = spawn_find_program(argv[0], getenv("PATH"), &prog);
	if (r < 0) {
		err_set(e, r, "editor %s not found (set VISUAL or EDITOR)", argv[0]);
		spawn_strv_free(argv);
		return r;
	}
	full = xcalloc(n + 2, sizeof(*full));
	memcpy(full, argv, n * sizeof(*full));
	full[n] = (char *)path;
	r = posix_spawn(&pid, prog, NULL, NULL, full, environ);
	free(full);
	spawn_strv_free(argv);
	if (r != 0)
		return err_set(e, -r, "cannot run the editor: %s", strerror(r));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(e, -errno, "waiting for the editor: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The check's message with the temporary name replaced by the INI's, so file:line names the INI. */
static void print_error(const char *msg, const char *tmp, const char *ini)
{
	const char *p = strstr(msg, tmp);

	if (p)
		fprintf(stderr, "hookd: %.*s%s%s\n", (int)(p - msg), msg, ini, p + strlen(tmp));
	else
		fprintf(stderr, "hookd: %s\n", msg);
}

/* Asks whether to edit again; false on 'x' or end of input. */
static bool again(void)
{
	char line[32];

	for (;;) {
		fputs("What now? (e)dit again, e(x)it without saving: ", stdout);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return false;
		if (line[0] == 'e')
			return true;
		if (line[0] == 'x')
			return false;
	}
}

static bool same_content(const char *a, const char *b)
{
	_cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;

	return fa >= 0 && fb >= 0 && read_all_fd(fa, 1 << 20, &ba, &la) == 0 &&
	       read_all_fd(fb, 1 << 20, &bb, &lb) == 0 && la == lb && memcmp(ba, bb, la) == 0;
}

/* The checked copy replaces the INI through the one atomic replace: root's, 0644, synced, renamed,
 * directory synced. */
static int replace(const char *tmp, const char *ini, struct err *e)
{
	_cleanup_close_ int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = fd < 0 ? -errno : read_all_fd(fd, 1 << 20, &buf, &len);

	if (r < 0)
		return err_set(e, r, "%s: %s", tmp, strerror(-r));
	return trust_replace_file(ini, buf, len, 0644, e);
}

/* Edits tmp until it passes check (true) or the user abandons it (false). */
static bool edit_until_valid(const char *tmp, const char *ini)
{
	for (;;) {
		struct vm_config *cfg = NULL;
		struct err e = { "" };
		int code = run_editor(tmp, &e);

		if (code < 0) {
			fprintf(stderr, "hookd: edit: %s\n", e.msg);
			return false;
		}
		if (code != 0)
			fprintf(stderr, "hookd: edit: the editor exited with status %d\n", code);
		else if (vmconfig_load(tmp, &cfg, &e) == 0) {
			vmconfig_free(cfg);
			return true;
		} else
			print_error(e.msg, tmp, ini);
		printf("%s is unchanged.\n", ini);
		if (!again())
			return false;
	}
}

int edit_run(const struct hookd_conf *conf, const char *vm)
{
	_cleanup_free_ char *ini = conf_vm_ini_path(conf, vm), *tmp = NULL, *journal = NULL;
	_cleanup_close_ int fd = -1;
	struct err e;
	int code = EXIT_ACTION_FAILED, r;

	if (!ini || access(ini, F_OK) < 0) {
		fprintf(stderr, "hookd: edit: no INI file for VM '%s'%s%s: `hookd new %s` writes one\n", vm,
			ini ? " at " : "", ini ? ini : "", vm);
		return EXIT_CONFIG;
	}
	tmp = xasprintf("%s.edit-XXXXXX", ini);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0644) < 0 || copy_file(ini, fd) < 0) {
		fprintf(stderr, "hookd: edit: cannot copy %s beside it: %s\n", ini, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return EXIT_ACTION_FAILED;
	}
	if (!edit_until_valid(tmp, ini))
		printf("Abandoned: %s is unchanged.\n", ini);
	else if (same_content(tmp, ini)) {
		printf("No change to %s.\n", ini);
		code = EXIT_OK;
	} else if ((r = replace(tmp, ini, &e)) < 0)
		fprintf(stderr, "hookd: edit: cannot replace %s: %s; it is unchanged\n", ini, strerror(-r));
	else {
		printf("%s replaced: it passes check.\n", ini);
		if (journal_find_vm(conf->state_dir, vm, NULL, &journal, &e) == 0)
			printf("VM %s is running: the change applies at its next start (release follows its journal).\n",
			       vm);
		code = EXIT_OK;
	}
	unlink(tmp);
	return code;
}
