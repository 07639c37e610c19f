#include "domain.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

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

/* Decimal element text or attribute: surrounding blanks and a leading '+' allowed (strtoull's
 * reading, which libvirt's virXPathULongLong and virStrToLong_* use). */
static int parse_dec(char *s, unsigned long long *out)
{
	char *p = strstrip(s);

	return parse_uint(p + (*p == '+'), out);
}

/* A numeric attribute as libvirt's virXMLPropUInt reads it (src/util/virxml.c -> virStrToLong_uip,
 * src/util/virstring.c): strtoul with leading blanks and a '+' allowed, no '-', nothing after the
 * number. Base 0 for PCI addresses ("0x1f", "31", "037"), 10 for vcpu=. */
static int parse_attr_uint(const char *s, int base, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	const char *p = s;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
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
static int scaled_kib(const xmlNode *n, const char *what, char *value, const char *unit, unsigned long long *kib,
		      struct err *e)
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
static int cpuset_attr(const xmlNode *n, const char *name, struct cpuset *set, bool *present, struct err *e)
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
		return node_err(e, n, "%s='%s': number out of range (limit %d)", name, shown(v, b), CPUSET_MAX - 1);
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

/* As libvirt's virUUIDParse (src/util/viruuid.c): blanks around it, and '-' or ' ' between the
 * hex pairs, are skipped; any case. Stored canonical (lower-case, hyphenated): the journal's
 * file name is built from it. */
static int uuid_hex(const char *p, char hex[static 33])
{
	size_t k = 0;

	while (isspace((unsigned char)*p))
		p++;
	while (k < 32) {
		if (*p == '-' || *p == ' ') {
			p++;
			continue;
		}
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		hex[k++] = (char)tolower((unsigned char)*p++);
		hex[k++] = (char)tolower((unsigned char)*p++);
	}
	while (isspace((unsigned char)*p))
		p++;
	hex[32] = '\0';
	return *p ? -EINVAL : 0;
}

static int parse_uuid(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *n = child(root, "uuid");
	_cleanup_free_ char *v = NULL;
	char hex[33], b[48];
	int r;

	if (!n)
		return 0;
	r = elem_text(n, &v, e);
	if (r < 0)
		return r;
	if (v[strspn(v, " \t\r\n")] == '\0') /* libvirt treats an empty <uuid/> as absent */
		return 0;
	if (uuid_hex(v, hex) < 0)
		return node_err(e, n, "'%s' is not a UUID", shown(v, b));
	d->uuid = xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

/* <vcpu current='N'>: libvirt refuses N above the maximum ("maxvcpus must not be less than current
 * vcpus", src/conf/domain_conf.c virDomainVcpuParse). Only checked: hookd acts on the maximum. */
static int parse_vcpu_current(const struct domain *d, const xmlNode *n, struct err *e)
{
	_cleanup_free_ char *v = NULL;
	unsigned long long cur;
	char b[48];
	int r = attr(n, "current", &v, e);

	if (r < 0 || !v)
		return r;
	if (parse_attr_uint(v, 10, UINT_MAX, &cur) < 0)
		return node_err(e, n, "bad current='%s'", shown(v, b));
	if (cur > d->vcpus)
		return node_err(e, n, "current='%llu' is more than the %u vCPUs", cur, d->vcpus);
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
		r = parse_vcpu_current(d, n, e);
		if (r < 0)
			return r;
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
		/* libvirt: "Memory size must be specified via <memory> or in the <numa> configuration"
		 * (src/conf/domain_conf.c, virDomainDefPostParseMemory) */
		if (d->memory_kib == 0)
			return node_err(e, n, "memory size is 0");
		d->has_memory = true;
	}
	return 0;
}

/* As libvirt's virPCIDeviceAddressParseXML (src/conf/device_conf.c): every attribute is optional
 * and defaults to 0; only bus, slot and function are bounded (virPCIDeviceAddressIsValid,
 * src/util/virpci.c: the domain is 32 bits, and sysfs names domains 0x10000 and up with 5
 * digits). An address whose domain, bus and slot are all 0 (virPCIDeviceAddressIsEmpty) would
 * take the host bridge: refused. */
static int parse_source_address(const xmlNode *n, struct pciaddr *out, struct err *e)
{
	struct {
		const char *name;
		unsigned max;
		unsigned *val;
	} f[] = { { "domain", 0xffffffff, &out->domain },
		  { "bus", 0xff, &out->bus },
		  { "slot", 0x1f, &out->slot },
		  { "function", 7, &out->function } };

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		_cleanup_free_ char *v = NULL;
		unsigned long long x = 0;
		char b[48];
		int r = attr(n, f[i].name, &v, e);

		if (r < 0)
			return r;
		if (v && parse_attr_uint(v, 0, f[i].max, &x) < 0)
			return node_err(e, n, "bad %s='%s' (limit %#x)", f[i].name, shown(v, b), f[i].max);
		*f[i].val = (unsigned)x;
	}
	if (!out->domain && !out->bus && !out->slot)
		return node_err(e, n, "PCI address %04x:%02x:%02x.%x is empty (domain, bus and slot all 0)",
				out->domain, out->bus, out->slot, out->function);
	return 0;
}

/* 1 for <hostdev mode='subsystem' type='pci'>, 0 for the other kinds libvirt knows (not ours),
 * -EINVAL for a mode or type libvirt does not know: reported rather than skipped, or a typo in
 * type='pci' would leave the device on the host silently. The lists are libvirt's
 * virDomainHostdevMode, virDomainHostdevSubsysType and virDomainHostdevCapsType
 * (src/conf/domain_conf.c); the mode defaults to subsystem. */
static int known_hostdev(const xmlNode *n, const char *mode, const char *type, struct err *e)
{
	static const char *const subsys[] = { "usb", "pci", "scsi", "scsi_host", "mdev" };
	static const char *const caps[] = { "storage", "misc", "net" };
	const char *const *known = subsys;
	size_t n_known = ARRAY_SIZE(subsys);
	char b[48];

	if (mode && strcmp(mode, "subsystem") && strcmp(mode, "capabilities"))
		return node_err(e, n, "unknown mode='%s' (subsystem or capabilities)", shown(mode, b));
	if (mode && !strcmp(mode, "capabilities"))
		known = caps, n_known = ARRAY_SIZE(caps);
	if (!type)
		return node_err(e, n, "missing type=");
	for (size_t i = 0; i < n_known; i++)
		if (!strcmp(type, known[i]))
			return known == subsys && !strcmp(type, "pci");
	return node_err(e, n, "unknown %s type='%s'", known == subsys ? "subsystem" : "capabilities", shown(type, b));
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
	r = known_hostdev(n, mode, type, e);
	if (r <= 0)
		return r;
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

/* Every ./devices/hostdev, in every <devices> element, as libvirt's XPath reads them. */
static int parse_devices(struct domain *d, const xmlNode *root, struct err *e)
{
	for (const xmlNode *devs = root->children; devs; devs = devs->next) {
		if (!is_elem(devs, "devices"))
			continue;
		for (const xmlNode *c = devs->children; c; c = c->next) {
			int r;

			if (!is_elem(c, "hostdev"))
				continue;
			r = parse_hostdev(d, c, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void __attribute__((format(printf, 2, 3))) domain_warn(struct domain *d, const char *fmt, ...)
{
	va_list ap;
	char *w;

	va_start(ap, fmt);
	if (vasprintf(&w, fmt, ap) < 0)
		abort();
	va_end(ap);
	d->warnings = xrealloc(d->warnings, (d->n_warnings + 1) * sizeof(*d->warnings));
	d->warnings[d->n_warnings++] = w;
}

/* A pin for a vCPU the domain does not have (no <vcpu> means 1) is dropped with a warning, as
 * libvirt does ("Ignoring vcpupin for missing vcpus", src/conf/domain_conf.c
 * virDomainVcpuPinDefParseXML); two pins for one vCPU are an error there too. */
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
	if (parse_attr_uint(v, 10, UINT_MAX, &x) < 0)
		return node_err(e, n, "bad vcpu='%s'", shown(v, b));
	for (size_t i = 0; i < d->n_vcpupins; i++)
		if (d->vcpupins[i].vcpu == x)
			return node_err(e, n, "duplicate vcpupin for vcpu %llu", x);
	pin.vcpu = (unsigned)x;
	r = cpuset_attr(n, "cpuset", &pin.cpus, NULL, e);
	if (r < 0)
		return r;
	if (x >= (d->has_vcpus ? d->vcpus : 1)) {
		domain_warn(d, "line %ld: <vcpupin vcpu='%llu'> ignored: the domain has %u vCPU%s", xmlGetLineNo(n), x,
			    d->has_vcpus ? d->vcpus : 1, (d->has_vcpus ? d->vcpus : 1) == 1 ? "" : "s");
		return 0;
	}
	d->vcpupins = xrealloc(d->vcpupins, (d->n_vcpupins + 1) * sizeof(*d->vcpupins));
	d->vcpupins[d->n_vcpupins++] = pin;
	return 0;
}

static int cmp_pin(const void *a, const void *b)
{
	unsigned x = ((const struct domain_vcpupin *)a)->vcpu, y = ((const struct domain_vcpupin *)b)->vcpu;

	return x < y ? -1 : x > y;
}

static int parse_cputune_elem(struct domain *d, const xmlNode *tune, struct err *e)
{
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

/* Every ./cputune/vcpupin of every <cputune> (libvirt's XPath); listed by vCPU, as libvirt
 * writes them (it keeps pins in its per-vCPU array). */
static int parse_cputune(struct domain *d, const xmlNode *root, struct err *e)
{
	for (const xmlNode *t = root->children; t; t = t->next) {
		int r;

		if (!is_elem(t, "cputune"))
			continue;
		r = parse_cputune_elem(d, t, e);
		if (r < 0)
			return r;
	}
	if (d->n_vcpupins > 1)
		qsort(d->vcpupins, d->n_vcpupins, sizeof(*d->vcpupins), cmp_pin);
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

/* As libvirt (src/conf/domain_validate.c, virDomainDefMemtuneValidate): two page sizes on
 * overlapping nodesets, or two without a nodeset ("two master hugepages"), are errors: which size
 * backs a node would be undecided. */
static int check_page_nodesets(const struct domain *d, const xmlNode *hp, struct err *e)
{
	for (size_t i = 0; i < d->n_hugepages; i++)
		for (size_t j = 0; j < i; j++) {
			const struct domain_hugepage *a = &d->hugepages[j], *b = &d->hugepages[i];
			struct cpuset both = a->nodes;

			cpuset_and(&both, &b->nodes);
			if (cpuset_empty(&a->nodes) && cpuset_empty(&b->nodes))
				return node_err(e, hp,
						"pages of %llu KiB and %llu KiB both without nodeset=", a->size_kib,
						b->size_kib);
			if (!cpuset_empty(&both))
				return node_err(e, hp, "the nodesets of pages of %llu KiB and %llu KiB intersect",
						a->size_kib, b->size_kib);
		}
	return 0;
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
	return check_page_nodesets(d, hp, e);
}

/* With placement='auto' numad picks the nodes and libvirt ignores any nodeset=
 * (src/conf/numa_conf.c, virDomainNumatuneGetNodeset returns the automatic set): no nodes for us. */
static int parse_numatune(struct domain *d, const xmlNode *root, struct err *e)
{
	const xmlNode *nt = child(root, "numatune");
	const xmlNode *mem = nt ? child(nt, "memory") : NULL;
	_cleanup_free_ char *placement = NULL;
	int r;

	if (!mem)
		return 0;
	r = cpuset_attr(mem, "nodeset", &d->numatune_nodes, &d->has_numatune, e);
	if (r == 0)
		r = attr(mem, "placement", &placement, e);
	if (r == 0 && placement && !strcmp(placement, "auto")) {
		d->has_numatune = false;
		cpuset_clear(&d->numatune_nodes);
	}
	return r;
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
		parse_name,    parse_uuid,      parse_vcpu_memory, parse_devices,
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
	if (len > XML_MAX)
		return err_set(e, -EINVAL, "the domain XML is too large (%zu bytes, limit %zu)", len, XML_MAX);
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
	for (size_t i = 0; i < d->n_warnings; i++)
		free(d->warnings[i]);
	free(d->warnings);
	free(d);
}

/* ---- output ---- */
