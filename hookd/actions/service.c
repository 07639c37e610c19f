/* [service]: stop systemd units (the display manager) before the GPU is taken, and start again on
 * release those that were running, newest first.
 *
 *   stop = UNIT...   units to stop at prepare, in order (white space or commas between them)
 *
 * systemctl is found in PATH (libvirt passes PATH to hooks) and run through spawn.c: an argv, no
 * shell, bounded by hookd.conf's timeout (raise it when a display manager takes longer to stop;
 * `systemctl stop` waits for the stop job to finish). A unit that does not stop fails the prepare,
 * and the rollback starts again the units already stopped. systemd belongs to this machine, not to
 * a root prefix: systemctl runs only with root = / (or under the test simulator, which declares
 * its root, with a fake systemctl first in PATH).
 *
 * Several VMs may stop the same unit: the state before the first of them is kept as a shared
 * baseline, and only the last one to release starts the unit again. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "shared.h"
#include "spawn_prog.h"
#include "sysfs.h"

extern const struct action_ops action_service;

#define UNIT_NAME_MAX 255

struct service_conf {
	char **units;
	size_t n;
};

static void service_init(void *data)
{
	(void)data;
}

static void service_free(void *data)
{
	struct service_conf *c = data;

	for (size_t i = 0; i < c->n; i++)
		free(c->units[i]);
	free(c->units);
}

/* systemd's unit name characters; a leading '-' would be read by systemctl as an option. */
static bool unit_name_valid(const char *u)
{
	if (!u[0] || u[0] == '-' || u[0] == '.' || strlen(u) > UNIT_NAME_MAX)
		return false;
	for (const char *s = u; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(":-_.@\\", *s)))
			return false;
	return true;
}

static int service_set(void *data, const char *key, const char *value, struct err *e)
{
	struct service_conf *c = data;
	_cleanup_strv_ struct strv items = { 0 };

	if (strcmp(key, "stop") != 0)
		return -ENOENT;
	strv_split_list(&items, value);
	for (size_t k = 0; k < items.n; k++) {
		const char *u = items.v[k];

		if (!unit_name_valid(u))
			return err_set(e, -EINVAL, "'%s' is not a systemd unit name (e.g. display-manager.service)", u);
		for (size_t i = 0; i < c->n; i++)
			if (strcmp(c->units[i], u) == 0)
				return err_set(e, -EINVAL, "%s is listed twice", u);
		c->units = xrealloc(c->units, (c->n + 1) * sizeof(*c->units));
		c->units[c->n++] = xstrdup(u);
	}
	if (c->n == 0)
		return err_set(e, -EINVAL, "expected one or more unit names (e.g. display-manager.service)");
	return 0;
}

static int service_finish(void *data, struct err *e)
{
	if (((struct service_conf *)data)->n == 0)
		return err_set(e, -EINVAL, "expected stop = UNIT... (e.g. display-manager.service)");
	return 0;
}

/* systemctl's path; refused under a root prefix that is not declared simulated. */
static int find_systemctl(const struct action_ctx *ctx, char **path, struct err *e)
{
	const char *env_path = getenv("PATH");

	if (!sysfs_kernel_calls_allowed(ctx->conf->root))
		return err_set(
			e, -EPERM,
			"refusing to run systemctl with root = %s: systemd units belong to this machine (hookd acts on them only with root = /)",
			ctx->conf->root);
	if (spawn_find_program("systemctl", env_path, path) < 0)
		return err_set(e, -ENOENT, "systemctl not found in PATH (%s): [service] needs systemd",
			       env_path ? env_path : "unset");
	return 0;
}

/* Runs `systemctl VERB [--quiet] UNIT`; fills res. */
static int systemctl(const struct action_ctx *ctx, const char *verb, const char *unit, struct spawn_result *res,
		     struct err *e)
{
	_cleanup_free_ char *prog = NULL;
	bool quiet = strcmp(verb, "is-active") == 0;
	char *argv[] = { NULL, (char *)verb, quiet ? "--quiet" : (char *)unit, quiet ? (char *)unit : NULL, NULL };
	char **env;
	int r = find_systemctl(ctx, &prog, e);

	if (r < 0)
		return r;
	argv[0] = prog;
	env = spawn_env_new(NULL);
	r = spawn_run(argv, env, SPAWN_CAPTURE, ctx->conf->timeout_ms, res, e);
	spawn_strv_free(env);
	return r;
}

/* A failure message: "`systemctl VERB UNIT`: exit code 1: <its last stderr line>". */
static int systemctl_failed(struct spawn_result *res, const char *verb, const char *unit, struct err *e)
{
	_cleanup_free_ char *how = spawn_status(res), *last = spawn_last_line(res->err);
	int r = err_set(e, res->timed_out ? -ETIMEDOUT : -EIO, "`systemctl %s %s` failed: %s%s%s", verb, unit, how,
			last[0] ? ": " : "", last);

	spawn_result_free(res);
	return r;
}

static int unit_active(const struct action_ctx *ctx, const char *unit, bool *active, struct err *e)
{
	struct spawn_result res;
	int r = systemctl(ctx, "is-active", unit, &res, e);

	if (r < 0)
		return r;
	/* Any exit code is an answer (3: inactive, 4: no such unit); a signal or the timeout is not. */
	if (res.timed_out || res.signal)
		return systemctl_failed(&res, "is-active --quiet", unit, e);
	*active = res.exit_code == 0;
	spawn_result_free(&res);
	return 0;
}

static int service_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct service_conf *c = data;
	_cleanup_free_ char *prog = NULL;
	unsigned t = ctx->conf->timeout_ms;
	int r;

	if (phase != PHASE_PREPARE)
		return 0;
	r = find_systemctl(ctx, &prog, e);
	for (size_t i = 0; r == 0 && i < c->n; i++) {
		const char *u = c->units[i];
		bool active = false;
		char *desc;

		/* Asking systemd costs a process per unit: only for people (`hookd plan`), not on the hook's path. */
		if (ctx->describe && (r = unit_active(ctx, u, &active, e)) < 0)
			break;
		if (!ctx->describe)
			desc = xasprintf(
				"%s: if running (`%s is-active --quiet %s`), `%s stop %s` (up to %u ms); on release `%s start %s` only if it was running",
				u, prog, u, prog, u, t, prog, u);
		else if (active)
			desc = xasprintf("%s is running: `%s stop %s` (up to %u ms); on release `%s start %s`", u, prog,
					 u, t, prog, u);
		else
			desc = xasprintf("%s is not running: nothing to stop, and not started on release", u);
		plan_add(p, &action_service, "stop", u, "inactive", desc)->shared = true;
	}
	return r;
}

/* saved = "active" or "inactive": whether the unit ran when this VM came to stop it. */
static int service_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	_cleanup_free_ char *base = NULL;
	bool active = false;
	int r = unit_active(ctx, st->target, &active, e);

	if (r < 0)
		return r;
	/* No other VM holds it: what it is now is the baseline (a stale one from a lost journal goes). */
	if (!shared_held_by_others(ctx, "service", st->target) &&
	    (r = shared_baseline_drop(ctx, action_service.name, st->target, e)) < 0)
		return r;
	r = shared_baseline(ctx, action_service.name, st->target, active ? "active" : "inactive", &base, e);
	if (r < 0)
		return r;
	*saved = xstrdup(active ? "active" : "inactive");
	return 0;
}

static int service_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	struct spawn_result res;
	bool active = false;
	int r;

	if (strcmp(saved, "active") != 0)
		return 0; /* not running: nothing to stop, nothing to start again */
	r = systemctl(ctx, "stop", st->target, &res, e);
	if (r < 0)
		return r;
	if (!spawn_ok(&res))
		return systemctl_failed(&res, "stop", st->target, e);
	spawn_result_free(&res);
	r = unit_active(ctx, st->target, &active, e);
	if (r == 0 && active)
		r = err_set(
			e, -EBUSY,
			"%s is active again after `systemctl stop` (restarted by a dependency, a socket or Restart=?)",
			st->target);
	return r;
}

/* Starts the unit when it ran before the first VM stopped it, unless another VM still wants it stopped. */
static int service_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	_cleanup_free_ char *base = NULL;
	struct spawn_result res;
	int r;

	if (shared_held_by_others(ctx, "service", rec->target)) {
		log_info("[service] %s left stopped: another running VM stopped it too", rec->target);
		return 0;
	}
	r = shared_baseline(ctx, action_service.name, rec->target, rec->saved, &base, e);
	if (r < 0)
		return r;
	if (strcmp(base, "active") == 0 || strcmp(rec->saved, "active") == 0) {
		r = systemctl(ctx, "start", rec->target, &res, e);
		if (r < 0)
			return r;
		if (!spawn_ok(&res))
			return systemctl_failed(&res, "start", rec->target, e);
		spawn_result_free(&res);
	}
	return 0; /* the baseline goes once the journal no longer holds this record (shared_leftovers) */
}

const struct action_ops action_service = {
	.name = "service",
	.data_size = sizeof(struct service_conf),
	.init = service_init,
	.set = service_set,
	.finish = service_finish,
	.free_data = service_free,
	.plan = service_plan,
	.observe = service_observe,
	.apply = service_apply,
	.revert = service_revert,
};
