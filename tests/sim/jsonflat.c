/* sim-jsonflat: a strict JSON (RFC 8259) checker for tests, so they need neither python nor jq.
 * Reads one JSON document on stdin; exits 1 with the byte offset on any syntax error or trailing
 * garbage. Otherwise prints every scalar (and every empty array or object) as one line
 *   .groups[2].devices[0].driver="nvidia"
 * with strings as their raw JSON text, so a shell test can grep exact values. Test-only code. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s, *start;

static void fail(const char *what)
{
	fprintf(stderr, "sim-jsonflat: invalid JSON at byte %ld: %s\n", (long)(s - start), what);
	exit(1);
}

static void ws(void)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
}

/* Scans a string token; returns its raw text length including the quotes. */
static size_t string_token(void)
{
	const char *b = s;

	if (*s++ != '"')
		fail("expected a string");
	for (;; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			break;
		if (c == '\0' || c < 0x20)
			fail("unterminated string or raw control character");
		if (c != '\\')
			continue;
		c = (unsigned char)*++s;
		if (c == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
					fail("bad \\u escape");
			s += 4;
		} else if (!c || !strchr("\"\\/bfnrt", c))
			fail("bad escape");
	}
	s++;
	return (size_t)(s - b);
}

static void number_token(void)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		fail("bad number");
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			fail("bad fraction");
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			fail("bad exponent");
		while (*s >= '0' && *s <= '9')
			s++;
	}
}

static void value(char *path, size_t plen);

static void container(char *path, size_t plen, char close)
{
	size_t n = 0;

	s++;
	ws();
	if (*s == close) {
		s++;
		printf("%.*s=%s\n", (int)plen, path, close == ']' ? "[]" : "{}");
		return;
	}
	for (;; n++) {
		size_t l;

		if (close == '}') {
			const char *k = s;
			size_t kl = string_token();

			l = plen + (size_t)snprintf(path + plen, 4096 - plen, ".%.*s", (int)(kl - 2), k + 1);
			ws();
			if (*s++ != ':')
				fail("expected ':'");
		} else
			l = plen + (size_t)snprintf(path + plen, 4096 - plen, "[%zu]", n);
		if (l >= 4000)
			fail("nesting too deep");
		ws();
		value(path, l);
		ws();
		if (*s == ',') {
			s++;
			ws();
			continue;
		}
		if (*s++ != close)
			fail(close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
		return;
	}
}

static void value(char *path, size_t plen)
{
	const char *b = s;

	if (*s == '{' || *s == '[') {
		container(path, plen, *s == '{' ? '}' : ']');
		return;
	}
	if (*s == '"')
		string_token();
	else if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		s += 4;
	else if (!strncmp(s, "false", 5))
		s += 5;
	else
		number_token();
	printf("%.*s=%.*s\n", (int)plen, path, (int)(s - b), b);
}

int main(void)
{
	static char buf[1 << 22], path[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);

	if (n == sizeof(buf) - 1)
		fail("input too large");
	buf[n] = '\0';
	if (strlen(buf) != n)
		fail("NUL byte in input");
	s = start = buf;
	ws();
	value(path, 0);
	ws();
	if (*s)
		fail("trailing data after the document");
	return 0;
}
