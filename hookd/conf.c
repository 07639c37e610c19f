#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_HOOKS_DIR "/etc/hookd/hooks.d"
#define DEFAULT_STATE_DIR "/run/hookd"
#define DEFAULT_TIMEOUT_MS 5000

struct conf_parse {
	struct hookd_conf *c;
	struct err *e;
	const char *path;
	int line;
	bool failed;
	FILE *f;
};

int conf_check_owner(int fd, const char *path, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "%s: not a regular file", path);
	/* As root (always, in the hook) this means root; a user's read-only `hookd plan` may use own files. */
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return err_set(e, -EPERM, "%s: refusing a file not owned by root (hookd runs as root; chown root %s)",
			       path, path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(e, -EPERM, "%s: refusing a file writable by group or others (chmod go-w %s)",
			       path, path);
	return 0;
}

static int set_path(char **dst, const char *value, struct conf_parse *p, const char *key)
{
	if (value[0] != '/')
		return err_set(p->e, -EINVAL, "%s:%d: %s must be an absolute path, got '%s'", p->path, p->line,
			       key, value);
	free(*dst);
	*dst = xstrdup(value);
	return 0;
}

/* timeout = 5 | 2.5 | 500ms : seconds unless suffixed with ms; 0 < t <= 600 s. */
static int parse_timeout(const char *v, unsigned *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		d /= 1000.0;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	if (!(d > 0.0 && d <= 600.0))
		return -ERANGE;
	*out = (unsigned)(d * 1000.0 + 0.5);
	return *out ? 0 : -ERANGE; /* under half a millisecond would round to "no wait at all" */
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	struct hookd_conf *c = p->c;
	int r = 0;

	if (section[0]) {
		err_set(p->e, -EINVAL, "%s:%d: unexpected section [%s] (hookd.conf has no sections)", p->path,
			p->line, section);
		return 0;
	}
	if (strcmp(name, "root") == 0)
		r = set_path(&c->root, value, p, name);
	else if (strcmp(name, "hooks_dir") == 0)
		r = set_path(&c->hooks_dir, value, p, name);
	else if (strcmp(name, "state_dir") == 0) {
		r = set_path(&c->state_dir, value, p, name);
		c->state_dir_set = true;
	} else if (strcmp(name, "timeout") == 0) {
		if (parse_timeout(value, &c->timeout_ms) < 0)
			r = err_set(p->e, -EINVAL, "%s:%d: timeout: expected seconds (e.g. 5, 2.5, 500ms) from 1ms to 600, got '%s'",
				    p->path, p->line, value);
	} else if (strcmp(name, "log") == 0) {
		if (strcmp(value, "stderr") == 0)
			c->log = LOG_TARGET_STDERR;
		else if (strcmp(value, "syslog") == 0)
			c->log = LOG_TARGET_SYSLOG;
		else if (strcmp(value, "none") == 0)
			c->log = LOG_TARGET_NONE;
		else
			r = err_set(p->e, -EINVAL, "%s:%d: log: expected stderr, syslog or none, got '%s'", p->path,
				    p->line, value);
	} else
		r = err_set(p->e, -EINVAL, "%s:%d: unknown key '%s' (known: root, hooks_dir, state_dir, timeout, log)",
			    p->path, p->line, name);
	return r == 0;
}

/* inih reads through this so that the handler knows the line it is called for. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	char *s = fgets(str, num, p->f);

	if (!s || p->failed)
		return NULL;
	p->line++;
	/* inih reports a section only with its first key: catch a bare header here */
	if (s[strspn(s, " \t")] == '[') {
		err_set(p->e, -EINVAL, "%s:%d: unexpected section header (hookd.conf has no sections)", p->path,
			p->line);
		p->failed = true;
		return NULL;
	}
	return s;
}

static void conf_defaults(struct hookd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->root = xstrdup("/");
	c->hooks_dir = xstrdup(DEFAULT_HOOKS_DIR);
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	c->log = LOG_TARGET_SYSLOG;
}

int conf_open(const char *path, FILE **out, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : err_set(e, -errno, "%s: %s", path, strerror(errno));
	r = conf_check_owner(fd, path, e);
	if (r < 0) {
		close(fd);
		return r;
	}
	*out = fdopen(fd, "r");
	if (!*out) {
		close(fd);
		return err_set(e, -ENOMEM, "%s: out of memory", path);
	}
	return 0;
}

int conf_load(const char *path, bool must_exist, struct hookd_conf *out, struct err *e)
{
	struct conf_parse p = { .c = out, .e = e };
	int r;

	if (!path)
		path = HOOKD_CONF_FILE;
	p.path = path;
	conf_defaults(out);
	r = conf_open(path, &p.f, e);
	if (r == -ENOENT && !must_exist)
		goto done;
	if (r < 0) {
		if (r == -ENOENT)
			err_set(e, r, "%s: %s", path, strerror(-r));
		conf_free(out);
		return r;
	}
	out->path = xstrdup(path);
	e->msg[0] = '\0';
	r = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	fclose(p.f);
	if (r != 0 || p.failed) {
		if (!e->msg[0])
			err_set(e, -EINVAL, "%s:%d: syntax error (expected 'key = value')", path, r > 0 ? r : p.line);
		conf_free(out);
		return -EINVAL;
	}
done:
	if (!out->state_dir_set)
		out->state_dir = conf_rooted(out, DEFAULT_STATE_DIR);
	return 0;
}

void conf_free(struct hookd_conf *c)
{
	free(c->path);
	free(c->root);
	free(c->hooks_dir);
	free(c->state_dir);
	memset(c, 0, sizeof(*c));
}

void conf_set_root(struct hookd_conf *c, const char *root)
{
	free(c->root);
	c->root = xstrdup(root);
	if (!c->state_dir_set) {
		free(c->state_dir);
		c->state_dir = conf_rooted(c, DEFAULT_STATE_DIR);
	}
}

char *conf_rooted(const struct hookd_conf *c, const char *abs_path)
{
	size_t n = strlen(c->root);

	while (n > 0 && c->root[n - 1] == '/')
		n--;
	return xasprintf("%.*s%s", (int)n, c->root, abs_path);
}

char *conf_vm_ini_path(const struct hookd_conf *c, const char *vm)
{
	if (!vm[0] || strchr(vm, '/') || strcmp(vm, ".") == 0 || strcmp(vm, "..") == 0)
		return NULL;
	return xasprintf("%s/%s.ini", c->hooks_dir, vm);
}
