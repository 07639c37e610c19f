#include "engine.h"

#include <errno.h>
#include <string.h>

#include "journal.h"
#include "lock.h"
#include "log.h"
#include "shared.h"

/* The global lock this process holds (exclusive), for telling waiters what each step is: the view
 * or the revert that took it sets it. One run per process. */
static int held_lock = -1;

/* Every journal of state_dir, read under the lock. */
struct journals {
	struct journal **v;
	size_t n;
	size_t unreadable;
};

static int collect_quiet(struct journal *j, void *arg)
{
	struct journals *js = arg;

	js->unreadable += j->unreadable != NULL;
	js->v = xrealloc(js->v, (js->n + 1) * sizeof(*js->v));
	js->v[js->n++] = journal_dup(j);
	return 0;
}

/* Says loudly that a journal cannot be read: the run goes on for every other VM. */
static int collect(struct journal *j, void *arg)
{
	if (j->unreadable)
		log_error(
			"%s; its VM's steps are not counted for shared resources, and it stays until it is fixed or removed",
			j->unreadable);
	return collect_quiet(j, arg);
}

static void journals_free(struct journals *js)
{
	for (size_t i = 0; i < js->n; i++)
		journal_free(js->v[i]);
	free(js->v);
	*js = (struct journals){ 0 };
}

static void report_removed(const char *path, const char *why, void *arg)
{
	(void)arg;
	log_info("removed %s (%s)", path, why);
}

/* Under the lock: temp files of killed runs go, and baselines no journal holds any more (only when
 * every journal could be read: an unreadable one may hold them). */
static void tidy(const struct hookd_conf *conf, const struct journals *js)
{
	_cleanup_free_ struct held_step *held = NULL;
	size_t n = 0;

	if (journal_leftovers(conf->state_dir, true, report_removed, NULL) < 0)
		log_error("cannot remove the temp files left in %s", conf->state_dir);
	journal_held(js->v, js->n, NULL, &held, &n);
	if (!js->unreadable && shared_leftovers(conf, held, n, true, report_removed, NULL) < 0)
		log_error("cannot remove the stale baselines in %s/shared", conf->state_dir);
}

/* Takes the journals of js but own_path's and the unreadable ones into o, and what they hold. */
static void others_from(struct journals *js, const char *own_path, struct engine_others *o)
{
	*o = (struct engine_others){ .own_path = own_path };
	o->journals = xcalloc(js->n, sizeof(*o->journals));
	for (size_t i = 0; i < js->n; i++) {
		struct journal *j = js->v[i];

		if (j->unreadable || (own_path && strcmp(j->path, own_path) == 0))
			journal_free(j);
		else
			o->journals[o->n_journals++] = j;
	}
	free(js->v);
	*js = (struct journals){ 0 };
	journal_held(o->journals, o->n_journals, NULL, &o->v, &o->n);
}

int engine_load_others(const char *state_dir, const char *own_path, struct engine_others *o, struct err *e)
{
	struct journals js = { 0 };
	int r = journal_for_each(state_dir, collect_quiet, &js, e);

	others_from(&js, own_path, o);
	return r;
}

/* Under the exclusive lock: reads every journal once, says loudly which cannot be read, tidies
 * state_dir, and gives what the journals but own_path's hold. */
static int read_and_tidy(const struct hookd_conf *conf, const char *own_path, struct engine_others *o, struct err *e)
{
	struct journals js = { 0 };
	int r = journal_for_each(conf->state_dir, collect, &js, e);

	if (r == 0)
		tidy(conf, &js);
	others_from(&js, own_path, o);
	return r;
}

/* After a revert or a rollback, still under the lock: what the journal held no longer counts, and
 * the baselines only it held can go. */
static void tidy_after(const struct hookd_conf *conf)
{
	struct journals js = { 0 };
	struct err e;

	if (journal_for_each(conf->state_dir, collect_quiet, &js, &e) == 0)
		tidy(conf, &js);
	journals_free(&js);
}

static bool takes(const struct step *st, const struct held_step *h)
{
	return st->revertible && !st->shared && !strcmp(h->rec.action, st->ops->name) &&
	       !strcmp(h->rec.target, st->target);
}

/* A step may not take what another VM's live journal holds (a device, for instance). Journal by
 * journal (others holds each one's records in a row), the first step of the plan it holds. */
int engine_check_conflicts(const struct action_ctx *ctx, const struct plan *plan, struct err *e)
{
	for (size_t k = 0, end; k < ctx->n_others; k = end) {
		const struct held_step *o = &ctx->others[k];

		for (end = k; end < ctx->n_others && ctx->others[end].journal == o->journal;)
			end++;
		for (size_t i = 0; i < plan->n; i++)
			for (size_t m = k; m < end; m++)
				if (takes(&plan->steps[i], &ctx->others[m]))
					return err_set(e, -EBUSY, "%s is held by VM '%s' (journal %s); stop it first",
						       plan->steps[i].target, o->vm, o->journal);
	}
	return 0;
}

/* Tells the runs waiting for the lock what this one does now, and for how long at most. */
static void announce(const struct action_ctx *ctx, int lock, const struct action_ops *ops, const char *verb,
		     const char *op, const char *target, const char *value)
{
	_cleanup_free_ char *what = NULL;

	if (lock < 0)
		return; /* not under this process's exclusive lock (a unit test) */
	what = xasprintf("%s [%s] %s %s", verb, ops ? ops->name : "?", op, target);
	lock_announce(lock, ctx->vm, what,
		      ops && ops->bound_ms ? ops->bound_ms(ctx, op, value) : lock_default_bound_ms(ctx->conf));
}

/* Reverts records newest first; keeps the ones that fail in the journal for a later try. Each
 * record leaves the journal on disk as soon as it is reverted, so a crash resumes where it was
 * (and a revert run again finds the kernel as it left it: see action_ops.revert). */
static int revert_all(const struct action_ctx *ctx, const struct action_ops *const *actions, int lock,
		      struct journal *j, struct err *e)
{
	struct err first = { "" };
	int ret = 0;

	for (size_t i = j->n; i-- > 0;) {
		const struct step_record rec = journal_step(j, i);
		const struct action_ops *ops = action_find_in(actions, rec.action);
		struct err re;
		int r;

		announce(ctx, lock, ops, "reverting", rec.op, rec.target, rec.value);
		r = ops ? ops->revert(ctx, &rec, &re)
			: err_set(&re, -EINVAL, "unknown action '%s' in journal", rec.action);
		if (r < 0) {
			log_error("could not revert [%s] %s %s: %s", rec.action, rec.op, rec.target, re.msg);
			if (!ret)
				snprintf(first.msg, sizeof(first.msg), "%s", re.msg);
			ret = ret ? ret : r;
			continue;
		}
		log_info("reverted [%s] %s %s (journal saved '%s')", rec.action, rec.op, rec.target, rec.saved);
		if (journal_drop(j, i, &re) < 0)
			log_error("%s", re.msg);
	}
	if (ret < 0)
		return err_set(e, ret, "%s (%zu step%s still held; retry with `hookd restore %s`)", first.msg, j->n,
			       j->n == 1 ? "" : "s", j->vm);
	return journal_remove(j, e);
}

static int apply_step(const struct action_ctx *ctx, int lock, struct journal *j, const struct step *st, struct err *e)
{
	ssize_t found;
	char *saved = NULL;
	size_t idx;
	int r;

	announce(ctx, lock, st->ops, "applying", st->op, st->target, st->value);
	if (!st->revertible) {
		r = st->ops->apply(ctx, st, "", e);
		if (r == 0)
			log_info("applied %s %s", st->section, st->desc);
		return r;
	}
	found = journal_index(j, st->ops->name, st->target);
	if (found >= 0) {
		const struct step_record rec = journal_step(j, (size_t)found);

		if (rec.done && strcmp(rec.op, st->op) == 0)
			return 0; /* an earlier prepare did it and release has not run: keep what it saved */
		idx = (size_t)found;
	} else {
		r = st->ops->observe(ctx, st, &saved, e);
		if (r < 0)
			return r;
		r = journal_intent(j, st->ops->name, st->op, st->target, st->value, saved, &idx, e);
		free(saved);
		if (r < 0)
			return r;
	}
	r = st->ops->apply(ctx, st, journal_step(j, idx).saved, e);
	if (r < 0)
		return r;
	log_info("applied %s %s", st->section, st->desc);
	return journal_done(j, idx, e);
}

static int apply_all(const struct action_ctx *ctx, const struct action_ops *const *actions, int lock,
		     const struct plan *plan, struct journal *j, struct err *e)
{
	int r = journal_save(j, e);

	for (size_t i = 0; r >= 0 && i < plan->n; i++) {
		const struct step *st = &plan->steps[i];

		r = apply_step(ctx, lock, j, st, e);
		if (r < 0) /* the section as the INI names it: [exec] or [exec NAME] */
			err_prefix(e, r, "%s ", st->section);
	}
	if (r < 0) {
		struct err re;
		size_t len = strlen(e->msg);

		if (revert_all(ctx, actions, lock, j, &re) < 0)
			snprintf(e->msg + len, sizeof(e->msg) - len, "; rollback incomplete: %s", re.msg);
		else
			snprintf(e->msg + len, sizeof(e->msg) - len, " (everything done was rolled back)");
	}
	return r;
}

int engine_apply(const struct action_ctx *ctx, const struct action_ops *const *actions, const struct plan *plan,
		 const char *journal_path, struct err *e)
{
	struct journal *j = NULL;
	int r = journal_load(journal_path, &j, e);

	if (r == -ENOENT)
		j = journal_new(journal_path, ctx->vm, ctx->dom && ctx->dom->uuid ? ctx->dom->uuid : "");
	else if (r < 0)
		return r;
	r = apply_all(ctx, actions, held_lock, plan, j, e);
	journal_free(j);
	if (r < 0)
		tidy_after(ctx->conf);
	return r;
}

int engine_revert(const struct action_ctx *actx, const struct action_ops *const *actions, const char *journal_path,
		  struct err *e)
{
	_cleanup_close_ int lock = -1;
	struct action_ctx c = *actx;
	struct engine_others others;
	struct journal *j;
	int r;

	r = lock_take(c.conf, true, c.vm, "release", &lock, e);
	if (r < 0)
		return r;
	r = journal_load(journal_path, &j, e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_prefix(e, r, "%s", "nothing reverted, the journal is kept: ");
	held_lock = lock; /* set only where it is reset: the lock closes on every return */
	r = read_and_tidy(c.conf, journal_path, &others, e);
	c.others = others.v;
	c.n_others = others.n;
	if (r == 0)
		r = revert_all(&c, actions, lock, j, e);
	engine_free_others(&others);
	journal_free(j);
	tidy_after(c.conf);
	held_lock = -1;
	return r;
}

void engine_free_others(struct engine_others *o)
{
	for (size_t i = 0; i < o->n_journals; i++)
		journal_free(o->journals[i]);
	free(o->journals);
	free(o->v);
	*o = (struct engine_others){ 0 };
}

int engine_view_open(const struct hookd_conf *conf, const char *own_path, bool exclusive, struct engine_view *v,
		     struct err *e)
{
	const char *base = strrchr(own_path, '/');
	int r = lock_take(conf, exclusive, base ? base + 1 : own_path, "planning", &v->lock_fd, e);

	v->others = (struct engine_others){ 0 };
	v->blind = !exclusive && r == -EACCES;
	if (!exclusive && (r == -ENOENT || r == -EACCES)) {
		v->lock_fd = -1;
		return 0;
	}
	if (r < 0) {
		v->lock_fd = -1;
		return r;
	}
	if (exclusive)
		held_lock = v->lock_fd;
	r = exclusive ? read_and_tidy(conf, own_path, &v->others, e)
		      : engine_load_others(conf->state_dir, own_path, &v->others, e);
	if (r < 0)
		engine_view_close(v);
	return r;
}

void engine_view_close(struct engine_view *v)
{
	engine_free_others(&v->others);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	if (v->lock_fd == held_lock)
		held_lock = -1;
	v->lock_fd = -1;
}
