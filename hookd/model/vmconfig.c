#include "vmconfig.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sysfs.h"

struct vm_parse {
	struct ini_reader rd; /* first: the reader callbacks get it and find the rest */
	struct vm_config *c;
	char **keys; /* the current section's keys so far: a repeated key is an error */
	size_t n_keys;
	size_t cap;    /* of c->sections */
	size_t *slots; /* open-addressing set of section index + 1 by (action, label): duplicates in O(1) */
	size_t n_slots;
};

static size_t section_hash(const struct action_ops *ops, const char *label)
{
	size_t h = (size_t)(uintptr_t)ops * 31u;

	for (const char *c = label ? label : ""; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	return h;
}

/* The slot holding (ops, label), or the empty slot where it would go. */
static size_t *section_slot(const struct vm_parse *p, const struct action_ops *ops, const char *label)
{
	size_t i = section_hash(ops, label) & (p->n_slots - 1);

	for (;; i = (i + 1) & (p->n_slots - 1)) {
		const struct vm_section *o = p->slots[i] ? &p->c->sections[p->slots[i] - 1] : NULL;

		if (!o || (o->ops == ops && strcmp(o->label ? o->label : "", label ? label : "") == 0))
			return &p->slots[i];
	}
}

/* Appends a section (growing the array and the set by doubling: loading stays linear). */
static struct vm_section *section_add(struct vm_parse *p, const struct action_ops *ops, const char *label)
{
	struct vm_config *c = p->c;

	if (c->n_sections == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		c->sections = xrealloc(c->sections, p->cap * sizeof(*c->sections));
	}
	if (2 * (c->n_sections + 1) > p->n_slots) {
		free(p->slots);
		p->n_slots = p->n_slots ? p->n_slots * 2 : 16;
		p->slots = xcalloc(p->n_slots, sizeof(*p->slots));
		for (size_t i = 0; i < c->n_sections; i++)
			*section_slot(p, c->sections[i].ops, c->sections[i].label) = i + 1;
	}
	c->sections[c->n_sections] = (struct vm_section){ .ops = ops, .label = label ? xstrdup(label) : NULL };
	*section_slot(p, ops, label) = ++c->n_sections;
	return &c->sections[c->n_sections - 1];
}

static void forget_keys(struct vm_parse *p)
{
	for (size_t i = 0; i < p->n_keys; i++)
		free(p->keys[i]);
	free(p->keys);
	p->keys = NULL;
	p->n_keys = 0;
}

static int section_start(struct ini_reader *rd, const char *header)
{
	struct vm_parse *p = (struct vm_parse *)rd;
	struct vm_config *c = p->c;
	const struct action_ops *ops;
	const char *end = strchr(header, ']');
	_cleanup_free_ char *copy = NULL;
	struct vm_section *s;
	char *name, *label;
	size_t *slot;

	if (!end)
		return err_set(rd->e, -EINVAL, "%s:%u: unterminated section header", c->path, rd->line);
	copy = strndup(header, (size_t)(end - header));
	name = strstrip(copy);
	label = strpbrk(name, " \t");
	if (label) {
		*label++ = '\0';
		label = strstrip(label);
	}
	ops = action_find(name);
	if (!ops) {
		char known[256] = "";

		for (size_t i = 0; action_table[i]; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s[%s]", i ? ", " : "",
				 action_table[i]->name);
		return err_set(rd->e, -EINVAL, "%s:%u: unknown section [%s] (known: %s)", c->path, rd->line, name,
			       known);
	}
	if (label && !ops->repeatable)
		return err_set(rd->e, -EINVAL, "%s:%u: [%s] appears once and takes no name (got '%s')", c->path,
			       rd->line, name, label);
	if (label && (!label[0] || strchr(label, ':')))
		return err_set(rd->e, -EINVAL, "%s:%u: [%s NAME]: the name may not be empty or contain ':'", c->path,
			       rd->line, name);
	slot = p->n_slots ? section_slot(p, ops, label) : NULL;
	if (slot && *slot) {
		const struct vm_section *o = &c->sections[*slot - 1];

		return err_set(rd->e, -EINVAL, "%s:%u: duplicate section [%s%s%s] (first at line %u)%s", c->path,
			       rd->line, name, label ? " " : "", label ? label : "", o->line,
			       ops->repeatable ? "; name each one: [exec NAME]" : "");
	}
	s = section_add(p, ops, label);
	s->line = rd->line;
	s->data = xcalloc(1, ops->data_size);
	ops->init(s->data);
	forget_keys(p);
	return 0;
}

static int vm_handler(void *user, const char *section, const char *name, const char *value)
{
	struct vm_parse *p = user;
	struct ini_reader *rd = &p->rd;
	struct vm_config *c = p->c;
	struct vm_section *s;
	struct err ke;
	int r;

	if (!section[0] || c->n_sections == 0)
		return conf_ini_fail(rd, "%s:%u: '%s' outside of any section", c->path, rd->line, name);
	s = &c->sections[c->n_sections - 1];
	for (size_t i = 0; i < p->n_keys; i++)
		if (strcmp(p->keys[i], name) == 0)
			return conf_ini_fail(rd, "%s:%u: '%s' is set twice in [%s]", c->path, rd->line, name,
					     s->ops->name);
	p->keys = xrealloc(p->keys, (p->n_keys + 1) * sizeof(*p->keys));
	p->keys[p->n_keys++] = xstrdup(name);
	r = s->ops->set(s->data, name, value, &ke);
	if (r == -ENOENT)
		return conf_ini_fail(rd, "%s:%u: unknown key '%s' in [%s]", c->path, rd->line, name, s->ops->name);
	if (r < 0)
		return conf_ini_fail(rd, "%s:%u: [%s] %s: %s", c->path, rd->line, s->ops->name, name, ke.msg);
	return 1;
}

static int vm_finish(struct vm_config *c, struct err *e)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		struct vm_section *s = &c->sections[i];
		int r = s->ops->finish ? s->ops->finish(s->data, e) : 0;

		if (r < 0)
			return err_prefix(e, r, "%s:%u: [%s]: ", c->path, s->line, s->ops->name);
	}
	return 0;
}

int vmconfig_load(const char *path, struct vm_config **out, struct err *e)
{
	struct vm_config *c;
	struct vm_parse p = { .rd = { .on_section = section_start } };
	int r = conf_ini_open(&p.rd, path, e);

	if (r < 0)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	p.c = c;
	r = conf_ini_parse(&p.rd, vm_handler, &p, "[section] or 'key = value'");
	conf_ini_close(&p.rd);
	forget_keys(&p);
	free(p.slots);
	if (r < 0) {
		vmconfig_free(c);
		return r;
	}
	r = vm_finish(c, e);
	if (r < 0) {
		vmconfig_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void vmconfig_free(struct vm_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_sections; i++) {
		if (c->sections[i].ops->free_data)
			c->sections[i].ops->free_data(c->sections[i].data);
		free(c->sections[i].data);
		free(c->sections[i].label);
	}
	free(c->sections);
	free(c->path);
	free(c);
}

int vmconfig_list_vms(const char *hooks_dir, struct strv *vms)
{
	char **names;
	size_t n;
	int r = sysfs_list("", hooks_dir, &names, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (l > 4 && strcmp(names[i] + l - 4, ".ini") == 0)
			strv_add(vms, xasprintf("%.*s", (int)(l - 4), names[i]));
	}
	sysfs_list_free(names, n);
	return 0;
}
