#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "trust.h"

#define DEFAULT_HOOKS_DIR "/etc/hookd/hooks.d"
#define DEFAULT_STATE_DIR "/run/hookd"
#define DEFAULT_TIMEOUT_MS 5000

struct conf_parse {
	struct ini_reader rd; /* first: inih's stream argument is the reader */
	struct hookd_conf *c;
	unsigned seen; /* one bit per key in conf_keys: a repeated key is an error */
};

static const char *const conf_keys[] = { "root", "hooks_dir", "state_dir", "chain", "timeout", "log" };

char *conf_ini_read_line(char *str, int num, void *stream)
{
	struct ini_reader *rd = stream;
	const char *nl;
	size_t len, lead;

	if (rd->failed || rd->pos >= rd->end)
		return NULL;
	rd->line++;
	nl = memchr(rd->pos, '\n', (size_t)(rd->end - rd->pos));
	len = (size_t)((nl ? nl + 1 : rd->end) - rd->pos);
	if (len > (size_t)num - 1) {
		conf_ini_fail(rd, "%s:%u: line longer than %d characters", rd->path, rd->line, num - 2);
		return NULL;
	}
	memcpy(str, rd->pos, len);
	str[len] = '\0';
	rd->pos += len;
	lead = strspn(str, " \t");
	memmove(str, str + lead, len - lead + 1);
	if (str[0] == '[' && rd->on_section && rd->on_section(rd, str + 1) < 0) {
		rd->failed = true;
		return NULL;
	}
	return str;
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

int conf_ini_parse(struct ini_reader *rd, int (*handler)(void *, const char *, const char *, const char *), void *user,
		   const char *expected)
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
	static const char *const names[] = {
		[LOG_TARGET_STDERR] = "stderr", [LOG_TARGET_SYSLOG] = "syslog", [LOG_TARGET_NONE] = "none"
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (enum log_target)i;
			return 0;
		}
	return -EINVAL;
}

/* Text from the file, for a message: only when anyone may read the file anyway. */
static const char *shown(const struct ini_reader *rd, const char *text)
{
	return rd->world_readable ? text : "?";
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
		return conf_ini_fail(rd,
				     "%s:%u: unknown key '%s' (known: root, hooks_dir, state_dir, chain, timeout, log)",
				     rd->path, rd->line, shown(rd, name));
	if (p->seen & (1u << k))
		return conf_ini_fail(rd, "%s:%u: '%s' is set twice", rd->path, rd->line, name);
	p->seen |= 1u << k;
	if (k <= 3) {
		char **dst[] = { &c->root, &c->hooks_dir, &c->state_dir, &c->chain };

		if (set_path(dst[k], value) < 0)
			return conf_ini_fail(rd, "%s:%u: %s must be an absolute path, got '%s'", rd->path, rd->line,
					     name, shown(rd, value));
		c->state_dir_set |= k == 2;
	} else if (k == 4 && parse_timeout(value, &c->timeout_ms) < 0)
		return conf_ini_fail(rd,
				     "%s:%u: timeout: expected seconds (e.g. 5, 2.5, 500ms) from 1ms to 600, got '%s'",
				     rd->path, rd->line, shown(rd, value));
	else if (k == 5 && value[0] == '/') {
		c->log = LOG_TARGET_FILE;
		free(c->log_file);
		c->log_file = xstrdup(value);
	} else if (k == 5 && parse_log(value, &c->log) < 0)
		return conf_ini_fail(rd, "%s:%u: log: expected syslog, stderr, none or an absolute file path, got '%s'",
				     rd->path, rd->line, shown(rd, value));
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

static const char *file_type(mode_t mode)
{
	return S_ISDIR(mode)                    ? "a directory"
	       : S_ISFIFO(mode)                 ? "a FIFO"
	       : S_ISSOCK(mode)                 ? "a socket"
	       : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
						: "it";
}

/* The checks that come before reading a byte: type (no open(2) of a FIFO or a device), trust, size. */
static int open_checked(const char *path, int *out, struct err *e)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ENOENT : err_set(e, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "%s: refusing %s: not a regular file", path, file_type(st.st_mode));
	r = trust_dirs(path, e);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (r = trust_stat(&st, path, S_IFREG, e)) < 0)
		return r < 0 ? r : err_set(e, -errno, "%s: %s", path, strerror(errno));
	if ((size_t)st.st_size > CONF_FILE_MAX)
		return err_set(e, -EFBIG, "%s: refusing a config file of %lld bytes (at most %u)", path,
			       (long long)st.st_size, CONF_FILE_MAX);
	*out = fd;
	fd = -1;
	return st.st_mode & S_IROTH ? 1 : 0;
}

int conf_ini_open(struct ini_reader *rd, const char *path, struct err *e)
{
	_cleanup_close_ int fd = -1;
	size_t len;
	const char *nul;
	int r = open_checked(path, &fd, e);

	if (r < 0)
		return r;
	rd->world_readable = r > 0;
	rd->path = path;
	rd->e = e;
	r = read_all_fd(fd, CONF_FILE_MAX + 1, &rd->text, &len);
	if (r < 0)
		return err_set(e, r, "%s: %s", path, r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	rd->pos = rd->text;
	rd->end = rd->text + len;
	nul = memchr(rd->text, '\0', len);
	if (nul) {
		unsigned line = 1;

		for (const char *c = rd->text; c < nul; c++)
			line += *c == '\n';
		conf_ini_close(rd);
		return err_set(e, -EINVAL, "%s:%u: refusing a NUL byte (a config file is text)", path, line);
	}
	if (len >= 3 && memcmp(rd->text, "\xEF\xBB\xBF", 3) == 0)
		rd->pos += 3; /* a UTF-8 byte order mark, as some editors write */
	return 0;
}

void conf_ini_close(struct ini_reader *rd)
{
	free(rd->text);
	rd->text = NULL;
	rd->pos = rd->end = NULL;
}

int conf_load(const char *path, bool must_exist, struct hookd_conf *out, struct err *e)
{
	struct conf_parse p = { .rd = { .e = e, .on_section = no_sections }, .c = out };
	int r;

	if (!path)
		path = HOOKD_CONF_FILE;
	conf_defaults(out);
	r = conf_ini_open(&p.rd, path, e);
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
	if (r < 0 && !p.rd.world_readable)
		strncat(e->msg, " (text from the file is not shown: it is not world-readable)",
			sizeof(e->msg) - strlen(e->msg) - 1);
	conf_ini_close(&p.rd);
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

int conf_vm_name_check(const char *vm, struct err *e)
{
	size_t n = strlen(vm);

	if (!n)
		return err_set(e, -EINVAL, "the VM name is empty");
	if (n > CONF_VM_NAME_MAX)
		return err_set(e, -EINVAL, "refusing a VM name longer than %u bytes", CONF_VM_NAME_MAX);
	for (const char *c = vm; *c; c++)
		if (iscntrl((unsigned char)*c))
			return err_set(e, -EINVAL, "refusing a VM name with a control character (byte %zu)",
				       (size_t)(c - vm) + 1);
	/* the name becomes <hooks_dir>/<vm>.ini and, without a uuid, <state_dir>/<vm>.journal */
	if (strchr(vm, '/') || !strcmp(vm, ".") || !strcmp(vm, ".."))
		return err_set(e, -EINVAL, "refusing the VM name '%s': it must not contain '/' or be '.' or '..'", vm);
	return 0;
}

char *conf_vm_ini_path(const struct hookd_conf *c, const char *vm)
{
	if (conf_vm_name_check(vm, NULL) < 0)
		return NULL;
	return xasprintf("%s/%s.ini", c->hooks_dir, vm);
}
