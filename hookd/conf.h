/* hookd.conf: the global settings (where the per-VM INI files, the journals and the root are). */
#ifndef HOOKD_CONF_H
#define HOOKD_CONF_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG, LOG_TARGET_NONE, LOG_TARGET_FILE };

struct hookd_conf {
	char *path;        /* the file read, or NULL when defaults apply */
	char *root;        /* where /sys, /proc, /dev, /run are found; "/" on a real host */
	char *hooks_dir;   /* per-VM INI files */
	char *state_dir;   /* journals and the lock */
	char *chain;       /* a previous hook that `hookd install --chain` kept: run after hookd's own steps */
	unsigned timeout_ms; /* bound on every wait for the kernel */
	enum log_target log;
	char *log_file;    /* for LOG_TARGET_FILE: `log = /path` appends there */
	bool state_dir_set; /* else state_dir follows root: <root>/run/hookd */
};

/* Loads path (HOOKD_CONF_FILE when NULL). A missing file gives the defaults unless must_exist.
 * The hook executables pass $HOOKD_CONF: libvirtd runs hooks with only LC_ALL, PATH and HOME, so
 * that variable exists only where tests and benchmarks set it. */
int conf_load(const char *path, bool must_exist, struct hookd_conf *out, struct err *e);
void conf_free(struct hookd_conf *c);
/* Overrides root (the CLI's --root); a state_dir not set in the file follows it. */
void conf_set_root(struct hookd_conf *c, const char *root);
/* "<hooks_dir>/<vm>.ini"; NULL when vm is not a usable file name (empty, '/', "." or ".."). */
char *conf_vm_ini_path(const struct hookd_conf *c, const char *vm);
/* Joins the root prefix and an absolute path ("/sys/..."). */
char *conf_rooted(const struct hookd_conf *c, const char *abs_path);
/* The line reader both INI loaders hand to inih (ini_parse_stream). It counts lines, stops at the
 * first error, refuses lines too long for inih's buffer, strips indentation (so inih never sees a
 * "continuation" line that would silently replace a value) and reports [section] headers. */
struct ini_reader {
	FILE *f;
	const char *path;
	struct err *e;
	unsigned line;
	bool failed;
	int (*on_section)(struct ini_reader *rd, const char *header); /* after '['; may be NULL */
};
char *conf_ini_read_line(char *str, int num, void *stream);
/* Records the first error of a parse (later ones are dropped) and returns 0 for inih. */
int conf_ini_fail(struct ini_reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs inih over rd->f with handler; returns 0 or -EINVAL with e->msg naming file:line. */
int conf_ini_parse(struct ini_reader *rd, int (*handler)(void *, const char *, const char *, const char *),
		   void *user, const char *expected);

/* Opens a config file for reading after conf_check_owner; -ENOENT without a message when missing. */
int conf_open(const char *path, FILE **out, struct err *e);
/* hookd runs as root: refuses a config file owned by another user, or writable by group or others. */
int conf_check_owner(int fd, const char *path, struct err *e);

#endif
