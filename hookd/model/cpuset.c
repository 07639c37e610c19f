#include "cpuset.h"

#include "sysfs.h"

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
	p = skip_space(p);
	if (*p == '-' && !neg) {
		p = skip_space(p + 1);
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
		p = skip_space(p + 1); /* past ',': libvirt ends the list at a trailing comma */
		if (*p == '\0')
			break;
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

void cpuset_and(struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(a->bits); i++)
		a->bits[i] &= b->bits[i];
}

void cpuset_andnot(struct cpuset *a, const struct cpuset *b)
{
	for (size_t i = 0; i < ARRAY_SIZE(a->bits); i++)
		a->bits[i] &= ~b->bits[i];
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *b)
{
	struct cpuset t = *a;

	cpuset_andnot(&t, b);
	return cpuset_empty(&t);
}

unsigned cpuset_first(const struct cpuset *s)
{
	for (unsigned c = 0; c < CPUSET_MAX; c++)
		if (cpuset_has(s, c))
			return c;
	return CPUSET_MAX;
}

char *cpuset_to_list(const struct cpuset *s)
{
	char *buf = xmalloc(CPUSET_STRLEN);

	return cpuset_format(s, buf, CPUSET_STRLEN);
}

int cpuset_parse_mask(const char *str, struct cpuset *out)
{
	unsigned bit = 0;

	cpuset_clear(out);
	for (size_t i = strlen(str); i-- > 0;) {
		char ch = str[i];
		unsigned v;

		if (ch == ',' || ch == '\n' || ch == ' ')
			continue;
		if (ch >= '0' && ch <= '9')
			v = (unsigned)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			v = (unsigned)((ch | 0x20) - 'a' + 10);
		else
			return -EINVAL;
		for (unsigned b = 0; b < 4; b++, v >>= 1)
			if ((v & 1) && bit + b < CPUSET_MAX)
				cpuset_add(out, bit + b);
			else if ((v & 1))
				return -ERANGE;
		bit += 4;
	}
	return 0;
}

char *cpuset_to_mask(const struct cpuset *s, unsigned nbits)
{
	size_t groups = nbits ? (nbits + 31) / 32 : 1, len = 0;
	char *buf = xmalloc(groups * 9 + 1);

	for (size_t g = groups; g-- > 0;) {
		unsigned v = 0;

		for (unsigned b = 0; b < 32; b++)
			if (cpuset_has(s, (unsigned)g * 32 + b))
				v |= 1u << b;
		if (g == groups - 1) {
			unsigned top = nbits - (unsigned)g * 32, digits = top >= 32 || !nbits ? 8 : (top + 3) / 4;
			len += (size_t)sprintf(buf + len, "%0*x", (int)digits, v);
		} else {
			len += (size_t)sprintf(buf + len, ",%08x", v);
		}
	}
	return buf;
}

int cpuset_read(const char *root, const char *abs, struct cpuset *out)
{
	_cleanup_free_ char *s = NULL;
	int r = sysfs_read(root, abs, &s);

	return r < 0 ? r : cpuset_parse(s, out);
}
