#include "aapolicy.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "sysfs.h"

#define MAX_INCLUDE_DEPTH 16
#define STMT_MAX 8192
#define MAX_TOKENS 16

/* The reader's state across a file and everything it includes: statements end at a ',' outside
 * (), {} and quotes, or at a block's '{' / '}'; an include is read where it stands, at the same
 * block depth, so rules an abstraction brings into the profile's body count as the profile's. */
struct parser {
	const char *root, *dir;
	struct aapolicy *pol;
	int depth;       /* open blocks: 1 = a top-level profile's body */
	bool in_profile; /* in the wanted profile's own body */
	unsigned includes;
	/* the statement being read, and where it started */
	char stmt[STMT_MAX];
	size_t n;
	int alt, paren;
	bool quote;
	const char *file;
	unsigned line;
};

static void parse_text(struct parser *ps, const char *file, char *text);

static void stmt_reset(struct parser *ps)
{
	ps->n = 0;
	ps->stmt[0] = '\0';
	ps->alt = ps->paren = 0;
	ps->quote = false;
}

static void stmt_add(struct parser *ps, char c)
{
	if (ps->n + 1 < sizeof(ps->stmt)) {
		ps->stmt[ps->n++] = c;
		ps->stmt[ps->n] = '\0';
	}
}

/* Splits s in place on blanks (a quoted token keeps its blanks and loses its quotes). */
static size_t tokenize(char *s, char **tok, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		if (*s == '"') {
			tok[n++] = ++s;
			s += strcspn(s, "\"");
		} else {
			tok[n++] = s;
			s += strcspn(s, " \t");
		}
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static bool is_path(const char *t)
{
	return t[0] == '/' || (t[0] == '@' && t[1] == '{');
}
static bool is_perms(const char *t)
{
	return t[0] && strspn(t, "rwaxlkmiuUpPcC") == strlen(t);
}

/* The rule as written, on one line with blanks folded, for messages. */
static char *fold_blanks(const char *s)
{
	char *out = xmalloc(strlen(s) + 2), *o = out;

	for (s += strspn(s, " "); *s; s++)
		if (*s != ' ' || (s[1] && s[1] != ' '))
			*o++ = *s;
	*o++ = ',';
	*o = '\0';
	return out;
}

static void add_rule(struct parser *ps, char **tok, size_t n, const struct aarule *q)
{
	bool path_first = is_path(tok[0]);
	struct aarule *r;

	if ((n != 2 && !(n == 4 && strcmp(tok[2], "->") == 0)) ||
	    !(path_first ? is_perms(tok[1]) : is_perms(tok[0]) && is_path(tok[1])) ||
	    !strchr(path_first ? tok[1] : tok[0], 'x'))
		return;
	ps->pol->rules = xrealloc(ps->pol->rules, (ps->pol->n_rules + 1) * sizeof(*r));
	r = &ps->pol->rules[ps->pol->n_rules++];
	*r = *q;
	r->pattern = xstrdup(path_first ? tok[0] : tok[1]);
	r->perms = xstrdup(path_first ? tok[1] : tok[0]);
	r->target = n == 4 ? xstrdup(tok[3]) : NULL;
	r->text = xstrdup(q->text);
	r->file = xstrdup(q->file);
}

/* A statement of the profile's body: keeps it when it is a file rule with an x permission. */
static void parse_rule(struct parser *ps)
{
	_cleanup_free_ char *text = fold_blanks(ps->stmt);
	char *tok[MAX_TOKENS];
	size_t n = tokenize(ps->stmt, tok, MAX_TOKENS), i = 0;
	struct aarule q = { .line = ps->line, .text = text, .file = (char *)ps->file };

	for (; i < n; i++) {
		if (strcmp(tok[i], "audit") == 0)
			q.audit = true;
		else if (strcmp(tok[i], "deny") == 0)
			q.deny = true;
		else if (strcmp(tok[i], "owner") == 0)
			q.owner = true;
		else if (strcmp(tok[i], "other") == 0)
			q.other = true;
		else if (strcmp(tok[i], "allow") != 0 && strcmp(tok[i], "file") != 0 &&
			 strncmp(tok[i], "priority=", 9) != 0)
			break;
	}
	if (n - i >= 2)
		add_rule(ps, tok + i, n - i, &q);
}

/* A block's header ("profile libvirtd /usr/sbin/libvirtd flags=(...)", or "/usr/sbin/libvirtd
 * flags=(...)" for a profile named by its path) names the profile wanted? */
static bool header_names(char *header, const char *profile)
{
	char *tok[MAX_TOKENS];
	size_t n = tokenize(header, tok, MAX_TOKENS);

	if (n >= 2 && strcmp(tok[0], "profile") == 0)
		return strcmp(tok[1], profile) == 0;
	return n >= 1 && tok[0][0] == '/' && strcmp(tok[0], profile) == 0;
}

static void open_block(struct parser *ps)
{
	if (++ps->depth == 1)
		ps->in_profile = header_names(ps->stmt, ps->pol->profile);
	if (ps->in_profile)
		ps->pol->found = true;
	stmt_reset(ps);
}

static void end_statement(struct parser *ps)
{
	if (ps->depth == 1 && ps->in_profile)
		parse_rule(ps);
	stmt_reset(ps);
}

static void close_block(struct parser *ps)
{
	if (ps->n)
		end_statement(ps);
	if (ps->depth == 1)
		ps->in_profile = false;
	if (ps->depth > 0)
		ps->depth--;
	stmt_reset(ps);
}

/* `@{NAME}=v1 v2` or `@{NAME}+=v3`: the values of a variable (no trailing comma). */
static bool parse_variable(struct parser *ps, char *t)
{
	char *end = strchr(t, '}'), *eq, *tok[64];
	size_t n;

	if (t[0] != '@' || t[1] != '{' || !end)
		return false;
	eq = end + 1 + strspn(end + 1, " \t");
	if (*eq == '+')
		eq++;
	if (*eq != '=')
		return false;
	*end = '\0';
	n = tokenize(eq + 1, tok, ARRAY_SIZE(tok));
	for (size_t i = 0; i < n; i++)
		aaglob_vars_add(&ps->pol->vars, t + 2, tok[i]);
	return true;
}

static void include_dir(struct parser *ps, const char *abs)
{
	char **names;
	size_t n;

	if (sysfs_list(ps->root, abs, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", abs, names[i]);
		_cleanup_free_ char *text = NULL;
		size_t l = strlen(names[i]);

		/* as apparmor_parser: no hidden files, editor or package manager leftovers */
		if (names[i][0] == '.' || names[i][l - 1] == '~' || strstr(names[i], ".dpkg-") ||
		    strstr(names[i], ".rpm"))
			continue;
		if (sysfs_read(ps->root, p, &text) == 0)
			parse_text(ps, p, text);
	}
	sysfs_list_free(names, n);
}

static void include_file(struct parser *ps, const char *name, bool if_exists)
{
	_cleanup_free_ char *abs = name[0] == '/' ? xstrdup(name) : xasprintf("%s/%s", ps->dir, name);
	_cleanup_free_ char *text = NULL;
	int r = ps->includes < MAX_INCLUDE_DEPTH ? sysfs_read(ps->root, abs, &text) : -ELOOP;

	if (r == -EISDIR) {
		ps->includes++;
		include_dir(ps, abs);
		ps->includes--;
	} else if (r == 0) {
		ps->includes++;
		parse_text(ps, abs, text);
		ps->includes--;
	} else if (!if_exists) {
		ps->pol->missing = xrealloc(ps->pol->missing, (ps->pol->n_missing + 1) * sizeof(char *));
		ps->pol->missing[ps->pol->n_missing++] = xstrdup(abs);
	}
}

/* `#include <x>`, `include "x"`, `include if exists <x>` (t starts at the line's first non-blank).
 * Only includes where rules can matter are read: at top level (tunables) and in the profile's body. */
static bool try_include(struct parser *ps, const char *t)
{
	const char *p = t + (t[0] == '#'), *end;
	bool if_exists = false;
	char close;

	if (strncmp(p, "include", 7) != 0 || !strchr(" \t<\"", p[7]))
		return false;
	p += 7 + strspn(p + 7, " \t");
	if (strncmp(p, "if", 2) == 0 && strchr(" \t", p[2])) {
		p += 2 + strspn(p + 2, " \t");
		if (strncmp(p, "exists", 6) != 0)
			return false;
		if_exists = true;
		p += 6 + strspn(p + 6, " \t");
	}
	close = *p == '<' ? '>' : *p == '"' ? '"' : '\0';
	if (!close || !(end = strchr(p + 1, close)))
		return false;
	if (ps->depth == 0 || (ps->depth == 1 && ps->in_profile)) {
		_cleanup_free_ char *name = xasprintf("%.*s", (int)(end - p - 1), p + 1);

		include_file(ps, name, if_exists);
	}
	return true;
}

static void parse_char(struct parser *ps, const char *c)
{
	if (ps->quote) {
		ps->quote = *c != '"';
		stmt_add(ps, *c);
		return;
	}
	switch (*c) {
	case '"': ps->quote = true; break;
	case '(': ps->paren++; break;
	case ')': ps->paren--; break;
	case '{':
		/* a block opens with a '{' standing alone; anything else is an alternation */
		if (ps->paren == 0 && (ps->n == 0 || ps->stmt[ps->n - 1] == ' ') &&
		    (!c[1] || isspace((unsigned char)c[1]))) {
			open_block(ps);
			return;
		}
		ps->alt++;
		break;
	case '}':
		if (ps->alt == 0) {
			close_block(ps);
			return;
		}
		ps->alt--;
		break;
	case ',':
		if (ps->paren == 0 && ps->alt == 0) {
			end_statement(ps);
			return;
		}
		break;
	}
	stmt_add(ps, *c == '\t' ? ' ' : *c);
}

static void parse_line(struct parser *ps, const char *file, unsigned lineno, char *line)
{
	char *t = line + strspn(line, " \t");

	if (ps->n == 0 && (try_include(ps, t) || parse_variable(ps, t) || (t[0] == '$' && strchr(t, '='))))
		return;
	for (char *c = t; *c; c++) {
		if (!ps->quote && *c == '#' && (c == t || isspace((unsigned char)c[-1])))
			break;
		if (ps->n == 0) {
			if (isspace((unsigned char)*c))
				continue;
			ps->file = file;
			ps->line = lineno;
		}
		if (*c == '\\' && c[1]) {
			stmt_add(ps, *c++);
			stmt_add(ps, *c);
			continue;
		}
		parse_char(ps, c);
	}
	if (ps->n)
		stmt_add(ps, ' ');
}

static void parse_text(struct parser *ps, const char *file, char *text)
{
	char *line, *rest = text;
	unsigned lineno = 0;

	/* an include starts between statements and must end there: a file never continues its includer's */
	stmt_reset(ps);
	while ((line = strsep(&rest, "\n")))
		parse_line(ps, file, ++lineno, line);
	stmt_reset(ps);
}

int aapolicy_load(const char *root, const char *dir, const char *file, const char *profile, struct aapolicy **out,
		  struct err *e)
{
	_cleanup_free_ char *abs = xasprintf("%s/%s", dir, file);
	_cleanup_free_ char *text = NULL;
	struct parser *ps;
	int r = sysfs_read(root, abs, &text);

	if (r < 0)
		return err_set(e, r, "%s: %s", abs, strerror(-r));
	ps = xcalloc(1, sizeof(*ps));
	ps->root = root;
	ps->dir = dir;
	ps->pol = xcalloc(1, sizeof(*ps->pol));
	ps->pol->profile = xstrdup(profile);
	parse_text(ps, abs, text);
	*out = ps->pol;
	free(ps);
	return 0;
}

void aapolicy_free(struct aapolicy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].pattern);
		free(p->rules[i].perms);
		free(p->rules[i].target);
		free(p->rules[i].text);
		free(p->rules[i].file);
	}
	for (size_t i = 0; i < p->n_missing; i++)
		free(p->missing[i]);
	free(p->missing);
	free(p->rules);
	aaglob_vars_free(&p->vars);
	free(p->profile);
	free(p);
}
