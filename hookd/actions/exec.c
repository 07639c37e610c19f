/* [exec]: a user command per phase, run without a shell (spawn.c), with HOOKD_VM and HOOKD_PHASE in
 * its environment and bounded by a timeout.
 *
 *   prepare = ARGV   run at prepare; a non-zero exit or the timeout fails the prepare (rolled back)
 *   started = ARGV   run at started; a failure fails the start, which rolls back what prepare did
 *   release = ARGV   run when the [exec] step of prepare is undone: on release, in reverse section
 *                    order with the other steps, and during a rollback when this section's prepare
 *                    command or a later step fails (the prepare command may have done part of its
 *                    work before failing, so the release command should be safe to run then)
 *   timeout = SECONDS  bound on each command (default: hookd.conf's timeout)
 *
 * ARGV is split on white space; '...' and "..." quote literally. The program is an absolute path or
 * a bare name looked up in PATH (libvirt passes PATH to hooks) when the plan is made; the path found
 * is what runs and what the journal keeps for release. Relative paths (./x, dir/x) are refused: a
 * hook has no meaningful working directory. Commands run in "/" with stdin from /dev/null and the
 * environment LC_ALL=C, PATH, HOME, HOOKD_VM, HOOKD_PHASE; their output goes to hookd's log (stderr
 * or syslog, per hookd.conf), never to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "plan.h"
#include "spawn_prog.h"
#include "trust.h"

extern const struct action_ops action_exec;

#define MAX_TIMEOUT_S 3600u
/* What runs a program without #! and without an ELF header: what execvp(3) falls back to. */
#define FALLBACK_SHELL "/bin/sh"

enum { CMD_PREPARE, CMD_STARTED, CMD_RELEASE, N_CMDS };
static const char *const cmd_keys[N_CMDS] = { "prepare", "started", "release" };

struct exec_conf {
	char **argv[N_CMDS]; /* NULL when not set */
	unsigned timeout_ms; /* 0: hookd.conf's */
};

static void exec_init(void *data)
{
	(void)data;
}

static void exec_free(void *data)
{
	struct exec_conf *c = data;

	for (int i = 0; i < N_CMDS; i++)
		spawn_strv_free(c->argv[i]);
}

/* The interpreter of a "#!" line (the first word after it), or NULL. Caller frees. */
static char *shebang_interpreter(const char *head)
{
	const char *s = head + 2;

	s += strspn(s, " \t");
	return strndup(s, strcspn(s, " \t\n")); /* a '\r' stays: the kernel looks for "bash\r" too */
}

/* Can path run as hookd would run it? Root-owned (or the caller's), not writable by group or others,
 * in directories only root can change (trust_dirs: the rule of the chained hook, so that no one can
 * rename another program into its place), executable, and a "#!" interpreter that exists. *needs_shell: neither "#!" nor ELF, so it runs
 * through FALLBACK_SHELL. */
static int check_program(const char *path, bool *needs_shell, struct err *e)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *interp = NULL;
	char head[256] = "";
	ssize_t n;
	int r;

	if (fd < 0)
		return err_set(e, -errno, "'%s': %s", path, strerror(errno));
	r = trust_fd(fd, path, S_IFREG, e);
	if (r >= 0)
		r = trust_dirs(path, e);
	if (r < 0)
		return r;
	if (access(path, X_OK) < 0)
		return err_set(e, -EACCES, "'%s' is not executable (chmod +x %s)", path, path);
	n = read(fd, head, sizeof(head) - 1);
	head[n > 0 ? n : 0] = '\0';
	*needs_shell = !(n >= 2 && head[0] == '#' && head[1] == '!') && !(n >= 4 && memcmp(head, "\177ELF", 4) == 0);
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return 0;
	interp = shebang_interpreter(head);
	if (interp[0] && interp[strlen(interp) - 1] == '\r')
		return err_set(e, -ENOEXEC, "'%s': its #! line ends in a carriage return (DOS line ends): dos2unix it",
			       path);
	if (!interp[0] || access(interp, X_OK) < 0)
		return err_set(e, -ENOEXEC, "'%s': its #! line names '%s', which is not an executable file", path,
			       interp);
	return 0;
}

static int exec_set(void *data, const char *key, const char *value, struct err *e)
{
	struct exec_conf *c = data;
	unsigned long long s;

	if (strcmp(key, "timeout") == 0) {
		if (parse_uint(value, &s) < 0 || s == 0 || s > MAX_TIMEOUT_S)
			return err_set(e, -EINVAL, "expected whole seconds from 1 to %u, got '%s'", MAX_TIMEOUT_S,
				       value);
		c->timeout_ms = (unsigned)s * 1000u;
		return 0;
	}
	for (int i = 0; i < N_CMDS; i++) {
		char **argv;
		int r;

		if (strcmp(key, cmd_keys[i]) != 0)
			continue;
		r = spawn_argv_split(value, &argv, e);
		if (r < 0)
			return r;
		if (!argv[0][0]) {
			spawn_strv_free(argv);
			return err_set(e, -EINVAL, "expected a command, got an empty program name");
		}
		if (strchr(argv[0], '/') && argv[0][0] != '/') {
			err_set(e, -EINVAL, "'%s': give an absolute path, or a bare name found in PATH", argv[0]);
			spawn_strv_free(argv);
			return -EINVAL;
		}
		c->argv[i] = argv;
		return 0;
	}
	return -ENOENT;
}

/* What will not run is refused when the file is read (`hookd check`), not when the VM starts. Bare
 * names are looked up at plan time, in the hook's PATH. */
static int exec_finish(void *data, struct err *e)
{
	struct exec_conf *c = data;
	bool shell;

	if (!c->argv[CMD_PREPARE] && !c->argv[CMD_STARTED] && !c->argv[CMD_RELEASE])
		return err_set(e, -EINVAL, "expected at least one of prepare, started, release");
	for (int i = 0; i < N_CMDS; i++) {
		int r = c->argv[i] && c->argv[i][0][0] == '/' ? check_program(c->argv[i][0], &shell, e) : 0;

		if (r < 0)
			return err_prefix(e, r, "%s: ", cmd_keys[i]);
	}
	return 0;
}

/* The step value: "timeout=<ms>ms PROGRAM ARGS...", the program resolved in PATH (behind
 * FALLBACK_SHELL when it has no #! line). Journaled, so that release runs exactly what prepare planned. */
static int command_value(const struct action_ctx *ctx, const struct exec_conf *c, int which, char **value, char **shown,
			 struct err *e)
{
	char **argv = c->argv[which];
	_cleanup_free_ char *prog = NULL, *joined = NULL;
	_cleanup_free_ char **run = NULL;
	bool shell = false;
	size_t n = 0, k = 0;
	int r = spawn_find_program(argv[0], getenv("PATH"), &prog);

	if (r < 0)
		return err_set(e, -ENOENT, "%s: '%s' %s", cmd_keys[which], argv[0],
			       strchr(argv[0], '/') ? "is not an executable file" : "not found in PATH");
	r = check_program(prog, &shell, e);
	if (r < 0)
		return err_prefix(e, r, "%s: ", cmd_keys[which]);
	while (argv[n])
		n++;
	run = xcalloc(n + 2, sizeof(*run));
	if (shell)
		run[k++] = (char *)FALLBACK_SHELL;
	run[k++] = prog;
	for (size_t i = 1; i <= n; i++)
		run[k++] = argv[i];
	joined = spawn_argv_join(run);
	*value = xasprintf("timeout=%ums %s", c->timeout_ms ? c->timeout_ms : ctx->conf->timeout_ms, joined);
	*shown =
		xasprintf("%s`%s", joined, shell ? " (no #! line: run by " FALLBACK_SHELL ", as execvp(3) would)" : "");
	return 0;
}

static int exec_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct exec_conf *c = data;
	unsigned t = c->timeout_ms ? c->timeout_ms : ctx->conf->timeout_ms;
	_cleanup_free_ char *value = NULL, *shown = NULL;
	struct step *st;
	int r;

	if (phase == PHASE_PREPARE && c->argv[CMD_RELEASE]) {
		r = command_value(ctx, c, CMD_RELEASE, &value, &shown, e);
		if (r < 0)
			return r;
		st = plan_add(
			p, &action_exec, "on-release", "release", value,
			xasprintf(
				"on release run `%s (HOOKD_PHASE=release, up to %u ms): it runs when this step is undone, in reverse section order, also during a rollback if this section's prepare command or a later step fails",
				shown, t));
		st->shared = true; /* a command, not a resource: other VMs may run the same one */
		free(value), free(shown);
		value = shown = NULL;
	}
	if ((phase == PHASE_PREPARE && c->argv[CMD_PREPARE]) || (phase == PHASE_STARTED && c->argv[CMD_STARTED])) {
		int which = phase == PHASE_PREPARE ? CMD_PREPARE : CMD_STARTED;

		r = command_value(ctx, c, which, &value, &shown, e);
		if (r < 0)
			return r;
		st = plan_add(
			p, &action_exec, "run", cmd_keys[which], value,
			xasprintf("run `%s (HOOKD_PHASE=%s, up to %u ms; a non-zero exit or the timeout fails the %s)",
				  shown, cmd_keys[which], t, phase == PHASE_PREPARE ? "prepare" : "start"));
		st->revertible = false; /* nothing of its own to undo: `release =` is the undo */
		st->shared = true;
	}
	return 0;
}

/* Parses a step value back: the timeout and the argv. */
static int parse_value(const char *value, unsigned *timeout_ms, char ***argv, struct err *e)
{
	unsigned long long t;
	const char *sp = strchr(value, ' ');
	_cleanup_free_ char *num = NULL;

	if (strncmp(value, "timeout=", 8) != 0 || !sp || sp - value < 11 || strncmp(sp - 2, "ms", 2) != 0)
		return err_set(e, -EINVAL, "malformed [exec] command '%s' in the journal", value);
	num = strndup(value + 8, (size_t)(sp - 2 - value - 8));
	if (parse_uint(num, &t) < 0 || t == 0 || t > MAX_TIMEOUT_S * 1000ull)
		return err_set(e, -EINVAL, "malformed timeout in [exec] command '%s'", value);
	*timeout_ms = (unsigned)t;
	return spawn_argv_split(sp + 1, argv, e);
}

/* The command's output, line by line, to hookd's log (never stdout). */
static void log_output(const char *phase, const char *prog, const char *what, const char *text, bool cut)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;

	if (cut)
		log_info("[exec] %s: %s: (%s: only the last %d bytes kept)", phase, prog, what, SPAWN_CAPTURE_MAX);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		log_info("[exec] %s: %s: %s", phase, prog, l);
}

/* Runs the command of value as phase; fails with the command, how it ended and its last stderr line. */
static int run_command(const struct action_ctx *ctx, const char *phase, const char *value, struct err *e)
{
	_cleanup_free_ char *vm_var = xasprintf("HOOKD_VM=%s", ctx->vm ? ctx->vm : "");
	_cleanup_free_ char *phase_var = xasprintf("HOOKD_PHASE=%s", phase), *shown = NULL;
	const char *const extra[] = { vm_var, phase_var, NULL };
	char **env = spawn_env_new(extra), **argv = NULL;
	struct spawn_result res = { 0 };
	unsigned t = 0;
	int r = parse_value(value, &t, &argv, e);

	if (r == 0)
		r = spawn_run_input(argv, env, ctx->xml, ctx->xml_len, SPAWN_CAPTURE, t, &res, e);
	if (r == 0) {
		log_output(phase, argv[0], "stdout", res.out, res.out_cut);
		log_output(phase, argv[0], "stderr", res.err, res.err_cut);
	}
	if (r == 0 && !spawn_ok(&res)) {
		_cleanup_free_ char *how = spawn_status(&res), *last = spawn_last_line(res.err);

		shown = spawn_argv_join(argv);
		r = err_set(e, res.timed_out ? -ETIMEDOUT : -EIO, "%s command `%s` failed: %s%s%s", phase, shown, how,
			    last[0] ? ": " : " (nothing on stderr)", last);
	} else if (r < 0 && argv) {
		err_prefix(e, r, "%s command: ", phase);
	}
	spawn_result_free(&res);
	spawn_strv_free(argv);
	spawn_strv_free(env);
	return r;
}

static int exec_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	(void)ctx, (void)st, (void)e;
	*saved = xstrdup("");
	return 0;
}

static int exec_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	(void)saved;
	if (strcmp(st->op, "run") != 0)
		return 0; /* "on-release": only journaled now; its command runs on revert */
	/* the target is the phase ("prepare"), or "LABEL:prepare" in a named [exec LABEL] section */
	const char *phase = strrchr(st->target, ':');

	return run_command(ctx, phase ? phase + 1 : st->target, st->value, e);
}

static int exec_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	if (strcmp(rec->op, "on-release") != 0)
		return 0;
	return run_command(ctx, "release", rec->value, e);
}

/* The command's own timeout, and hookd.conf's for killing it and reaping what it left. */
static unsigned exec_bound(const struct action_ctx *ctx, const char *op, const char *value)
{
	unsigned t = MAX_TIMEOUT_S * 1000u;
	char **argv = NULL;
	struct err e;

	(void)op;
	if (parse_value(value, &t, &argv, &e) == 0)
		spawn_strv_free(argv);
	return t + ctx->conf->timeout_ms;
}

const struct action_ops action_exec = {
	.name = "exec",
	.repeatable = true,
	.data_size = sizeof(struct exec_conf),
	.init = exec_init,
	.set = exec_set,
	.finish = exec_finish,
	.free_data = exec_free,
	.plan = exec_plan,
	.observe = exec_observe,
	.apply = exec_apply,
	.revert = exec_revert,
	.bound_ms = exec_bound,
};
