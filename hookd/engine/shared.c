#include "shared.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"

static bool holds(const struct held_step *h, const char *action, const char *target)
{
	return !strcmp(h->rec.action, action) && !strcmp(h->rec.target, target);
}

void shared_for_each(const struct action_ctx *ctx, const char *action, const char *target,
		     void (*fn)(const struct held_step *h, void *arg), void *arg)
{
	for (size_t i = 0; i < ctx->n_others; i++)
		if (holds(&ctx->others[i], action, target))
			fn(&ctx->others[i], arg);
}

static void count(const struct held_step *h, void *arg)
{
	(void)h;
	(*(unsigned *)arg)++;
}

bool shared_held_by_others(const struct action_ctx *ctx, const char *action, const char *target)
{
	unsigned n = 0;

	shared_for_each(ctx, action, target, count, &n);
	return n > 0;
}

/* <state_dir>/shared/<action>:<target>, with '/', '%', ':' and '.' in the target %-escaped (a sysfs
 * path can be a target): the name says which journal record holds the baseline, and never ends in
 * the ".tmp" of the temp file beside it. */
static char *baseline_path(const struct hookd_conf *conf, const char *action, const char *target)
{
	_cleanup_free_ char *esc = pct_escape(target, "/:.");

	return xasprintf("%s/shared/%s:%s", conf->state_dir, action, esc);
}

int shared_baseline(const struct action_ctx *ctx, const char *action, const char *target, const char *current,
		    char **baseline, struct err *e)
{
	_cleanup_free_ char *path = baseline_path(ctx->conf, action, target);
	_cleanup_free_ char *dir = xasprintf("%s/shared", ctx->conf->state_dir);
	_cleanup_close_ int fd = -1;
	int r = trust_open_state(path, O_RDONLY, &fd, e);

	if (r == 0)
		return read_all_fd(fd, 1 << 20, baseline, NULL);
	if (r != -ENOENT)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "%s: %s", dir, strerror(errno));
	r = trust_state_dir(dir, e);
	if (r == 0)
		r = trust_replace_state(path, current, strlen(current), e);
	if (r < 0)
		return err_prefix(e, r, "cannot record the baseline of %s: ", target);
	*baseline = xstrdup(current);
	return 0;
}

int shared_baseline_drop(const struct action_ctx *ctx, const char *action, const char *target, struct err *e)
{
	_cleanup_free_ char *path = baseline_path(ctx->conf, action, target);

	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* Splits "<action>:<escaped target>" in place; false for a name of any other form. */
static bool parse_baseline_name(char *name, const char **action, char **target)
{
	char *colon = strchr(name, ':');

	if (!colon || colon == name)
		return false;
	*colon = '\0';
	*action = name;
	*target = colon + 1;
	return pct_unescape(*target) == 0;
}

static bool held(const struct held_step *all, size_t n, const char *action, const char *target)
{
	for (size_t i = 0; i < n; i++)
		if (holds(&all[i], action, target))
			return true;
	return false;
}

struct held_view {
	const struct held_step *all;
	size_t n;
};

/* Why a file of <state_dir>/shared is a leftover, or NULL when it is a live baseline. */
static const char *leftover_why(char *name, void *ctx)
{
	const struct held_view *v = ctx;
	const char *action;
	char *target;
	size_t len = strlen(name);

	if (len > 4 && strcmp(name + len - 4, ".tmp") == 0)
		return "temp file of a run that was killed";
	if (!parse_baseline_name(name, &action, &target) || !action_find(action))
		return NULL; /* not ours to judge */
	return held(v->all, v->n, action, target) ? NULL : "baseline that no journal holds any more";
}

int shared_leftovers(const struct hookd_conf *conf, const struct held_step *all, size_t n, bool remove,
		     void (*report)(const char *path, const char *why, void *arg), void *arg)
{
	_cleanup_free_ char *dir = xasprintf("%s/shared", conf->state_dir);
	struct held_view v = { all, n };

	return dir_leftovers(dir, leftover_why, &v, remove, report, arg);
}
