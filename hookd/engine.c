#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "log.h"
#include "sysfs.h"
#include "trust.h"

struct lock_try {
	int fd;
	int how; /* LOCK_EX or LOCK_SH */
};

static bool lock_acquired(void *arg)
{
	struct lock_try *t = arg;

	return flock(t->fd, t->how | LOCK_NB) == 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The global lock serialises every VM's hook: shared resources are computed under it. A shared
 * lock (a dry run) waits for a running hook the same way, creates nothing, and is no lock at all
 * when no run has made the state directory yet (-ENOENT: then there are no journals either). */
static int engine_lock(const struct hookd_conf *conf, bool exclusive, int *out, struct err *e)
{
	_cleanup_free_ char *path = xasprintf("%s/lock", conf->state_dir);
	struct lock_try t = { -1, exclusive ? LOCK_EX : LOCK_SH };
	int r = exclusive ? mkdir_p(conf->state_dir, 0700) : 0;

	if (r < 0)
		return err_set(e, r, "cannot create state directory %s: %s", conf->state_dir, strerror(-r));
	r = trust_state_dir(conf->state_dir, e);
	if (r == 0)
		r = trust_open_state(path, exclusive ? O_RDWR | O_CREAT : O_RDONLY, &t.fd, e);
	if (r < 0)
		return r;
	r = sysfs_wait(lock_acquired, &t, conf->timeout_ms * 10);
	if (r < 0) {
		close(t.fd);
		return err_set(e, r, "another hookd run holds %s for over %u ms; try again, or see `hookd status`",
			       path, conf->timeout_ms * 10);
	}
	*out = t.fd;
	return 0;
}

int engine_view_open(const struct hookd_conf *conf, const char *own_path, bool exclusive, struct engine_view *v,
		     struct err *e)
{
	int r = engine_lock(conf, exclusive, &v->lock_fd, e);

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
	r = engine_load_others(conf->state_dir, own_path, &v->others, e);
	if (r < 0)
		engine_view_close(v);
	return r;
}

void engine_view_close(struct engine_view *v)
{
	engine_free_others(&v->others);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	v->lock_fd = -1;
}

static bool is_journal_name(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && strcmp(name + n - 8, ".journal") == 0;
}

int engine_for_each_journal(const char *state_dir, int (*fn)(struct journal *j, void *arg), void *arg,
			    struct err *e)
{
	char **names;
	size_t n;
	int r = trust_state_dir(state_dir, e);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = sysfs_list("", state_dir, &names, &n);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(e, r, "%s: %s", state_dir, strerror(-r));
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *path = NULL;
		struct journal *j;

		if (!is_journal_name(names[i]))
			continue;
		path = xasprintf("%s/%s", state_dir, names[i]);
		r = journal_load(path, &j, e);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		r = fn(j, arg);
		journal_free(j);
	}
	sysfs_list_free(names, n);
	return r;
}

static int collect_other(struct journal *j, void *arg)
{
	struct engine_others *o = arg;

	if (o->own_path && strcmp(j->path, o->own_path) == 0)
		return 0;
	o->v = xrealloc(o->v, (o->n + 1) * sizeof(*o->v));
	o->v[o->n++] = journal_dup(j);
	return 0;
}

int engine_load_others(const char *state_dir, const char *own_path, struct engine_others *o, struct err *e)
{
	*o = (struct engine_others){ .own_path = own_path };
	return engine_for_each_journal(state_dir, collect_other, o, e);
}

void engine_free_others(struct engine_others *o)
{
	for (size_t i = 0; i < o->n; i++)
		journal_free(o->v[i]);
	free(o->v);
	*o = (struct engine_others){ 0 };
}

int engine_check_conflicts(const struct action_ctx *ctx, const struct plan *plan, struct err *e)
{
	for (size_t k = 0; k < ctx->n_others; k++)
		for (size_t i = 0; i < plan->n; i++) {
			const struct step *st = &plan->steps[i];
			const struct journal *o = ctx->others[k];

			if (st->revertible && !st->shared && journal_find(o, st->ops->name, st->target))
				return err_set(e, -EBUSY, "%s is held by VM '%s' (journal %s); stop it first",
					       st->target, o->vm, o->path);
		}
	return 0;
}

/* Reverts records newest first; keeps the ones that fail in the journal for a later try. */
static int revert_all(const struct action_ctx *ctx, struct journal *j, struct err *e)
{
	struct err first = { "" };
	int ret = 0;

	for (size_t i = j->n; i-- > 0;) {
		struct journal_rec *rec = &j->recs[i];
		const struct action_ops *ops = action_find(rec->action);
		struct err re;
		int r;

		r = ops ? ops->revert(ctx, rec, &re)
			: err_set(&re, -EINVAL, "unknown action '%s' in journal", rec->action);
		if (r < 0) {
			log_error("could not revert [%s] %s %s: %s", rec->action, rec->op, rec->target, re.msg);
			if (!ret)
				snprintf(first.msg, sizeof(first.msg), "%s", re.msg);
			ret = ret ? ret : r;
			continue;
		}
		log_info("reverted [%s] %s %s (journal saved '%s')", rec->action, rec->op, rec->target, rec->saved);
		/* Drop the record now reverted: the journal never claims what is already undone. */
		free(rec->action), free(rec->op), free(rec->target), free(rec->value), free(rec->saved);
		memmove(rec, rec + 1, (j->n - i - 1) * sizeof(*rec));
		j->n--;
	}
	if (ret < 0) {
		struct err se;

		journal_save(j, &se);
		return err_set(e, ret, "%s (%zu step%s still held; retry with `hookd restore %s`)", first.msg, j->n,
			       j->n == 1 ? "" : "s", j->vm);
	}
	return journal_remove(j, e);
}

static int apply_step(const struct action_ctx *ctx, struct journal *j, const struct step *st, struct err *e)
{
	struct journal_rec *rec;
	char *saved = NULL;
	size_t idx;
	int r;

	if (!st->revertible) {
		r = st->ops->apply(ctx, st, "", e);
		if (r == 0)
			log_info("applied [%s] %s", st->ops->name, st->desc);
		return r;
	}
	rec = journal_find(j, st->ops->name, st->target);
	if (rec && rec->state == REC_DONE && strcmp(rec->op, st->op) == 0)
		return 0; /* an earlier prepare did it and release has not run: keep what it saved */
	if (rec) {
		idx = (size_t)(rec - j->recs);
	} else {
		r = st->ops->observe(ctx, st, &saved, e);
		if (r < 0)
			return r;
		idx = journal_append(j, REC_INTENT, st->ops->name, st->op, st->target, st->value, saved);
		free(saved);
		r = journal_save(j, e);
		if (r < 0)
			return r;
	}
	r = st->ops->apply(ctx, st, j->recs[idx].saved, e);
	if (r < 0)
		return r;
	log_info("applied [%s] %s", st->ops->name, st->desc);
	j->recs[idx].state = REC_DONE;
	return journal_save(j, e);
}

int engine_apply(const struct action_ctx *ctx, const struct plan *plan, const char *journal_path,
		 struct err *e)
{
	struct journal *j = NULL;
	int r = journal_load(journal_path, &j, e);
	if (r == -ENOENT)
		j = journal_new(journal_path, ctx->vm, ctx->dom && ctx->dom->uuid ? ctx->dom->uuid : "");
	else if (r < 0)
		return r;
	r = journal_save(j, e);
	for (size_t i = 0; r >= 0 && i < plan->n; i++) {
		r = apply_step(ctx, j, &plan->steps[i], e);
		if (r < 0)
			err_prefix(e, r, "[%s] ", plan->steps[i].ops->name);
	}
	if (r < 0) {
		struct err re;
		size_t len = strlen(e->msg);

		if (revert_all(ctx, j, &re) < 0)
			snprintf(e->msg + len, sizeof(e->msg) - len, "; rollback incomplete: %s", re.msg);
		else
			snprintf(e->msg + len, sizeof(e->msg) - len, " (everything done was rolled back)");
	}
	journal_free(j);
	return r;
}

int engine_revert(const struct action_ctx *actx, const char *journal_path, struct err *e)
{
	_cleanup_close_ int lock = -1;
	struct action_ctx c = *actx;
	struct engine_others o = { 0 };
	struct journal *j;
	int r;

	r = engine_lock(c.conf, true, &lock, e);
	if (r < 0)
		return r;
	r = journal_load(journal_path, &j, e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = engine_load_others(c.conf->state_dir, journal_path, &o, e);
	if (r == 0) {
		c.others = o.v;
		c.n_others = o.n;
		r = revert_all(&c, j, e);
	}
	engine_free_others(&o);
	journal_free(j);
	return r;
}

struct find_vm {
	const char *vm;
	char *path;
};

static int match_vm(struct journal *j, void *arg)
{
	struct find_vm *f = arg;

	if (strcmp(j->vm, f->vm) == 0 && !f->path)
		f->path = xstrdup(j->path);
	return 0;
}

int engine_find_journal(const char *state_dir, const char *vm, char **path, struct err *e)
{
	struct find_vm f = { vm, NULL };
	int r = engine_for_each_journal(state_dir, match_vm, &f, e);

	if (r < 0)
		return r;
	if (!f.path)
		return -ENOENT;
	*path = f.path;
	return 0;
}
