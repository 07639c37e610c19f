#include "aaglob.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* apparmor_parser's own bounds: variables nest a few levels, {} at most 50 deep. */
#define MAX_VAR_DEPTH 8
#define MAX_ALT_DEPTH 50

static const struct aaglob_var *var_find(const struct aaglob_vars *vars, const char *name, size_t len)
{
	for (size_t i = 0; vars && i < vars->n; i++)
		if (strlen(vars->v[i].name) == len && strncmp(vars->v[i].name, name, len) == 0)
			return &vars->v[i];
	return NULL;
}

static bool expand_into(FILE *out, const char *pat, const struct aaglob_vars *vars, unsigned depth);

/* Writes @{name}'s values as one alternation "{v1,v2}", each value expanded in turn. */
static bool expand_var(FILE *out, const char *name, size_t len, const struct aaglob_vars *vars, unsigned depth)
{
	const struct aaglob_var *v = var_find(vars, name, len);

	if (!v || v->n_values == 0 || depth >= MAX_VAR_DEPTH)
		return false;
	fputc('{', out);
	for (size_t i = 0; i < v->n_values; i++) {
		if (i)
			fputc(',', out);
		if (!expand_into(out, v->values[i], vars, depth + 1))
			return false;
	}
	fputc('}', out);
	return true;
}

static bool expand_into(FILE *out, const char *pat, const struct aaglob_vars *vars, unsigned depth)
{
	for (const char *p = pat; *p; p++) {
		if (p[0] == '\\' && p[1]) {
			fputc(*p++, out);
			fputc(*p, out);
		} else if (p[0] == '@' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');

			if (!end || !expand_var(out, p + 2, (size_t)(end - p - 2), vars, depth))
				return false;
			p = end;
		} else {
			fputc(*p, out);
		}
	}
	return true;
}

/* The pattern with every variable replaced by an alternation of its values; NULL when one is unknown. */
static char *expand_vars(const char *pat, const struct aaglob_vars *vars)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = xopen_memstream(&buf, &len);
	bool ok;

	ok = expand_into(out, pat, vars, 0);
	fclose(out);
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Does c match the class that starts at p ('[')? *end gets the character after its ']' (NULL when
 * the class is not closed: then nothing matches). */
static bool class_match(const char *p, char c, const char **end)
{
	bool neg = p[1] == '^', hit = false;
	const char *q = p + (neg ? 2 : 1);

	*end = NULL;
	while (*q && *q != ']') {
		char lo = *q == '\\' && q[1] ? *++q : *q, hi = lo;

		if (q[1] == '-' && q[2] && q[2] != ']') {
			q += 2;
			hi = *q == '\\' && q[1] ? *++q : *q;
		}
		if (c >= lo && c <= hi)
			hit = true;
		q++;
	}
	if (*q != ']')
		return false;
	*end = q + 1;
	return hit != neg;
}

static bool match_at(const char *p, const char *s, char prev, unsigned alt_depth);

/* p is at a run of '*': one star stops at '/', two or more do not. A run that is a whole path
 * component must take at least one character, which is never '/'. */
static bool match_star(const char *p, const char *s, char prev, unsigned alt_depth)
{
	const char *q = p;
	bool dbl = p[1] == '*', need_one;

	while (*q == '*')
		q++;
	need_one = prev == '/' && (*q == '/' || *q == '\0');
	if (need_one && (*s == '\0' || *s == '/'))
		return false;
	for (const char *t = s;; t++) {
		if ((!need_one || t > s) && match_at(q, t, '*', alt_depth))
			return true;
		if (*t == '\0' || (!dbl && *t == '/'))
			return false;
	}
}

/* p is at '{': tries each alternative followed by the rest of the pattern. */
static bool match_alt(const char *p, const char *s, char prev, unsigned alt_depth)
{
	const char *starts[256], *q;
	size_t n = 0;
	int depth = 0;

	if (alt_depth >= MAX_ALT_DEPTH)
		return false;
	starts[n++] = p + 1;
	for (q = p + 1; *q; q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (*q == '{')
			depth++;
		else if (*q == '}' && depth-- == 0)
			break;
		else if (*q == ',' && depth == 0 && n < ARRAY_SIZE(starts))
			starts[n++] = q + 1;
	}
	if (*q != '}')
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *alt_end = i + 1 < n ? starts[i + 1] - 1 : q;
		_cleanup_free_ char *np = xasprintf("%.*s%s", (int)(alt_end - starts[i]), starts[i], q + 1);

		if (match_at(np, s, prev, alt_depth + 1))
			return true;
	}
	return false;
}

static bool match_at(const char *p, const char *s, char prev, unsigned alt_depth)
{
	const char *end;

	for (;;) {
		switch (*p) {
		case '\0': return *s == '\0';
		case '*': return match_star(p, s, prev, alt_depth);
		case '{': return match_alt(p, s, prev, alt_depth);
		case '?':
			if (*s == '\0' || *s == '/')
				return false;
			break;
		case '[':
			if (*s == '\0' || !class_match(p, *s, &end))
				return false;
			p = end;
			s++;
			prev = ']';
			continue;
		case '\\':
			if (p[1] == '\0' || p[1] != *s)
				return false;
			p++;
			break;
		case '/':
			if (prev == '/') { /* the parser folds repeated slashes */
				p++;
				continue;
			}
			/* fall through */
		default:
			if (*p != *s)
				return false;
			break;
		}
		prev = *p;
		p++;
		s++;
	}
}

bool aaglob_match(const char *pattern, const char *path, const struct aaglob_vars *vars)
{
	_cleanup_free_ char *p = expand_vars(pattern, vars);

	return p && match_at(p, path, '\0', 0);
}

bool aaglob_is_literal(const char *pattern)
{
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (strchr("*?[{", *p) || (p[0] == '@' && p[1] == '{'))
			return false;
	}
	return true;
}

void aaglob_vars_add(struct aaglob_vars *vars, const char *name, const char *value)
{
	struct aaglob_var *v = (struct aaglob_var *)var_find(vars, name, strlen(name));

	if (!v) {
		vars->v = xrealloc(vars->v, (vars->n + 1) * sizeof(*vars->v));
		v = &vars->v[vars->n++];
		*v = (struct aaglob_var){ .name = xstrdup(name) };
	}
	v->values = xrealloc(v->values, (v->n_values + 1) * sizeof(*v->values));
	v->values[v->n_values++] = xstrdup(value);
}

void aaglob_vars_free(struct aaglob_vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		for (size_t j = 0; j < vars->v[i].n_values; j++)
			free(vars->v[i].values[j]);
		free(vars->v[i].values);
		free(vars->v[i].name);
	}
	free(vars->v);
	*vars = (struct aaglob_vars){ 0 };
}
