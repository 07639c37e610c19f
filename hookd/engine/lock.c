#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "log.h"
#include "sysfs.h"
#include "trust.h"

/* Polls for the lock in slices this long, re-reading the holder's announcement in between. */
#define SLICE_MS 1000u

unsigned lock_default_bound_ms(const struct hookd_conf *conf)
{
	return conf->timeout_ms * 10;
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

/* The announcement: "<pid> <deadline, CLOCK_MONOTONIC ms> <vm> <what>", one line. */
void lock_announce(int fd, const char *vm, const char *what, unsigned bound_ms)
{
	_cleanup_free_ char *line = xasprintf("%ld %lld %s %s\n", (long)getpid(), now_ms() + bound_ms, vm, what);
	size_t len = strlen(line);

	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, len, 0) != (ssize_t)len)
		log_error("cannot record the lock holder in the lock file: %s", strerror(errno));
}

struct holder {
	long pid;
	long long deadline;
	char who[256]; /* "VM what (pid N)", for messages */
};

/* Reads the holder's announcement; false when there is none yet (it has just taken the lock). */
static bool read_holder(int fd, struct holder *h)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int used = 0;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (sscanf(buf, "%ld %lld %n", &h->pid, &h->deadline, &used) != 2 || !used)
		return false;
	snprintf(h->who, sizeof(h->who), "%s (pid %ld)", buf + used, h->pid);
	return true;
}

struct lock_try {
	int fd;
	int how; /* LOCK_EX or LOCK_SH */
};

static bool lock_acquired(void *arg)
{
	struct lock_try *t = arg;

	return flock(t->fd, t->how | LOCK_NB) == 0;
}

/* Waits while the holder is within its announced bound (a holder that has not announced yet gets
 * the default bound from when we first saw it). */
static int wait_for_holder(const struct hookd_conf *conf, struct lock_try *t, const char *path, struct err *e)
{
	long long fallback = now_ms() + lock_default_bound_ms(conf), deadline;
	struct holder h = { 0 }, shown = { 0 };
	bool said = false;

	for (;;) {
		if (sysfs_wait(lock_acquired, t, SLICE_MS) == 0)
			return 0;
		if (!read_holder(t->fd, &h))
			snprintf(h.who, sizeof(h.who), "another hookd run"), h.deadline = fallback;
		/* the holder's bound, and one more timeout for it to save its journal and let go */
		deadline = h.deadline + conf->timeout_ms;
		if (!said || strcmp(h.who, shown.who) != 0) {
			log_info("waiting for the lock %s: held by %s, for up to %lld s more", path, h.who,
				 (deadline - now_ms() + 999) / 1000);
			shown = h, said = true;
		}
		if (now_ms() >= deadline)
			return err_set(e, -ETIMEDOUT,
				       "the lock %s is held by %s past the bound of its step; see `hookd status`", path,
				       h.who);
	}
}

int lock_take(const struct hookd_conf *conf, bool exclusive, const char *vm, const char *what, int *out, struct err *e)
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
	if (!lock_acquired(&t) && (r = wait_for_holder(conf, &t, path, e)) < 0) {
		close(t.fd);
		return r;
	}
	if (exclusive)
		lock_announce(t.fd, vm, what, lock_default_bound_ms(conf));
	*out = t.fd;
	return 0;
}
