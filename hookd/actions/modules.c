/* [modules]: unload and load kernel modules through libkmod (host/kmod.c).
 * On prepare: `unload` in the order given, then `load`. On release (the engine reverts newest
 * first) the unloaded modules come back in reverse order, and a loaded module goes away again only
 * if it was not loaded before. Module state is a resource several VMs can share: while another VM's
 * journal keeps the module, release leaves it as it is; the last holder restores the state the
 * first one found (the shared baseline). */
#include <errno.h>
#include <string.h>

#include "kmod.h"
#include "plan.h"
#include "shared.h"
#include "sysfs.h"

extern const struct action_ops action_modules;

struct modules_conf {
	struct strv load, unload;
};

static void modules_init(void *data)
{
	(void)data; /* both lists start empty */
}

static void modules_free(void *data)
{
	struct modules_conf *c = data;

	strv_free(&c->load);
	strv_free(&c->unload);
}

static int parse_names(const char *value, struct strv *out, struct err *e)
{
	_cleanup_strv_ struct strv items = { 0 };

	strv_free(out);
	strv_split_list(&items, value);
	for (size_t i = 0; i < items.n; i++) {
		char *tok = items.v[i];

		if (hkmod_name_normalize(tok) < 0)
			return err_set(e, -EINVAL, "'%s' is not a module name (letters, digits, '_' and '-')", tok);
		if (strv_has(out, tok))
			return err_set(e, -EINVAL, "module %s is listed twice", tok);
		strv_add(out, xstrdup(tok));
	}
	if (out->n == 0)
		return err_set(e, -EINVAL, "expected a list of module names");
	return 0;
}

static int modules_set(void *data, const char *key, const char *value, struct err *e)
{
	struct modules_conf *c = data;

	if (strcmp(key, "load") == 0)
		return parse_names(value, &c->load, e);
	if (strcmp(key, "unload") == 0)
		return parse_names(value, &c->unload, e);
	return -ENOENT;
}

static int modules_finish(void *data, struct err *e)
{
	struct modules_conf *c = data;

	for (size_t i = 0; i < c->load.n; i++)
		if (strv_has(&c->unload, c->load.v[i]))
			return err_set(e, -EINVAL, "module %s is in both load and unload", c->load.v[i]);
	if (!c->load.n && !c->unload.n)
		return err_set(e, -EINVAL, "expected load = ... and/or unload = ...");
	return 0;
}

static char *describe(const char *op, const char *name, enum hkmod_state s)
{
	bool unload = strcmp(op, "unload") == 0;

	if (s == HKMOD_BUILTIN)
		return xasprintf("module %s is built into the kernel: it cannot be %s, nothing to do", name,
				 unload ? "unloaded" : "loaded");
	if (unload && s == HKMOD_ABSENT)
		return xasprintf("module %s is not loaded: nothing to do", name);
	if (!unload && s == HKMOD_LOADED)
		return xasprintf("module %s is already loaded: nothing to do (left loaded on release)", name);
	return unload ? xasprintf("unload module %s through libkmod (refused while in use); loaded again on release",
				  name)
		      : xasprintf("load module %s through libkmod; unloaded again on release", name);
}

static int plan_one(const struct action_ctx *ctx, const char *op, const char *name, struct plan *p, struct err *e)
{
	const char *root = ctx->conf->root;
	enum hkmod_state s = hkmod_state(root, name);
	struct step *st;

	/* Whatever is unloaded must load again on release; whatever is loaded must exist. */
	if (s != HKMOD_BUILTIN && (strcmp(op, "load") == 0 || s == HKMOD_LOADED)) {
		int r = hkmod_find(root, name, e);

		if (r < 0)
			return r;
	}
	st = plan_add(p, &action_modules, op, name, strcmp(op, "load") == 0 ? "loaded" : "absent",
		      describe(op, name, s));
	st->shared = true;
	return 0;
}

static int modules_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct modules_conf *c = data;
	int r = 0;

	if (phase != PHASE_PREPARE)
		return 0;
	for (size_t i = 0; r == 0 && i < c->unload.n; i++)
		r = plan_one(ctx, "unload", c->unload.v[i], p, e);
	for (size_t i = 0; r == 0 && i < c->load.n; i++)
		r = plan_one(ctx, "load", c->load.v[i], p, e);
	return r;
}

/* saved = the module's state before the step: loaded, builtin or absent. */
static int modules_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	(void)e;
	*saved = xstrdup(hkmod_state_name(hkmod_state(ctx->conf->root, st->target)));
	return 0;
}

static int do_unload(const struct action_ctx *ctx, const char *name, struct err *e)
{
	_cleanup_free_ char *who = NULL;

	(void)hkmod_users(ctx->conf->root, name, &who);
	if (who)
		return err_set(e, -EBUSY, "cannot unload module %s: %s; stop those first", name, who);
	return hkmod_unload_module(ctx->conf->root, name, ctx->conf->timeout_ms, e);
}

static int modules_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *base = NULL;
	enum hkmod_state now = hkmod_state(root, st->target);
	bool unload = strcmp(st->op, "unload") == 0;
	int r;

	if (now == HKMOD_BUILTIN || (unload && now == HKMOD_ABSENT) || (!unload && now == HKMOD_LOADED))
		return 0;
	r = shared_baseline(ctx, action_modules.name, st->target, saved && saved[0] ? saved : hkmod_state_name(now),
			    &base, e);
	if (r < 0)
		return r;
	return unload ? do_unload(ctx, st->target, e) : hkmod_load_module(root, st->target, ctx->conf->timeout_ms, e);
}

/* Back to the state the first VM found, unless another VM still holds the module. */
static int modules_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *base = NULL;
	enum hkmod_state want, now = hkmod_state(root, rec->target);
	int r;

	if (shared_held_by_others(ctx, "modules", rec->target))
		return 0;
	r = shared_baseline(ctx, action_modules.name, rec->target, rec->saved[0] ? rec->saved : hkmod_state_name(now),
			    &base, e);
	if (r < 0)
		return r;
	if (hkmod_state_parse(base, &want) < 0)
		want = now;
	if (strcmp(rec->op, "unload") == 0 && want == HKMOD_LOADED && now == HKMOD_ABSENT)
		r = hkmod_load_module(root, rec->target, ctx->conf->timeout_ms, e);
	else if (strcmp(rec->op, "load") == 0 && want == HKMOD_ABSENT && now == HKMOD_LOADED)
		r = do_unload(ctx, rec->target, e);
	return r; /* the baseline goes once the journal no longer holds this record (shared_leftovers) */
}

const struct action_ops action_modules = {
	.name = "modules",
	.data_size = sizeof(struct modules_conf),
	.init = modules_init,
	.set = modules_set,
	.finish = modules_finish,
	.free_data = modules_free,
	.plan = modules_plan,
	.observe = modules_observe,
	.apply = modules_apply,
	.revert = modules_revert,
};
