/* AppArmor path globs, matched the way apparmor_parser compiles them (parser_regex.c), so that hookd
 * can tell whether a profile's file rule covers a path:
 *   *      any characters except '/'        **     any characters, '/' included
 *   ?      one character except '/'         [..]   a character class, [^..] its complement
 *   {a,b}  alternatives (nested, may be empty: {usr/,})
 *   \c     the character c                  @{VAR} a variable: each of its values is an alternative
 * A * or ** that is a whole path component (alone after a '/', before the next '/' or the end)
 * matches at least one character, so "/usr/sbin/" "*" never matches the directory /usr/sbin/ itself;
 * repeated slashes count as one. */
#ifndef HOOKD_AAGLOB_H
#define HOOKD_AAGLOB_H

#include <stdbool.h>
#include <stddef.h>

/* A policy variable, @{name} = values... (with += appended). */
struct aaglob_var {
	char *name;
	char **values;
	size_t n_values;
};

struct aaglob_vars {
	struct aaglob_var *v;
	size_t n;
};

/* Does path match pattern? A variable that is not defined in vars (may be NULL) matches nothing. */
bool aaglob_match(const char *pattern, const char *path, const struct aaglob_vars *vars);
/* True when pattern has no glob or variable: AppArmor lets such an exact rule's exec mode win over
 * any glob rule that also matches. */
bool aaglob_is_literal(const char *pattern);
/* Adds values to variable name (creating it): `@{name}=...` and `@{name}+=...` both append. */
void aaglob_vars_add(struct aaglob_vars *vars, const char *name, const char *value);
void aaglob_vars_free(struct aaglob_vars *vars);

#endif
