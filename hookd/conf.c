#include "conf.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ini.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_HOOKS_DIR "/etc/hookd/hooks.d"
#define DEFAULT_STATE_DIR "/run/hookd"
#define DEFAULT_TIMEOUT_MS 5000

struct conf_parse {
	struct ini_reader rd; /* first: inih's stream argument is the reader */
	struct hookd_conf *c;
	unsigned seen; /* one bit per key in conf_keys: a repeated key is an error */
};

static const char *const conf_keys[] = { "root", "hooks_dir", "state_dir", "chain", "timeout", "log" };

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

char *conf_ini_read_line(char *str, int num, void *stream)
{
	struct ini_reader *rd = stream;
	char *s;
	size_t len, lead;

	if (rd->failed || !(s = fgets(str, num, rd->f)))
		return NULL;
	rd->line++;
	len = strlen(s);
	if (len == (size_t)num - 1 && s[len - 1] != '\n' && !feof(rd->f)) {
		conf_ini_fail(rd, "%s:%u: line longer than %d characters", rd->path, rd->line, num - 2);
		return NULL;
	}
	lead = strspn(s, " \t");
	memmove(s, s + lead, len - lead + 1);
	if (s[0] == '[' && rd->on_section && rd->on_section(rd, s + 1) < 0) {
		rd->failed = true;
		return NULL;
	}
	return s;
}

int conf_ini_fail(struct ini_reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (!rd->failed) {
		va_start(ap, fmt);
		vsnprintf(rd->e->msg, sizeof(rd->e->msg), fmt, ap);
		va_end(ap);
		rd->failed = true;
	}
	return 0;
}

int conf_ini_parse(struct ini_reader *rd, int (*handler)(void *, const char *, const char *, const char *),
		   void *user, const char *expected)
{
	int r;

	rd->e->msg[0] = '\0';
	r = ini_parse_stream(conf_ini_read_line, rd, handler, user);
	if (r == 0 && !rd->failed)
		return 0;
	if (!rd->failed)
		err_set(rd->e, -EINVAL, "%s:%d: syntax error (expected %s)", rd->path, r > 0 ? r : (int)rd->line,
			expected);
	return -EINVAL;
}

static int set_path(char **dst, const char *value)
{
	if (value[0] != '/')
		return -EINVAL;
	free(*dst);
	*dst = xstrdup(value);
	return 0;
}

/* timeout = 5 | 2.5 | 500ms : seconds unless suffixed with ms; 1 ms <= t <= 600 s. */
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

static int parse_log(const char *v, enum log_target *out)
{
	static const char *const names[] = { [LOG_TARGET_STDERR] = "stderr", [LOG_TARGET_SYSLOG] = "syslog",
					     [LOG_TARGET_NONE] = "none" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (enum log_target)i;
			return 0;
		}
	return -EINVAL;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	struct ini_reader *rd = &p->rd;
	struct hookd_conf *c = p->c;
	size_t k;

	(void)section; /* a header is refused by the reader before any key of it arrives */
	for (k = 0; k < ARRAY_SIZE(conf_keys) && strcmp(name, conf_keys[k]) != 0; k++)
		;
	if (k == ARRAY_SIZE(conf_keys))
		return conf_ini_fail(rd, "%s:%u: unknown key '%s' (known: root, hooks_dir, state_dir, chain, timeout, log)",
				     rd->path, rd->line, name);
	if (p->seen & (1u << k))
		return conf_ini_fail(rd, "%s:%u: '%s' is set twice", rd->path, rd->line, name);
	p->seen |= 1u << k;
	if (k <= 3) {
		char **dst[] = { &c->root, &c->hooks_dir, &c->state_dir, &c->chain };

		if (set_path(dst[k], value) < 0)
			return conf_ini_fail(rd, "%s:%u: %s must be an absolute path, got '%s'", rd->path, rd->line,
					     name, value);
		c->state_dir_set |= k == 2;
	} else if (k == 4 && parse_timeout(value, &c->timeout_ms) < 0)
		return conf_ini_fail(rd, "%s:%u: timeout: expected seconds (e.g. 5, 2.5, 500ms) from 1ms to 600, got '%s'",
				     rd->path, rd->line, value);
	else if (k == 5 && value[0] == '/') {
		c->log = LOG_TARGET_FILE;
		free(c->log_file);
		c->log_file = xstrdup(value);
	} else if (k == 5 && parse_log(value, &c->log) < 0)
		return conf_ini_fail(rd, "%s:%u: log: expected syslog, stderr, none or an absolute file path, got '%s'",
				     rd->path, rd->line, value);
	return 1;
}

static int no_sections(struct ini_reader *rd, const char *header)
{
	(void)header;
	return err_set(rd->e, -EINVAL, "%s:%u: unexpected section header (hookd.conf has no sections)", rd->path,
		       rd->line);
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
	struct conf_parse p = { .rd = { .e = e, .on_section = no_sections }, .c = out };
	int r;

	if (!path)
		path = HOOKD_CONF_FILE;
	p.rd.path = path;
	conf_defaults(out);
	r = conf_open(path, &p.rd.f, e);
	if (r == -ENOENT && !must_exist)
		goto done;
	if (r < 0) {
		if (r == -ENOENT)
			err_set(e, r, "%s: %s", path, strerror(-r));
		conf_free(out);
		return r;
	}
	out->path = xstrdup(path);
	r = conf_ini_parse(&p.rd, conf_handler, &p, "'key = value'");
	fclose(p.rd.f);
	if (r < 0) {
		conf_free(out);
		return r;
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
	free(c->chain);
	free(c->log_file);
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
