/* Small helpers shared by every module: errors with context, cleanup attributes. */
#ifndef HOOKD_UTIL_H
#define HOOKD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* One error message, produced once by the level that knows the user's context. */
struct err {
	char msg[1024];
};

/* Sets e->msg (if e is not NULL) and returns ret (a negative errno), for `return err_set(...)`. */
int err_set(struct err *e, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes e->msg with a context ("file:12: ") and returns ret. */
int err_prefix(struct err *e, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* malloc/strdup that abort on out-of-memory: hookd's data is tiny, and OOM mid-hook is not recoverable. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* open_memstream that aborts on out-of-memory: text built piece by piece (*buf is the caller's after fclose). */
FILE *xopen_memstream(char **buf, size_t *len);

/* A growable list of owned strings. */
struct strv {
	char **v;
	size_t n;
};
bool strv_has(const struct strv *s, const char *x);
/* Takes ownership of x. */
void strv_add(struct strv *s, char *x);
void strv_free(struct strv *s);
#define _cleanup_strv_ __attribute__((cleanup(strv_free)))
/* Appends each item of an INI list value ("a b", "a,b", "a, b": blanks and commas separate) to s. */
void strv_split_list(struct strv *s, const char *value);

/* Trims leading and trailing white space in place; returns s. */
char *strstrip(char *s);
/* s with '%' and each byte of set written as %xx, so that a field never holds them (journal fields:
 * tab and newline; shared baseline names: '/', ':' and '.'). Caller frees. */
char *pct_escape(const char *s, const char *set);
/* Decodes every %xx of s in place; -EINVAL (s undefined) when a '%' is not followed by two hex digits. */
int pct_unescape(char *s);
/* yes/no, true/false, on/off, 1/0; -EINVAL with "expected yes or no" in e->msg otherwise. */
int parse_bool(const char *s, bool *out, struct err *e);
/* Parses a whole unsigned decimal number; -EINVAL on anything else. */
int parse_uint(const char *s, unsigned long long *out);
/* A size: "8G", "512M", "2048k", "1GiB" (k, M, G, T; any case; "B" or "iB" may follow); a bare number
 * counts bare_unit bytes. In bytes; -EINVAL for anything else or past 2^64. */
int parse_size(const char *s, unsigned long long bare_unit, unsigned long long *bytes);
/* Reads all of fd up to max bytes into a NUL-terminated buffer; -EFBIG beyond max. */
int read_all_fd(int fd, size_t max, char **out, size_t *len);
/* The largest domain XML any of hookd's programs accepts (stdin, --xml, the parser): libvirt's are
 * a few kB; the bound keeps a runaway writer from filling memory. */
#define XML_MAX_MIB 64
#define XML_MAX ((size_t)XML_MAX_MIB << 20)
/* Why reading a domain XML failed: read_all_fd's -EFBIG names the limit; else strerror(-r). */
const char *xml_read_strerror(int r);
/* For each entry of dir that why() names a leftover (a reason; NULL: keep it): report it, and
 * unlink it when remove is set. A missing dir has none. */
int dir_leftovers(const char *dir, const char *(*why)(char *name, void *ctx), void *ctx, bool remove,
		  void (*report)(const char *path, const char *why, void *arg), void *arg);
/* Prints s as a JSON string literal, escaped. */
void json_string(FILE *out, const char *s);
/* Prints `, "key": "value"` (value escaped): the next member of an object already opened. */
void json_member(FILE *out, const char *key, const char *value);
/* Opens /dev/null on whichever of stdin, stdout, stderr is closed: a hook run with stdin closed reads
 * an empty input (release needs none), and no file hookd opens later can land on fd 0, 1 or 2. */
void std_fds_ensure(void);
/* Monotonic clock in milliseconds. */
long long now_ms(void);

#endif
