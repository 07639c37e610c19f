/* hookd.conf: the global settings (where the per-VM INI files, the journals and the root are). */
#ifndef HOOKD_CONF_H
#define HOOKD_CONF_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG, LOG_TARGET_NONE, LOG_TARGET_FILE };

struct hookd_conf {
	char *path;          /* the file read, or NULL when defaults apply */
	char *root;          /* where /sys, /proc, /dev, /run are found; "/" on a real host */
	char *hooks_dir;     /* per-VM INI files */
	char *state_dir;     /* journals and the lock */
	char *chain;         /* a previous hook that `hookd install --chain` kept: run after hookd's own steps */
	unsigned timeout_ms; /* bound on every wait for the kernel */
	enum log_target log;
	char *log_file;     /* for LOG_TARGET_FILE: `log = /path` appends there */
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
/* The line reader both INI loaders hand to inih (ini_parse_stream), over the whole file read by
 * conf_ini_open. It counts lines, stops at the first error, refuses lines too long for inih's buffer,
 * strips indentation (so inih never sees a "continuation" line that would silently replace a value)
 * and reports [section] headers. */
struct ini_reader {
	const char *path;
	struct err *e;
	char *text;            /* the file, read whole */
	const char *pos, *end; /* what is left of it */
	unsigned line;
	bool failed;
	bool world_readable; /* else its text never appears in a message (`--conf /etc/shadow`) */
	int (*on_section)(struct ini_reader *rd, const char *header); /* after '['; may be NULL */
};
/* The most a config file may hold: an INI file is a few hundred bytes. */
#define CONF_FILE_MAX (1u << 20)
/* Reads path whole into rd: a regular file (checked before it is opened, and opened non-blocking: a
 * FIFO never blocks), trusted (trust.h), at most CONF_FILE_MAX bytes, without NUL bytes (file:line);
 * a leading UTF-8 BOM is skipped. -ENOENT without a message when missing. */
int conf_ini_open(struct ini_reader *rd, const char *path, struct err *e);
void conf_ini_close(struct ini_reader *rd);
char *conf_ini_read_line(char *str, int num, void *stream);
/* Records the first error of a parse (later ones are dropped) and returns 0 for inih. */
int conf_ini_fail(struct ini_reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs inih over rd with handler; returns 0 or -EINVAL with e->msg naming file:line. */
int conf_ini_parse(struct ini_reader *rd, int (*handler)(void *, const char *, const char *, const char *), void *user,
		   const char *expected);

/* A VM name hookd accepts (argv is not libvirt's promise): not empty, at most CONF_VM_NAME_MAX bytes,
 * no '/', not "." or "..", no control character. 0, or -EINVAL with the reason in e->msg. */
#define CONF_VM_NAME_MAX 200
int conf_vm_name_check(const char *vm, struct err *e);

#endif
