#include "cpuset.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "util.h"

void cpuset_clear(struct cpuset *s)
{
	memset(s->bits, 0, sizeof(s->bits));
}

void cpuset_add(struct cpuset *s, unsigned cpu)
{
	if (cpu < CPUSET_MAX)
		s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

static void cpuset_del(struct cpuset *s, unsigned cpu)
{
	if (cpu < CPUSET_MAX)
		s->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

bool cpuset_has(const struct cpuset *s, unsigned cpu)
{
	return cpu < CPUSET_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpuset_count(const struct cpuset *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(s->bits); i++)
		n += (unsigned)__builtin_popcountll(s->bits[i]);
	return n;
}

bool cpuset_empty(const struct cpuset *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->bits); i++)
		if (s->bits[i])
			return false;
	return true;
}

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* Reads decimal digits without strtoul: it would accept signs and leading blanks, and we
 * want -ERANGE (not a wrap) for a twenty-digit number. */
static int parse_num(const char **pp, unsigned *out)
{
	const char *p = *pp;
	unsigned long v = 0;
	bool big = false;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v >= CPUSET_MAX) {
			big = true;
			v = CPUSET_MAX;
		}
	}
	*pp = p;
	if (big)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

/* One item: "N", "N-M" or libvirt's "^N" (a range after '^' is an error there too). */
static int parse_item(const char **pp, struct cpuset *s)
{
	const char *p = skip_space(*pp);
	bool neg = false;
	unsigned lo, hi;
	int r;

	if (*p == '^') {
		neg = true;
		p++;
	}
	r = parse_num(&p, &lo);
	if (r < 0)
		return r;
	hi = lo;
	if (*p == '-' && !neg) {
		p++;
		r = parse_num(&p, &hi);
		if (r < 0)
			return r;
		if (hi < lo)
			return -EINVAL;
	}
	p = skip_space(p);
	if (*p != ',' && *p != '\0')
		return -EINVAL;
	for (unsigned c = lo; c <= hi; c++) {
		if (neg)
			cpuset_del(s, c);
		else
			cpuset_add(s, c);
	}
	*pp = p;
	return 0;
}

/* Items apply left to right, as in libvirt: "0-7,^3" is 0-2,4-7. A blank string is the
 * empty set (the kernel writes an empty cpuset file that way); callers that need a
 * non-empty set check cpuset_empty(). */
int cpuset_parse(const char *str, struct cpuset *out)
{
	struct cpuset s;
	const char *p = str;
	int r;

	if (!str)
		return -EINVAL;
	cpuset_clear(&s);
	if (*skip_space(p) == '\0') {
		*out = s;
		return 0;
	}
	for (;;) {
		r = parse_item(&p, &s);
		if (r < 0)
			return r;
		if (*p == '\0')
			break;
		p++; /* ',' */
	}
	*out = s;
	return 0;
}

char *cpuset_format(const struct cpuset *s, char *buf, size_t len)
{
	size_t used = 0;
	bool first = true;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned c = 0; c < CPUSET_MAX; c++) {
		unsigned hi = c;
		int n;

		if (!cpuset_has(s, c))
			continue;
		while (hi + 1 < CPUSET_MAX && cpuset_has(s, hi + 1))
			hi++;
		if (hi == c)
			n = snprintf(buf + used, len - used, "%s%u", first ? "" : ",", c);
		else
			n = snprintf(buf + used, len - used, "%s%u-%u", first ? "" : ",", c, hi);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* drop the partial item rather than print a wrong one */
			return buf;
		}
		used += (size_t)n;
		first = false;
		c = hi;
	}
	return buf;
}

void cpuset_print_json(const struct cpuset *s, FILE *out)
{
	bool first = true;

	fputc('[', out);
	for (unsigned c = 0; c < CPUSET_MAX; c++) {
		if (!cpuset_has(s, c))
			continue;
		fprintf(out, "%s%u", first ? "" : ",", c);
		first = false;
	}
	fputc(']', out);
}
