#include "pciaddr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* 1..max_digits hex digits, value <= max. Hand-rolled because strtoul takes signs, blanks
 * and "0x", none of which belong in a sysfs-style address. */
static int parse_hex(const char **pp, unsigned max_digits, unsigned max, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0, n = 0;

	for (; isxdigit((unsigned char)*p); p++, n++) {
		if (n == max_digits)
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10);
	}
	if (n == 0 || v > max)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static int expect(const char **pp, char c)
{
	if (**pp != c)
		return -EINVAL;
	(*pp)++;
	return 0;
}

int pciaddr_parse(const char *s, struct pciaddr *out)
{
	struct pciaddr a = { 0 };
	const char *p = s;
	int colons = 0;

	if (!s)
		return -EINVAL;
	/* Two colons before the '.' means a domain is present. */
	for (const char *q = s; *q && *q != '.'; q++)
		colons += *q == ':';
	/* sysfs pads domains to 4 digits and prints more only for 0x10000 and up: "00000" is no name */
	if (colons == 2 &&
	    (parse_hex(&p, 8, 0xffffffff, &a.domain) < 0 || expect(&p, ':') < 0 || (p - s > 5 && s[0] == '0')))
		return -EINVAL;
	if (colons != 1 && colons != 2)
		return -EINVAL;
	if (parse_hex(&p, 2, 0xff, &a.bus) < 0 || expect(&p, ':') < 0 || parse_hex(&p, 2, 0x1f, &a.slot) < 0 ||
	    expect(&p, '.') < 0 || parse_hex(&p, 1, 7, &a.function) < 0 || *p != '\0')
		return -EINVAL;
	*out = a;
	return 0;
}

char *pciaddr_format(const struct pciaddr *a, char *buf)
{
	snprintf(buf, PCIADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain, a->bus & 0xff, a->slot & 0x1f, a->function & 7);
	return buf;
}

bool pciaddr_equal(const struct pciaddr *a, const struct pciaddr *b)
{
	return pciaddr_same_slot(a, b) && a->function == b->function;
}

bool pciaddr_same_slot(const struct pciaddr *a, const struct pciaddr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

bool pciaddr_list_has(const struct pciaddr_list *l, const struct pciaddr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (pciaddr_equal(&l->v[i], a))
			return true;
	return false;
}

void pciaddr_list_add(struct pciaddr_list *l, const struct pciaddr *a)
{
	if (pciaddr_list_has(l, a))
		return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = *a;
}

int pciaddr_list_parse(const char *value, struct pciaddr_list *l, struct err *e)
{
	_cleanup_strv_ struct strv items = { 0 };

	l->n = 0;
	strv_split_list(&items, value);
	for (size_t i = 0; i < items.n; i++) {
		struct pciaddr a;

		if (pciaddr_parse(items.v[i], &a) < 0)
			return err_set(e, -EINVAL,
				       "'%s' is not a PCI address (expected dddd:bb:ss.f, e.g. 0000:01:00.0)",
				       items.v[i]);
		pciaddr_list_add(l, &a);
	}
	return 0;
}

void pciaddr_list_free(struct pciaddr_list *l)
{
	free(l->v);
	*l = (struct pciaddr_list){ 0 };
}
