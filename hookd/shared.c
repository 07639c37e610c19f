#include "shared.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"

void shared_for_each(const struct action_ctx *ctx, const char *action, const char *target,
		     void (*fn)(const struct journal *j, const struct journal_rec *rec, void *arg), void *arg)
{
	for (size_t i = 0; i < ctx->n_others; i++) {
		const struct journal *j = ctx->others[i];

		for (size_t k = 0; k < j->n; k++)
			if (!strcmp(j->recs[k].action, action) && !strcmp(j->recs[k].target, target))
				fn(j, &j->recs[k], arg);
	}
}

static void count(const struct journal *j, const struct journal_rec *rec, void *arg)
{
	(void)j, (void)rec;
	(*(unsigned *)arg)++;
}

bool shared_held_by_others(const struct action_ctx *ctx, const char *action, const char *target)
{
	unsigned n = 0;

	shared_for_each(ctx, action, target, count, &n);
	return n > 0;
}

/* <state_dir>/shared/<key> with '/' in the key escaped, so a sysfs path can be a key. */
static char *baseline_path(const struct action_ctx *ctx, const char *key)
{
	_cleanup_free_ char *esc = xmalloc(strlen(key) * 3 + 1);
	char *o = esc;

	for (const char *s = key; *s; s++) {
		if (*s == '/' || *s == '%')
			o += sprintf(o, "%%%02x", (unsigned char)*s);
		else
			*o++ = *s;
	}
	*o = '\0';
	return xasprintf("%s/shared/%s", ctx->conf->state_dir, esc);
}

int shared_baseline(const struct action_ctx *ctx, const char *key, const char *current, char **baseline,
		    struct err *e)
{
	_cleanup_free_ char *path = baseline_path(ctx, key), *dir = xasprintf("%s/shared", ctx->conf->state_dir);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(current);
	int r = trust_open_state(path, O_RDONLY, &fd, e);

	if (r == 0)
		return read_all_fd(fd, 1 << 20, baseline, NULL);
	if (r != -ENOENT)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "%s: %s", dir, strerror(errno));
	r = trust_state_dir(dir, e);
	if (r == 0)
		r = trust_create_tmp(path, &tmp, &fd, e);
	if (r < 0)
		return r;
	if (write(fd, current, len) != (ssize_t)len || fsync(fd) < 0 || rename(tmp, path) < 0)
		return err_set(e, -errno, "cannot record the baseline of %s in %s: %s", key, path, strerror(errno));
	*baseline = xstrdup(current);
	return 0;
}

int shared_baseline_drop(const struct action_ctx *ctx, const char *key, struct err *e)
{
	_cleanup_free_ char *path = baseline_path(ctx, key);

	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	return 0;
}
