#include "domain.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* The hook reads stdin with the same bound; libvirt's XML is a few KiB. */
#define DOMAIN_XML_MAX ((size_t)64 << 20)
/* Room for the longest list form of a CPU set ("0-1,3-4,...": under 4 characters a CPU). */

/* ---- XML access: our own getters, so that entity references are refused, never expanded ---- */

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name);
}

static const xmlNode *child(const xmlNode *parent, const char *name)
{
	for (const xmlNode *c = parent->children; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

static int node_err(struct err *e, const xmlNode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int node_err(struct err *e, const xmlNode *n, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(e, -EINVAL, "line %ld: <%s>: %s", xmlGetLineNo(n), (const char *)n->name, what);
}

/* A value quoted in a message: short, and no control characters to break the one stderr
 * line libvirt shows the user. */
static const char *shown(const char *v, char buf[static 48])
{
	size_t i;

	for (i = 0; i < 40 && v[i]; i++)
		buf[i] = iscntrl((unsigned char)v[i]) ? '?' : v[i];
	strcpy(buf + i, v[i] ? "..." : "");
	return buf;
}

/* Concatenates the text of a node list. An entity reference (the only thing left unexpanded
 * without XML_PARSE_NOENT) is refused rather than resolved: -EINVAL. */
static int list_text(const xmlNode *list, char **out)
{
	size_t len = 0;
	char *s = xstrdup("");

	for (const xmlNode *c = list; c; c = c->next) {
		size_t n;

		if (c->type == XML_ENTITY_REF_NODE || c->type == XML_ENTITY_NODE) {
			free(s);
			return -EINVAL;
		}
		if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
			continue;
		n = strlen((const char *)c->content);
		s = xrealloc(s, len + n + 1);
		memcpy(s + len, c->content, n + 1);
		len += n;
	}
	*out = s;
	return 0;
}

static int elem_text(const xmlNode *n, char **out, struct err *e)
{
	if (list_text(n->children, out) < 0)
		return node_err(e, n, "entity references are not allowed");
	return 0;
}

/* *out is NULL when the attribute is absent. DTD defaults are not applied (no DTDATTR). */
static int attr(const xmlNode *n, const char *name, char **out, struct err *e)
{
	*out = NULL;
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns || !xmlStrEqual(a->name, BAD_CAST name))
			continue;
		if (list_text(a->children, out) < 0)
			return node_err(e, n, "%s=: entity references are not allowed", name);
		return 0;
	}
	return 0;
}

/* ---- values ---- */

/* Decimal, surrounding blanks allowed (libvirt's XPath numbers tolerate them). */
static int parse_dec(char *s, unsigned long long *out)
{
	return parse_uint(strstrip(s), out);
}

/* libvirt reads PCI address attributes with strtoul base 0: "0x1f", "31" (and "037"). */
static int parse_base0(const char *s, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Bytes per unit, as libvirt's virScaleInteger: case-insensitive; b/byte/bytes; k..e and
 * KiB..EiB are powers of 1024; KB..EB powers of 1000; no unit = KiB. */
static int unit_scale(const char *unit, unsigned long long *scale)
{
	static const char prefixes[] = "kmgtpe";
	const char *p;
	unsigned long long base, s = 1;

	if (!unit || !*unit) {
		*scale = 1024;
		return 0;
	}
	if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes")) {
		*scale = 1;
		return 0;
	}
	p = strchr(prefixes, tolower((unsigned char)unit[0]));
	if (!p)
		return -EINVAL;
	if (unit[1] == '\0' || !strcasecmp(unit + 1, "ib"))
		base = 1024;
	else if (tolower((unsigned char)unit[1]) == 'b' && unit[2] == '\0')
		base = 1000;
	else
		return -EINVAL;
	for (const char *q = prefixes; q <= p; q++)
		s *= base;
	*scale = s;
	return 0;
}

/* value*unit -> KiB, rounded up as libvirt does; more than LLONG_MAX bytes is an error. */
static int scaled_kib(const xmlNode *n, const char *what, char *value, const char *unit,
		      unsigned long long *kib, struct err *e)
{
	unsigned long long v, scale;
	char b1[48], b2[48];

	if (parse_dec(value, &v) < 0)
		return node_err(e, n, "%s '%s' is not a number", what, shown(value, b1));
	if (unit_scale(unit, &scale) < 0)
		return node_err(e, n, "unknown unit='%s'", shown(unit, b2));
	if (v > (unsigned long long)LLONG_MAX / scale)
		return node_err(e, n, "%s %s %s is too large", what, shown(value, b1), unit);
	*kib = (v * scale + 1023) / 1024;
	return 0;
}

/* A non-empty CPU or node list in attribute name=; required unless present is given. */
static int cpuset_attr(const xmlNode *n, const char *name, struct cpuset *set, bool *present,
		       struct err *e)
{
	_cleanup_free_ char *v = NULL;
	char b[48];
	int r;

	r = attr(n, name, &v, e);
	if (r < 0)
		return r;
	if (present)
		*present = v != NULL;
	if (!v)
		return present ? 0 : node_err(e, n, "missing %s=", name);
	r = cpuset_parse(v, set);
	if (r == -ERANGE)
		return node_err(e, n, "%s='%s': number out of range (limit %d)", name, shown(v, b),
				CPUSET_MAX - 1);
	if (r < 0)
		return node_err(e, n, "%s='%s' is not a valid list", name, shown(v, b));
	if (cpuset_empty(set))
		return node_err(e, n, "%s='%s' is empty", name, shown(v, b));
	return 0;
}

/* ---- sections of the document ---- */

/* The name becomes a file name (<hooks_dir>/<name>.ini): refuse what libvirt refuses too. */
static int parse_name(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *n = child(root, "name");
	char b[48];
	int r;

	if (!n)
		return node_err(e, root, "no <name>");
	r = elem_text(n, &d->name, e);
	if (r < 0)
		return r;
	if (!d->name[0])
		return node_err(e, n, "empty name");
	if (strchr(d->name, '/') || strchr(d->name, '\n'))
		return node_err(e, n, "name '%s' contains '/' or a newline", shown(d->name, b));
	return 0;
}

/* Stored canonical (lower-case, hyphenated): the journal's file name is built from it. */
static int parse_uuid(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *n = child(root, "uuid");
	_cleanup_free_ char *v = NULL;
	char hex[33], b[48];
	const char *p;
	size_t k = 0;
	int r;

	if (!n)
		return 0;
	r = elem_text(n, &v, e);
	if (r < 0)
		return r;
	p = strstrip(v);
	if (!*p) /* libvirt treats an empty <uuid/> as absent */
		return 0;
	for (; *p && k < 32; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p))
			break;
		hex[k++] = (char)tolower((unsigned char)*p);
	}
	if (k != 32 || *p)
		return node_err(e, n, "'%s' is not a UUID", shown(v, b));
	hex[32] = '\0';
	d->uuid = xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

static int parse_vcpu_memory(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *n;
	char b[48];
	int r;

	n = child(root, "vcpu");
	if (n) {
		_cleanup_free_ char *v = NULL;
		unsigned long long x;

		r = elem_text(n, &v, e);
		if (r < 0)
			return r;
		if (parse_dec(v, &x) < 0 || x == 0 || x > UINT_MAX)
			return node_err(e, n, "'%s' is not a vCPU count", shown(v, b));
		d->has_vcpus = true;
		d->vcpus = (unsigned)x;
	}
	n = child(root, "memory");
	if (n) {
		_cleanup_free_ char *v = NULL, *unit = NULL;

		r = elem_text(n, &v, e);
		if (r >= 0)
			r = attr(n, "unit", &unit, e);
		if (r >= 0)
			r = scaled_kib(n, "memory", v, unit, &d->memory_kib, e);
		if (r < 0)
			return r;
		d->has_memory = true;
	}
	return 0;
}

static int parse_source_address(const xmlNode *n, struct pciaddr *out, struct err *e)
{
	struct {
		const char *name;
		unsigned max;
		unsigned *val;
	} f[] = { { "domain", 0xffff, &out->domain }, { "bus", 0xff, &out->bus },
		  { "slot", 0x1f, &out->slot }, { "function", 7, &out->function } };

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		_cleanup_free_ char *v = NULL;
		char b[48];
		int r = attr(n, f[i].name, &v, e);

		if (r < 0)
			return r;
		/* domain= is optional in libvirt; the others we insist on rather than silently
		 * take 0 and bind 0000:00:00.0, the host bridge. */
		if (!v && i == 0) {
			*f[i].val = 0;
			continue;
		}
		if (!v)
			return node_err(e, n, "missing %s=", f[i].name);
		if (parse_base0(v, f[i].max, f[i].val) < 0)
			return node_err(e, n, "bad %s='%s' (limit %#x)", f[i].name, shown(v, b), f[i].max);
	}
	return 0;
}

/* Appends one <hostdev mode='subsystem' type='pci'>; other hostdevs are not ours. */
static int parse_hostdev(struct domain *d, const xmlNode *n, struct err *e)
{
	_cleanup_free_ char *mode = NULL, *type = NULL, *managed = NULL;
	struct domain_hostdev h = { 0 };
	const xmlNode *src, *addr;
	char b[48];
	int r;

	if ((r = attr(n, "mode", &mode, e)) < 0 || (r = attr(n, "type", &type, e)) < 0 ||
	    (r = attr(n, "managed", &managed, e)) < 0)
		return r;
	/* libvirt's default mode is subsystem */
	if ((mode && strcmp(mode, "subsystem")) || !type || strcmp(type, "pci"))
		return 0;
	if (managed && strcmp(managed, "yes") && strcmp(managed, "no"))
		return node_err(e, n, "bad managed='%s' (yes or no)", shown(managed, b));
	h.managed = managed && !strcmp(managed, "yes");
	src = child(n, "source");
	addr = src ? child(src, "address") : NULL;
	if (!addr)
		return node_err(e, n, "PCI hostdev without <source><address>");
	r = parse_source_address(addr, &h.address, e);
	if (r < 0)
		return r;
	d->hostdevs = xrealloc(d->hostdevs, (d->n_hostdevs + 1) * sizeof(*d->hostdevs));
	d->hostdevs[d->n_hostdevs++] = h;
	return 0;
}

static int parse_devices(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *devs = child(root, "devices");

	if (!devs)
		return 0;
	for (const xmlNode *c = devs->children; c; c = c->next) {
		int r;

		if (!is_elem(c, "hostdev"))
			continue;
		r = parse_hostdev(d, c, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_vcpupin(struct domain *d, const xmlNode *n, struct err *e)
{
	_cleanup_free_ char *v = NULL;
	struct domain_vcpupin pin;
	unsigned long long x;
	char b[48];
	int r;

	r = attr(n, "vcpu", &v, e);
	if (r < 0)
		return r;
	if (!v)
		return node_err(e, n, "missing vcpu=");
	if (parse_dec(v, &x) < 0 || x > UINT_MAX)
		return node_err(e, n, "bad vcpu='%s'", shown(v, b));
	if (d->has_vcpus && x >= d->vcpus)
		return node_err(e, n, "vcpu='%llu' but the domain has %u vCPUs", x, d->vcpus);
	for (size_t i = 0; i < d->n_vcpupins; i++)
		if (d->vcpupins[i].vcpu == x)
			return node_err(e, n, "duplicate vcpupin for vcpu %llu", x);
	pin.vcpu = (unsigned)x;
	r = cpuset_attr(n, "cpuset", &pin.cpus, NULL, e);
	if (r < 0)
		return r;
	d->vcpupins = xrealloc(d->vcpupins, (d->n_vcpupins + 1) * sizeof(*d->vcpupins));
	d->vcpupins[d->n_vcpupins++] = pin;
	return 0;
}

static int parse_cputune(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *tune = child(root, "cputune");

	if (!tune)
		return 0;
	for (const xmlNode *c = tune->children; c; c = c->next) {
		int r = 0;

		if (is_elem(c, "vcpupin")) {
			r = parse_vcpupin(d, c, e);
		} else if (is_elem(c, "emulatorpin")) {
			if (d->has_emulatorpin)
				return node_err(e, c, "only one <emulatorpin> is allowed");
			r = cpuset_attr(c, "cpuset", &d->emulatorpin, NULL, e);
			d->has_emulatorpin = r >= 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_page(struct domain_hugepage *hp, const xmlNode *n, struct err *e)
{
	_cleanup_free_ char *size = NULL, *unit = NULL;
	int r;

	*hp = (struct domain_hugepage){ .has_size = true };
	if ((r = attr(n, "size", &size, e)) < 0 || (r = attr(n, "unit", &unit, e)) < 0)
		return r;
	if (!size)
		return node_err(e, n, "missing size=");
	r = scaled_kib(n, "size", size, unit, &hp->size_kib, e);
	if (r < 0)
		return r;
	if (hp->size_kib == 0)
		return node_err(e, n, "page size can't be zero");
	return cpuset_attr(n, "nodeset", &hp->nodes, &(bool){ false }, e);
}

/* One entry per <page>, or a single size-less one for a bare <hugepages/>. */
static int parse_hugepages(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *mb = child(root, "memoryBacking");
	const xmlNode *hp = mb ? child(mb, "hugepages") : NULL;

	if (!hp)
		return 0;
	d->has_hugepages = true;
	for (const xmlNode *c = hp->children; c; c = c->next) {
		int r;

		if (!is_elem(c, "page"))
			continue;
		d->hugepages = xrealloc(d->hugepages, (d->n_hugepages + 1) * sizeof(*d->hugepages));
		r = parse_page(&d->hugepages[d->n_hugepages], c, e);
		if (r < 0)
			return r;
		d->n_hugepages++;
	}
	if (d->n_hugepages == 0) {
		d->hugepages = xcalloc(1, sizeof(*d->hugepages));
		d->n_hugepages = 1;
	}
	return 0;
}

/* <numatune><memory placement='auto'/> has no nodeset: that is "none" for us. */
static int parse_numatune(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *nt = child(root, "numatune");
	const xmlNode *mem = nt ? child(nt, "memory") : NULL;

	if (!mem)
		return 0;
	return cpuset_attr(mem, "nodeset", &d->numatune_nodes, &d->has_numatune, e);
}

/* ---- document ---- */

struct first_error {
	bool set;
	int line;
	char msg[512];
};

#if LIBXML_VERSION >= 21200
static void collect_error(void *data, const xmlError *err)
#else
static void collect_error(void *data, xmlErrorPtr err)
#endif
{
	struct first_error *fe = ((xmlParserCtxt *)data)->_private;
	size_t n = 0;

	/* The first error says what went wrong; later ones are its echoes. */
	if (fe->set || err->level < XML_ERR_ERROR)
		return;
	fe->set = true;
	fe->line = err->line;
	/* one line of printable ASCII: libxml2 quotes the input's names and bytes raw, with newlines */
	for (const char *m = err->message ? err->message : "parse error"; *m && n < sizeof(fe->msg) - 1; m++)
		fe->msg[n++] = *m >= 0x20 && *m < 0x7f ? *m : *m == '\n' ? ' ' : '?';
	while (n && fe->msg[n - 1] == ' ')
		n--;
	fe->msg[n] = '\0';
}

static void no_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

/* No network, no DTD loading, no entity substitution, no DTD default attributes; errors are
 * collected (with their line) instead of going to stderr: the parser's own and those libxml2 raises
 * without a parser context (encoding, I/O), which would otherwise print lines of their own. */
static int read_xml(const char *xml, size_t len, xmlDoc **out, struct err *e)
{
	const int opts = XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_BIG_LINES;
	struct first_error fe = { 0 };
	xmlParserCtxt *ctxt;
	xmlDoc *doc;

	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return err_set(e, -ENOMEM, "cannot create an XML parser");
	ctxt->_private = &fe;
	ctxt->sax->serror = collect_error;
	xmlSetGenericErrorFunc(NULL, no_generic_error);
	xmlSetStructuredErrorFunc(ctxt, collect_error);
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, opts);
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlFreeParserCtxt(ctxt);
	if (!doc) {
		if (fe.set && fe.line > 0)
			return err_set(e, -EINVAL, "line %d: malformed XML: %s", fe.line, fe.msg);
		if (fe.set) /* an encoding or I/O error has no line */
			return err_set(e, -EINVAL, "malformed XML: %s", fe.msg);
		return err_set(e, -EINVAL, "malformed XML");
	}
	*out = doc;
	return 0;
}

static int parse_root(struct domain *d, const xmlNode *root, struct err *e)
{
	int (*const sections[])(struct domain *, const xmlNode *, struct err *) = {
		parse_name, parse_uuid, parse_vcpu_memory, parse_devices,
		parse_cputune, parse_hugepages, parse_numatune,
	};

	if (!is_elem(root, "domain"))
		return node_err(e, root, "the root element must be <domain>");
	/* in this order: vcpupin checks against the vCPU count */
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		int r = sections[i](d, root, e);

		if (r < 0)
			return r;
	}
	return 0;
}

int domain_parse(const char *xml, size_t len, struct domain **out, struct err *e)
{
	xmlDoc *doc = NULL;
	const xmlNode *root;
	struct domain *d;
	int r;

	if (!xml || len == 0)
		return err_set(e, -EINVAL, "the domain XML is empty");
	if (len > DOMAIN_XML_MAX)
		return err_set(e, -EINVAL, "the domain XML is too large (%zu bytes, limit %zu)", len,
			       DOMAIN_XML_MAX);
	r = read_xml(xml, len, &doc, e);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	if (!root) {
		xmlFreeDoc(doc);
		return err_set(e, -EINVAL, "the domain XML has no root element");
	}
	d = xcalloc(1, sizeof(*d));
	r = parse_root(d, root, e);
	xmlFreeDoc(doc);
	if (r < 0) {
		domain_free(d);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

void domain_free(struct domain *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->uuid);
	free(d->hostdevs);
	free(d->vcpupins);
	free(d->hugepages);
	free(d);
}

/* ---- output ---- */
